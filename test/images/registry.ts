// A real registry on loopback for pull tests (Debian's docker-registry, the
// CNCF distribution server), a tiny token server for Bearer auth, and a pusher
// that uploads test images (monolithic upload: POST then PUT ?digest=).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes, sign } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { MEDIA_TYPES, ociImage, type TestImageSpec } from './build.ts';

/** The registry answers /v2/ within a second or two on these machines. */
const REGISTRY_START_TIMEOUT_MS = 15_000;
export const REGISTRY_BINARY = '/usr/bin/docker-registry';

export const registryAvailable = () => existsSync(REGISTRY_BINARY);

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export type TokenAuth = { realm: string; service: string; issuer: string; certFile: string };

export type RunningRegistry = { url: string; host: string; stop(): Promise<void> };

/** Starts docker-registry on 127.0.0.1 with storage under `dir`. */
export async function startRegistry(dir: string, options: { token?: TokenAuth } = {}): Promise<RunningRegistry> {
  mkdirSync(join(dir, 'data'), { recursive: true });
  const port = await freePort();
  const auth = options.token
    ? `auth:\n  token:\n    realm: ${options.token.realm}\n    service: ${options.token.service}\n    issuer: ${options.token.issuer}\n    rootcertbundle: ${options.token.certFile}\n`
    : '';
  const config = `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${join(dir, 'data')}
  delete:
    enabled: true
http:
  addr: 127.0.0.1:${port}
  secret: skiff-test-${randomBytes(4).toString('hex')}
${auth}`;
  writeFileSync(join(dir, 'config.yml'), config);
  const child: ChildProcess = spawn(REGISTRY_BINARY, ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + REGISTRY_START_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited: ${stderr}`);
    const status = await fetch(`${url}/v2/`).then((r) => r.status, () => 0);
    if (status === 200 || status === 401) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`docker-registry did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    host: `127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/**
 * A token server as the registry's `auth.token` expects: JWTs signed with a
 * key whose self-signed certificate (x5c) is the registry's root bundle.
 * Grants what is asked to `users`; anonymous requests get 401.
 */
export async function startTokenServer(dir: string, users: Record<string, string>): Promise<{ auth: TokenAuth; stop(): Promise<void>; requests: number }> {
  const key = join(dir, 'token.key');
  const cert = join(dir, 'token.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=skiff-test-token'], {
    stdio: 'ignore',
  });
  const der = Buffer.from(readFileSync(cert, 'utf8').replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
  const keyPem = readFileSync(key);
  const service = 'skiff-test-registry';
  const issuer = 'skiff-test-issuer';
  const state = { requests: 0 };
  const server = http.createServer((req, res) => {
    state.requests++;
    const url = new URL(req.url ?? '/', 'http://x');
    const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const [user, pass] = basic ? Buffer.from(basic, 'base64').toString().split(':') : [];
    if (!user || users[user] !== pass) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
      return;
    }
    const access = url.searchParams.getAll('scope').map((s) => {
      const [type, name, actions] = s.split(':');
      return { type, name, actions: actions.split(',') };
    });
    const now = Math.floor(Date.now() / 1000);
    const header = { alg: 'RS256', typ: 'JWT', x5c: [der.toString('base64')] };
    const claims = { iss: issuer, sub: user, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const signing = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const token = `${signing}.${b64url(sign('sha256', Buffer.from(signing), keyPem))}`;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_in: 300 }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    auth: { realm: `http://127.0.0.1:${port}/token`, service, issuer, certFile: cert },
    get requests() {
      return state.requests;
    },
    stop: () => new Promise((r) => server.close(() => r())),
  };
}

const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** Pushes blobs and a manifest; `authorization` is sent as is (a Bearer token for token registries). */
async function pushBlobsAndManifest(
  url: string,
  repo: string,
  ref: string,
  blobs: Map<string, Buffer>,
  manifest: Buffer,
  mediaType: string,
  authorization?: string,
): Promise<string> {
  const auth: Record<string, string> = authorization ? { authorization } : {};
  for (const [digest, data] of blobs) {
    if (data === manifest) continue;
    const head = await fetch(`${url}/v2/${repo}/blobs/${digest}`, { method: 'HEAD', headers: auth });
    if (head.status === 200) continue;
    const start = await fetch(`${url}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: auth });
    if (start.status !== 202) throw new Error(`upload start: ${start.status} ${await start.text()}`);
    const location = new URL(start.headers.get('location')!, url);
    location.searchParams.set('digest', digest);
    const put = await fetch(location, { method: 'PUT', headers: { ...auth, 'content-type': 'application/octet-stream' }, body: data });
    if (put.status !== 201) throw new Error(`blob upload ${digest}: ${put.status} ${await put.text()}`);
  }
  const res = await fetch(`${url}/v2/${repo}/manifests/${ref}`, { method: 'PUT', headers: { ...auth, 'content-type': mediaType }, body: manifest });
  if (res.status !== 201) throw new Error(`manifest push: ${res.status} ${await res.text()}`);
  return digestOf(manifest);
}

/** Pushes a test image as an OCI manifest; returns the manifest digest. */
export function pushImage(url: string, repo: string, tag: string, spec: TestImageSpec, options: { authorization?: string } = {}): Promise<string> {
  const { manifest, blobs } = ociImage(spec);
  return pushBlobsAndManifest(url, repo, tag, blobs, manifest, MEDIA_TYPES.ociManifest, options.authorization);
}

/** Pushes an OCI index over already pushed manifests (one per platform). */
export async function pushIndex(
  url: string,
  repo: string,
  tag: string,
  entries: { digest: string; size: number; platform: { os: string; architecture: string } }[],
  options: { authorization?: string } = {},
): Promise<string> {
  const index = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: entries.map((e) => ({ mediaType: MEDIA_TYPES.ociManifest, ...e })) }),
  );
  return pushBlobsAndManifest(url, repo, tag, new Map(), index, MEDIA_TYPES.ociIndex, options.authorization);
}

/** A token for pushing to a token-auth registry. */
export async function fetchToken(auth: TokenAuth, repo: string, user: string, password: string): Promise<string> {
  const u = new URL(auth.realm);
  u.searchParams.set('service', auth.service);
  u.searchParams.set('scope', `repository:${repo}:pull,push`);
  const res = await fetch(u, { headers: { authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` } });
  return `Bearer ${((await res.json()) as { token: string }).token}`;
}
