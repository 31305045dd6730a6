// TLS for the ingress: spec.tls hosts of served Ingresses, each with the
// kubernetes.io/tls Secret (tls.crt, tls.key) of the Ingress's namespace,
// picked by SNI; a self-signed default certificate for any other name (as
// Traefik's "TRAEFIK DEFAULT CERT"). Contexts are rebuilt when a Secret
// changes, so renewed certificates apply to the next handshake.
import { webcrypto } from 'node:crypto';
import { createSecureContext, type SecureContext } from 'node:tls';
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs it loaded first
import * as x509 from '@peculiar/x509';
import type { KubeObject } from '../../api/types.ts';
import type { Logger } from '../../lib/log.ts';
import { ingressOrder } from './match.ts';

x509.cryptoProvider.set(webcrypto as never);

/** The default certificate's subject, recognisable in a browser or `openssl s_client`. */
export const DEFAULT_CERT_CN = 'SKIFF INGRESS DEFAULT CERT';
/** Regenerated on every start, so its lifetime only has to outlast one run. */
const DEFAULT_CERT_VALIDITY_DAYS = 365;

// biome-ignore lint/suspicious/noExplicitAny: Ingress and Secret bodies are plain JSON
type Json = any;

export type Pem = { certPem: string; keyPem: string };

