// Authentication by bearer token, and a pluggable authorizer (allow-all for
// authenticated users until RBAC arrives).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { UserInfo } from './resources/context.ts';
import type { RequestInfo } from './http/request-info.ts';

export type Authenticator = (req: IncomingMessage) => UserInfo | undefined;
export type Authorizer = (user: UserInfo, info: RequestInfo) => { allowed: boolean; reason?: string };

export type TokenEntry = { token: string; user: UserInfo };

/** 32 random bytes: the strength of Kubernetes' bootstrap-token secrets and then some. */
const TOKEN_BYTES = 32;

export function newToken(): string {
  return randomBytes(TOKEN_BYTES).toString('hex');
}

/** Reads a token from file, creating it on first start. */
export function loadOrCreateToken(path: string): string {
  if (existsSync(path)) return readFileSync(path, 'utf8').trim();
  const token = newToken();
  writeFileSync(path, `${token}\n`, { mode: 0o600 });
  return token;
}

function sameSecret(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

/** The bearer token of a request's Authorization header, if any. */
export function bearerToken(req: IncomingMessage): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
}

export function tokenAuthenticator(entries: TokenEntry[]): Authenticator {
  return (req) => {
    const token = bearerToken(req);
    if (!token) return undefined;
    return entries.find((e) => sameSecret(e.token, token))?.user;
  };
}

export const allowAuthenticated: Authorizer = () => ({ allowed: true });

export const ADMIN_USER: UserInfo = { name: 'system:admin', groups: ['system:masters', 'system:authenticated'] };
export const NODE_GROUP = 'system:nodes';

/**
 * The join token, in k3s' form `K10<sha256 of the CA's DER>::<secret>`: the
 * hash lets a joining agent verify the server before trusting it; the secret
 * is the bearer credential. A plain secret from an older file is upgraded.
 */
export function loadOrCreateJoinToken(path: string, caHash: string): { full: string; secret: string } {
  const existing = existsSync(path) ? readFileSync(path, 'utf8').trim() : '';
  const secret = /^K10[0-9a-f]{64}::(.+)$/.exec(existing)?.[1] ?? (existing || newToken());
  const full = `K10${caHash}::${secret}`;
  if (existing !== full) writeFileSync(path, `${full}\n`, { mode: 0o600 });
  return { full, secret };
}
