// Service-account tokens: ES256-signed JWTs with Kubernetes' claims, issued
// by the TokenRequest subresource and accepted as bearer credentials.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, randomUUID, sign, verify } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { dirname } from 'node:path';
import type { UserInfo } from '../resources/context.ts';

/** Kubernetes' default issuer and API audience (--service-account-issuer for the default cluster domain). */
export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';
/** Tolerated clock difference when checking nbf/exp, as Kubernetes' validator allows. */
const CLOCK_SKEW_SECONDS = 60;

export type BoundObject = { kind: 'Pod' | 'Secret' | 'Node'; name: string; uid: string };

export type TokenClaims = {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  jti: string;
  'kubernetes.io': {
    namespace: string;
    serviceaccount: { name: string; uid: string };
    pod?: { name: string; uid: string };
    secret?: { name: string; uid: string };
    node?: { name: string; uid: string };
  };
};

const b64url = (buf: Buffer | string) => Buffer.from(buf).toString('base64url');

/** Reads the signing key (PKCS#8 PEM), creating an ECDSA P-256 key on first start. */
export function loadOrCreateSigningKey(path: string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8');
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  writeFileSync(path, pem, { mode: 0o600 });
  return pem;
}

export type TokenIssuer = {
  issuer: string;
  /** Audiences the API server itself accepts (used when a TokenRequest names none). */
  apiAudiences: string[];
  issue(args: {
    namespace: string;
    serviceAccount: { name: string; uid: string };
    audiences: string[];
    expirationSeconds: number;
    bound?: BoundObject;
    now?: Date;
  }): { token: string; expiresAt: Date };
  /** The claims of a valid token for one of `apiAudiences`, else undefined. */
  verify(token: string, now?: Date): TokenClaims | undefined;
};

export function createTokenIssuer(options: { keyPem: string; issuer?: string; apiAudiences?: string[] }): TokenIssuer {
  const privateKey: KeyObject = createPrivateKey(options.keyPem);
  const publicKey = createPublicKey(privateKey);
  const issuer = options.issuer ?? DEFAULT_ISSUER;
  const apiAudiences = options.apiAudiences ?? [issuer];
  // Key ID as Kubernetes derives it: the SHA-256 of the DER public key, base64url.
  const kid = b64url(createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest());
  const header = b64url(JSON.stringify({ alg: 'ES256', kid }));

  return {
    issuer,
    apiAudiences,
    issue({ namespace, serviceAccount, audiences, expirationSeconds, bound, now = new Date() }) {
      const iat = Math.floor(now.getTime() / 1000);
      const k8s: TokenClaims['kubernetes.io'] = { namespace, serviceaccount: { ...serviceAccount } };
      if (bound) k8s[bound.kind.toLowerCase() as 'pod' | 'secret' | 'node'] = { name: bound.name, uid: bound.uid };
      const claims: TokenClaims = {
        aud: audiences,
        exp: iat + expirationSeconds,
        iat,
        iss: issuer,
        jti: randomUUID(),
        'kubernetes.io': k8s,
        nbf: iat,
        sub: `system:serviceaccount:${namespace}:${serviceAccount.name}`,
      };
      const signingInput = `${header}.${b64url(JSON.stringify(claims))}`;
      const signature = sign('sha256', Buffer.from(signingInput), { key: privateKey, dsaEncoding: 'ieee-p1363' });
      return { token: `${signingInput}.${b64url(signature)}`, expiresAt: new Date(claims.exp * 1000) };
    },
    verify(token, now = new Date()) {
      const parts = token.split('.');
      if (parts.length !== 3) return undefined;
      let head: { alg?: string };
      let claims: TokenClaims;
      try {
        head = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8'));
        claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
      } catch {
        return undefined;
      }
      if (head.alg !== 'ES256') return undefined;
      const signature = Buffer.from(parts[2], 'base64url');
      const ok = verify('sha256', Buffer.from(`${parts[0]}.${parts[1]}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
      if (!ok || claims.iss !== issuer) return undefined;
      const t = Math.floor(now.getTime() / 1000);
      if (typeof claims.exp !== 'number' || t > claims.exp + CLOCK_SKEW_SECONDS) return undefined;
      if (typeof claims.nbf === 'number' && t < claims.nbf - CLOCK_SKEW_SECONDS) return undefined;
      const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
      if (!aud.some((a) => apiAudiences.includes(a))) return undefined;
      if (!claims['kubernetes.io']?.namespace || !claims['kubernetes.io'].serviceaccount?.name) return undefined;
      return claims;
    },
  };
}

/** The user a service-account token authenticates as. */
export function serviceAccountUser(claims: TokenClaims): UserInfo {
  const k8s = claims['kubernetes.io'];
  const ns = k8s.namespace;
  return {
    name: `system:serviceaccount:${ns}:${k8s.serviceaccount.name}`,
    uid: k8s.serviceaccount.uid,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'],
  };
}

/**
 * Authenticates requests carrying a service-account token. Validity is the
 * signature, issuer, audience and expiry; deleting the service account or
 * the bound pod does not revoke a token before it expires (yet).
 */
export function serviceAccountAuthenticator(issuer: TokenIssuer, bearer: (req: IncomingMessage) => string | undefined) {
  return (req: IncomingMessage): UserInfo | undefined => {
    const token = bearer(req);
    // Static tokens are hex; only JWT-shaped ones are worth a signature check.
    if (token?.split('.').length !== 3) return undefined;
    const claims = issuer.verify(token!);
    return claims ? serviceAccountUser(claims) : undefined;
  };
}
