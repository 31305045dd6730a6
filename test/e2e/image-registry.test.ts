// Registry pulls against a real registry (Debian's docker-registry) on
// loopback: anonymous, Basic auth (a checking proxy in front), Bearer tokens
// (a token server), mirrors from registries.yaml, manifest lists, pulls by
// digest, digest verification. Runs only inside a fresh network namespace
// (npm test makes one) so nothing can reach a real registry.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { emptyRegistriesConfig, isImageError, LocalImageStore, parseRegistriesConfig, type RegistriesConfig } from '../../src/agent/images/index.ts';
import type { Logger } from '../../src/lib/log.ts';
import { busyboxSpec, nginxSpec, ociImage } from '../images/build.ts';
import { fetchToken, pushImage, pushIndex, type RunningRegistry, registryAvailable, startRegistry, startTokenServer } from '../images/registry.ts';

/** Isolated: npm test's namespace, or any namespace without a default route (nothing beyond loopback). */
function isolated(): boolean {
  if (process.env.SKIFF_NETNS === '1') return true;
  const routes = readFileSync('/proc/net/route', 'utf8').split('\n').slice(1);
  return !routes.some((l) => l.split('\t')[1] === '00000000');
}

const skip =
  process.getuid?.() !== 0
    ? 'needs root (layers hold device-node whiteouts)'
    : !registryAvailable()
      ? 'docker-registry is not installed (apt-get install docker-registry; setup.sh does)'
      : !isolated()
        ? 'run inside a fresh network namespace (npm test, or unshare --net as in the notes)'
        : false;
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

/** A proxy that demands Basic auth (alice/wonderland), counts blob requests and can corrupt blobs. */
function basicAuthProxy(upstream: string) {
  const state = { blobGets: 0, corrupt: false };
  const server = http.createServer((req, res) => {
    const expected = `Basic ${Buffer.from('alice:wonderland').toString('base64')}`;
    if (req.headers.authorization !== expected) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="skiff-test"' }).end();
      return;
    }
    if (req.url?.includes('/blobs/')) state.blobGets++;
    const up = http.request(`${upstream}${req.url}`, { method: req.method, headers: { ...req.headers, host: new URL(upstream).host } }, (ur) => {
      if (state.corrupt && req.url?.includes('/blobs/')) {
        const chunks: Buffer[] = [];
        ur.on('data', (c: Buffer) => chunks.push(c));
        ur.on('end', () => {
          const body = Buffer.concat(chunks);
          body[0] ^= 0xff;
          res.writeHead(ur.statusCode ?? 500, ur.headers).end(body);
        });
        return;
      }
      res.writeHead(ur.statusCode ?? 500, ur.headers);
      ur.pipe(res);
    });
    req.pipe(up);
  });
  return { server, state };
}