/** A self-signed ECDSA P-256 certificate for `cn` (with `dnsNames` as SANs). */
export async function selfSignedCertificate(cn: string, dnsNames: string[] = []): Promise<Pem> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256' };
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    name: `CN=${cn}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + DEFAULT_CERT_VALIDITY_DAYS * 86_400_000),
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      ...(dnsNames.length
        ? [new x509.SubjectAlternativeNameExtension(dnsNames.map((value) => ({ type: 'dns' as const, value })))]
        : []),
    ],
  });
  const der = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const b64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n');
  return {
    certPem: cert.toString('pem'),
    keyPem: `-----BEGIN PRIVATE KEY-----\n${b64.trimEnd()}\n-----END PRIVATE KEY-----\n`,
  };
}

/**
 * TLS hosts → namespace/secret of the served Ingresses, oldest Ingress first
 * winning; `fallback` is the Secret of the oldest tls entry without hosts.
 */
export function tlsAssignments(ingresses: KubeObject[]): { hosts: Map<string, string>; fallback?: string } {
  const hosts = new Map<string, string>();
  let fallback: string | undefined;
  for (const ing of [...ingresses].sort(ingressOrder)) {
    for (const t of (ing.spec?.tls ?? []) as Json[]) {
      if (!t.secretName) continue;
      const secret = `${ing.metadata.namespace ?? 'default'}/${t.secretName}`;
      const list: string[] = t.hosts ?? [];
      if (list.length === 0) fallback ??= secret;
      for (const h of list) if (!hosts.has(h.toLowerCase())) hosts.set(h.toLowerCase(), secret);
    }
  }
  return { hosts, fallback };
}

/** The context key an SNI name selects: exact host, then its one-label wildcard. */
export function sniLookup<T>(map: Map<string, T>, servername: string): T | undefined {
  const name = servername.toLowerCase().replace(/\.$/, '');
  const exact = map.get(name);
  if (exact !== undefined) return exact;
  const dot = name.indexOf('.');
  return dot > 0 ? map.get(`*${name.slice(dot)}`) : undefined;
}

type Loaded = { version: string; context?: SecureContext; pem?: Pem };

/** The certificates in use, as PEM, for proxies in other threads. */
export type TlsSnapshot = { hosts: [string, Pem][]; fallback?: Pem };

export class CertificateStore {
  #default: SecureContext;
  #hosts = new Map<string, SecureContext>();
  #fallback: SecureContext | undefined;
  /** namespace/name → the context made from that Secret's version (undefined when unusable). */
  #loaded = new Map<string, Loaded>();
  #referenced = new Set<string>();
  /** Contexts made by loadSnapshot, by certificate and key. */
  #byPem = new Map<string, SecureContext>();
  #assigned: { hosts: Map<string, string>; fallback?: string } = { hosts: new Map() };
  #log: Logger | undefined;
  /** The default certificate, also for the server's own options: clients that send no SNI get it. */
  readonly defaultCert: Pem;

  constructor(options: { defaultCert: Pem; log?: Logger }) {
    this.defaultCert = options.defaultCert;
    this.#default = createSecureContext({ cert: options.defaultCert.certPem, key: options.defaultCert.keyPem });
    this.#log = options.log;
  }

  /** Options for tls.createServer / https.createServer. */
  serverOptions(): { SNICallback: CertificateStore['sniCallback']; cert: string; key: string } {
    return { SNICallback: this.sniCallback, cert: this.defaultCert.certPem, key: this.defaultCert.keyPem };
  }

  /** Whether a Secret (namespace/name) is used by a served Ingress, so its changes matter. */
  references(secretKey: string): boolean {
    return this.#referenced.has(secretKey);
  }

  /** Rebuilds the SNI map from the served Ingresses and the Secrets (looked up by namespace/name). */
  update(ingresses: KubeObject[], secret: (key: string) => KubeObject | undefined): void {
    const { hosts, fallback } = tlsAssignments(ingresses);
    this.#assigned = { hosts, fallback };
    this.#referenced = new Set([...hosts.values(), ...(fallback ? [fallback] : [])]);
    for (const key of this.#loaded.keys()) if (!this.#referenced.has(key)) this.#loaded.delete(key);
    const contextOf = (key: string) => this.#context(key, secret(key));
    this.#hosts = new Map();
    for (const [host, key] of hosts) {
      const ctx = contextOf(key);
      if (ctx) this.#hosts.set(host, ctx);
    }
    this.#fallback = fallback ? contextOf(fallback) : undefined;
  }

  /** The certificates now in use, to hand to another thread's store (loadSnapshot). */
  snapshot(): TlsSnapshot {
    const { hosts, fallback } = this.#assigned;
    const pem = (key: string) => this.#loaded.get(key)?.pem;
    const list: [string, Pem][] = [];
    for (const [host, key] of hosts) {
      const p = pem(key);
      if (p) list.push([host, p]);
    }
    const f = fallback ? pem(fallback) : undefined;
    return f ? { hosts: list, fallback: f } : { hosts: list };
  }

  /** Replaces the SNI map with certificates from another store's snapshot. */
  loadSnapshot(snapshot: TlsSnapshot): void {
    const contexts = new Map<string, SecureContext>();
    // Snapshots come after every endpoint change too: contexts are kept while their certificate stays.
    const previous = this.#byPem;
    const byPem = new Map<string, SecureContext>();
    const contextOf = (p: Pem) => {
      const key = p.certPem + p.keyPem;
      let ctx = byPem.get(key) ?? previous.get(key);
      if (!ctx) ctx = createSecureContext({ cert: p.certPem, key: p.keyPem });
      byPem.set(key, ctx);
      return ctx;
    };
    for (const [host, p] of snapshot.hosts) contexts.set(host, contextOf(p));
    this.#hosts = contexts;
    this.#fallback = snapshot.fallback ? contextOf(snapshot.fallback) : undefined;
    this.#byPem = byPem;
  }

  /** The context for an SNI name (the default certificate when nothing matches). */
  contextFor(servername: string | undefined): SecureContext {
    return (servername ? sniLookup(this.#hosts, servername) : undefined) ?? this.#fallback ?? this.#default;
  }

  /** For node:tls's SNICallback. */
  sniCallback = (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void): void => {
    cb(null, this.contextFor(servername));
  };

  #context(key: string, secret: KubeObject | undefined): SecureContext | undefined {
    const version = secret ? `${secret.metadata.uid}/${secret.metadata.resourceVersion}` : '';
    const known = this.#loaded.get(key);
    if (known && known.version === version) return known.context;
    let context: SecureContext | undefined;
    let pem: Pem | undefined;
    const data: Json = (secret as Json)?.data ?? {};
    if (!secret) this.#log?.warn('TLS secret not found; the default certificate answers', { secret: key });
    else if (!data['tls.crt'] || !data['tls.key'])
      this.#log?.warn('TLS secret lacks tls.crt or tls.key', { secret: key });
    else {
      try {
        pem = { certPem: Buffer.from(data['tls.crt'], 'base64').toString(), keyPem: Buffer.from(data['tls.key'], 'base64').toString() };
        context = createSecureContext({ cert: pem.certPem, key: pem.keyPem });
      } catch (err) {
        this.#log?.warn('TLS secret unusable', { secret: key, err: (err as Error).message });
      }
    }
    this.#loaded.set(key, { version, context, pem: context ? pem : undefined });
    return context;
  }
}
