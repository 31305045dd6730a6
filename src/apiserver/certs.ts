// The cluster CA and the API server's serving certificate, made on first
// start and kept under <data-dir>/tls. ECDSA P-256: small and fast to make.
import { webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first
import * as x509 from '@peculiar/x509';

// Node's webcrypto is the standard Crypto; the cast bridges Node's and the DOM's type names.
x509.cryptoProvider.set(webcrypto as never);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

export const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' } as const;
export const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
/** Kubernetes' kubeadm CA lives ten years; skiff's too. */
const CA_VALIDITY_DAYS = 3650;
/** Serving certificates are renewed on start when older than this, or when names change. */
const SERVING_VALIDITY_DAYS = 365;

export type TlsMaterial = { caPem: string; certPem: string; keyPem: string };

export type ServingNames = { dnsNames: string[]; ips: string[] };

export async function exportKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN PRIVATE KEY-----\n${b64.trimEnd()}\n-----END PRIVATE KEY-----\n`;
}

export async function importKeyPem(pem: string): Promise<CryptoKey> {
  const b64 = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  return webcrypto.subtle.importKey('pkcs8', Buffer.from(b64, 'base64'), KEY_ALGORITHM, true, ['sign']);
}

export function daysFromNow(days: number): Date {
  return new Date(Date.now() + days * 86_400_000);
}

export function serial(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1');
}

async function createCa(): Promise<{ cert: x509.X509Certificate; keys: CryptoKeyPair }> {
  const keys = (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=skiff-ca@${Math.floor(Date.now() / 1000)}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: daysFromNow(CA_VALIDITY_DAYS),
    keys,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  return { cert, keys };
}

async function createServingCert(
  ca: { cert: x509.X509Certificate; privateKey: CryptoKey },
  names: ServingNames,
): Promise<{ cert: x509.X509Certificate; privateKey: CryptoKey }> {
  const keys = (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: 'CN=kube-apiserver',
    issuer: ca.cert.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: daysFromNow(SERVING_VALIDITY_DAYS),
    signingKey: ca.privateKey,
    publicKey: keys.publicKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...names.dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...names.ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
    ],
  });
  return { cert, privateKey: keys.privateKey };
}

function sansOf(cert: x509.X509Certificate): string[] {
  const ext = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return (ext?.names.items ?? []).map((n) => `${n.type}:${n.value}`).sort();
}

function wantedSans(names: ServingNames): string[] {
  return [...names.dnsNames.map((d) => `dns:${d}`), ...names.ips.map((i) => `ip:${i}`)].sort();
}

/** Loads or creates the CA and a serving certificate valid for `names`. */
export async function ensureTls(dir: string, names: ServingNames): Promise<TlsMaterial> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const paths = {
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    cert: join(dir, 'serving.crt'),
    key: join(dir, 'serving.key'),
  };
  let caCert: x509.X509Certificate;
  let caKey: CryptoKey;
  if (existsSync(paths.caCert) && existsSync(paths.caKey)) {
    caCert = new x509.X509Certificate(readFileSync(paths.caCert, 'utf8'));
    caKey = await importKeyPem(readFileSync(paths.caKey, 'utf8'));
  } else {
    const ca = await createCa();
    caCert = ca.cert;
    caKey = ca.keys.privateKey;
    writeFileSync(paths.caKey, await exportKeyPem(caKey), { mode: 0o600 });
    writeFileSync(paths.caCert, caCert.toString('pem'));
  }
  const current = existsSync(paths.cert) ? new x509.X509Certificate(readFileSync(paths.cert, 'utf8')) : undefined;
  const stillGood =
    current &&
    existsSync(paths.key) &&
    current.notAfter.getTime() > daysFromNow(30).getTime() &&
    sansOf(current).join(',') === wantedSans(names).join(',');
  if (!stillGood) {
    const serving = await createServingCert({ cert: caCert, privateKey: caKey }, names);
    writeFileSync(paths.key, await exportKeyPem(serving.privateKey), { mode: 0o600 });
    writeFileSync(paths.cert, serving.cert.toString('pem'));
  }
  return {
    caPem: readFileSync(paths.caCert, 'utf8'),
    certPem: readFileSync(paths.cert, 'utf8'),
    keyPem: readFileSync(paths.key, 'utf8'),
  };
}