describe('registry pulls (distribution API v2)', { skip }, () => {
  let dir: string;
  let plain: RunningRegistry;
  let tokenReg: RunningRegistry;
  let tokens: Awaited<ReturnType<typeof startTokenServer>>;
  let proxy: ReturnType<typeof basicAuthProxy>;
  let proxyHost: string;
  let n = 0;
  const store = (registries: RegistriesConfig = emptyRegistriesConfig()) =>
    new LocalImageStore({ dataDir: join(dir, `node${n++}`), log: quiet, registries });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-registry-'));
    plain = await startRegistry(join(dir, 'plain'));
    tokens = await startTokenServer(dir, { bob: 'builder' });
    tokenReg = await startRegistry(join(dir, 'token'), { token: tokens.auth });
    await pushImage(plain.url, 'skiff/nginx', '1.14.2', nginxSpec('1.14.2'));
    await pushImage(plain.url, 'skiff/nginx', '1.14.1', nginxSpec('1.14.1'));
    await pushImage(plain.url, 'library/nginx', '1.14.1', nginxSpec('1.14.1'));
    const token = await fetchToken(tokens.auth, 'private/busybox', 'bob', 'builder');
    await pushImage(tokenReg.url, 'private/busybox', 'v1', busyboxSpec(), { authorization: token });
    proxy = basicAuthProxy(plain.url);
    await new Promise<void>((r) => proxy.server.listen(0, '127.0.0.1', r));
    proxyHost = `127.0.0.1:${(proxy.server.address() as { port: number }).port}`;
  });
  after(async () => {
    await plain?.stop();
    await tokenReg?.stop();
    await tokens?.stop();
    proxy?.server.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('anonymous pull; a second image fetches only the layers it lacks; pull by digest', async () => {
    const s = store();
    const started = Date.now();
    const img = await s.pull(`${plain.host}/skiff/nginx:1.14.2`);
    const ms = Date.now() - started;
    assert.deepEqual(img.names, [`${plain.host}/skiff/nginx:1.14.2`]);
    assert.equal(img.layers.length, 2);
    assert.deepEqual(img.config.entrypoint, ['/docker-entrypoint.sh']);
    assert.match(img.manifestDigest ?? '', /^sha256:[0-9a-f]{64}$/);
    assert.equal((await s.resolve(`${plain.host}/skiff/nginx:1.14.2`))?.id, img.id);
    // The same base layer is already unpacked: only 1.14.1's upper layer is downloaded.
    const [base] = img.layers;
    const other = await s.pull(`${plain.host}/skiff/nginx:1.14.1`);
    assert.equal(other.layers[0], base);
    const byDigest = await s.pull(`${plain.host}/skiff/nginx@${img.manifestDigest}`);
    assert.equal(byDigest.id, img.id);
    assert.equal((await s.resolve(`${plain.host}/skiff/nginx@${img.manifestDigest}`))?.id, img.id);
    await assert.rejects(s.pull(`${plain.host}/skiff/nope:1`), (err) => isImageError(err, 'NotFound'));
    await assert.rejects(s.pull(`${plain.host}/skiff/nginx@sha256:${'0'.repeat(64)}`), (err) => isImageError(err, 'NotFound'));
    process.stdout.write(`# pull of nginx:1.14.2 from a loopback registry: ${ms} ms\n`);
  });

  test('docker.io names come from a mirror in registries.yaml', async () => {
    const s = store(await parseRegistriesConfig(`mirrors:\n  docker.io:\n    endpoint: ["${plain.url}"]\n`));
    const img = await s.pull('nginx:1.14.1');
    assert.deepEqual(img.names, ['docker.io/library/nginx:1.14.1']);
    assert.equal((await s.resolve('nginx:1.14.1'))?.id, img.id);
  });

  test('a manifest list (OCI index) resolves to linux/amd64', async () => {
    const amd = ociImage(nginxSpec('1.14.1'));
    const arm = ociImage(busyboxSpec(['busybox:arm'], { Cmd: ['sh'], Labels: { arch: 'arm64' } }));
    await pushImage(plain.url, 'skiff/multi', 'amd64', nginxSpec('1.14.1'));
    await pushImage(plain.url, 'skiff/multi', 'arm64', busyboxSpec(['busybox:arm'], { Cmd: ['sh'], Labels: { arch: 'arm64' } }));
    const digest = (m: Buffer) => `sha256:${createHash('sha256').update(m).digest('hex')}`;
    await pushIndex(plain.url, 'skiff/multi', '1', [
      { digest: digest(arm.manifest), size: arm.manifest.length, platform: { os: 'linux', architecture: 'arm64' } },
      { digest: digest(amd.manifest), size: amd.manifest.length, platform: { os: 'linux', architecture: 'amd64' } },
    ]);
    const img = await store().pull(`${plain.host}/skiff/multi:1`);
    assert.equal(img.manifestDigest, digest(amd.manifest));
    assert.equal(img.config.labels?.version, '1.14.1');
  });

  test('Basic auth: refused without credentials, accepted from registries.yaml or a pull secret; corrupt blobs rejected', async () => {
    const ref = `${proxyHost}/skiff/nginx:1.14.2`;
    await assert.rejects(store().pull(ref), (err) => isImageError(err, 'Unauthorized'));
    await assert.rejects(
      store().pull(ref, { auth: [{ registry: proxyHost, username: 'alice', password: 'wrong' }] }),
      (err) => isImageError(err, 'Unauthorized'),
    );
    const fromConfig = store(await parseRegistriesConfig(`configs:\n  "${proxyHost}":\n    auth: { username: alice, password: wonderland }\n`));
    const before = proxy.state.blobGets;
    assert.equal((await fromConfig.pull(ref)).layers.length, 2);
    assert.equal(proxy.state.blobGets - before, 3, 'config and two layers');
    const beforeSecond = proxy.state.blobGets;
    await fromConfig.pull(`${proxyHost}/skiff/nginx:1.14.1`);
    assert.equal(proxy.state.blobGets - beforeSecond, 2, 'config and the upper layer: the shared base is not fetched again');
    const auth = Buffer.from('alice:wonderland').toString('base64');
    const fromSecret = store();
    assert.ok(await fromSecret.pull(ref, { auth: [{ registry: `http://${proxyHost}/`, auth }] }));
    proxy.state.corrupt = true;
    try {
      await assert.rejects(store().pull(ref, { auth: [{ registry: proxyHost, auth }] }), (err) => isImageError(err, 'DigestMismatch'));
    } finally {
      proxy.state.corrupt = false;
    }
  });

  test('Bearer token auth: anonymous refused, credentials exchanged for a token', async () => {
    const ref = `${tokenReg.host}/private/busybox:v1`;
    await assert.rejects(store().pull(ref), (err) => isImageError(err, 'Unauthorized'));
    const before = tokens.requests;
    const img = await store().pull(ref, { auth: [{ registry: tokenReg.host, username: 'bob', password: 'builder' }] });
    assert.deepEqual(img.names, [ref]);
    assert.deepEqual(img.config.cmd, ['sh']);
    assert.ok(tokens.requests > before);
    // Concurrent pulls of one reference share one download.
    const s = store();
    const [a, b] = await Promise.all([
      s.pull(ref, { auth: [{ registry: tokenReg.host, username: 'bob', password: 'builder' }] }),
      s.pull(ref, { auth: [{ registry: tokenReg.host, username: 'bob', password: 'builder' }] }),
    ]);
    assert.equal(a.id, b.id);
    assert.ok(existsSync(s.layout.index));
  });
});
