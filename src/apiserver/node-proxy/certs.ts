// Certificates for the API server ⇄ agent hop, all signed by the cluster CA
// in <data-dir>/tls: the API server's client certificate (the only identity
// the agents accept), and each agent's serving certificate — minted directly
// for the embedded agent, or signed from a CSR for an agent that joins.
import { webcrypto } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { APISERVER_CLIENT_CN, APISERVER_CLIENT_ORG } from '../../agent/streaming/types.ts';
import { daysFromNow, exportKeyPem, importKeyPem, KEY_ALGORITHM, serial, SIGNING_ALGORITHM } from '../certs.ts';

/** Client and node serving certificates last a year, as kubeadm's; renewed on start when within 30 days. */
const LEAF_VALIDITY_DAYS = 365;
const RENEW_BEFORE_DAYS = 30;

export type CertAndKey = { certPem: string; keyPem: string };
type Ca = { cert: x509.X509Certificate; key: webcrypto.CryptoKey };

async function loadCa(tlsDir: string): Promise<Ca> {
  return {
    cert: new x509.X509Certificate(readFileSync(join(tlsDir, 'ca.crt'), 'utf8')),
    key: await importKeyPem(readFileSync(join(tlsDir, 'ca.key'), 'utf8')),
  };
}

async function issue(args: {
  ca: Ca;
  subject: string;
  publicKey: webcrypto.CryptoKey;
  usage: 'client' | 'server';
  sans?: { dnsNames: string[]; ips: string[] };
}): Promise<x509.X509Certificate> {
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([args.usage === 'client' ? x509.ExtendedKeyUsage.clientAuth : x509.ExtendedKeyUsage.serverAuth]),
  ];
  if (args.sans) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension([
        ...args.sans.dnsNames.map((value) => ({ type: 'dns' as const, value })),
        ...args.sans.ips.map((value) => ({ type: 'ip' as const, value })),
      ]),
    );
  }
  return x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: args.subject,
    issuer: args.ca.cert.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: daysFromNow(LEAF_VALIDITY_DAYS),
    signingKey: args.ca.key,
    publicKey: args.publicKey,
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions,
  });
}

async function newKeys(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
}

function stillGood(certPath: string, keyPath: string): boolean {
  if (!existsSync(certPath) || !existsSync(keyPath)) return false;
  const cert = new x509.X509Certificate(readFileSync(certPath, 'utf8'));
  return cert.notAfter.getTime() > daysFromNow(RENEW_BEFORE_DAYS).getTime();
}

/** The API server's client certificate for calling agents (CN kube-apiserver-kubelet-client, clientAuth only). */
export async function ensureAgentClientCert(tlsDir: string): Promise<CertAndKey> {
  const certPath = join(tlsDir, 'apiserver-kubelet-client.crt');
  const keyPath = join(tlsDir, 'apiserver-kubelet-client.key');
  if (!stillGood(certPath, keyPath)) {
    const keys = await newKeys();
    const cert = await issue({ ca: await loadCa(tlsDir), subject: `CN=${APISERVER_CLIENT_CN}, O=${APISERVER_CLIENT_ORG}`, publicKey: keys.publicKey, usage: 'client' });
    writeFileSync(keyPath, await exportKeyPem(keys.privateKey), { mode: 0o600 });
    writeFileSync(certPath, cert.toString('pem'));
  }
  return { certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') };
}

export type NodeIdentity = { nodeName: string; ips: string[] };

/** A serving certificate (and new key) for an agent on this machine: the embedded agent's. */
export async function issueAgentServingCert(tlsDir: string, node: NodeIdentity): Promise<CertAndKey> {
  const keys = await newKeys();
  const cert = await issue({
    ca: await loadCa(tlsDir),
    subject: `CN=system:node:${node.nodeName}, O=system:nodes`,
    publicKey: keys.publicKey,
    usage: 'server',
    sans: { dnsNames: [node.nodeName], ips: node.ips },
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey) };
}

/**
 * Signs a joining agent's CSR (PKCS#10 PEM) for serving. The CSR proves
 * possession of the key; the names come from the caller (the node's
 * authenticated identity and its registered addresses), never from the CSR.
 */
export async function signAgentServingCsr(tlsDir: string, csrPem: string, node: NodeIdentity): Promise<string> {
  const csr = new x509.Pkcs10CertificateRequest(csrPem);
  if (!(await csr.verify())) throw new Error('certificate request signature does not verify');
  const publicKey = await csr.publicKey.export(KEY_ALGORITHM, ['verify']);
  const cert = await issue({
    ca: await loadCa(tlsDir),
    subject: `CN=system:node:${node.nodeName}, O=system:nodes`,
    publicKey,
    usage: 'server',
    sans: { dnsNames: [node.nodeName], ips: node.ips },
  });
  return cert.toString('pem');
}
