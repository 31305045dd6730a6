import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { buildTestImages, type TestImages } from '../../../test/images/build.ts';
import { writeTar } from '../../../test/images/tar.ts';
import type { Logger } from '../../lib/log.ts';
import { ociNames } from './archive.ts';
import { isImageError } from './errors.ts';
import { importImageDir } from './import-dir.ts';
import { LocalImageStore } from './store.ts';

const skip = process.getuid?.() === 0 ? false : 'needs root (layers hold device-node whiteouts)';
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };
const work = mkdtempSync(join(tmpdir(), 'skiff-store-'));
after(() => rmSync(work, { recursive: true, force: true }));
let images: TestImages;
before(async () => {
  images = await buildTestImages();
});

let n = 0;
const newStore = (options: { disk?: { capacityBytes: number; availableBytes: number } } = {}) =>
  new LocalImageStore({
    dataDir: join(work, String(n++)),
    log: quiet,
    diskStats: options.disk ? async () => options.disk! : undefined,
  });

test('OCI names: containerd annotation, else a full ref.name, never a bare tag', () => {
  assert.deepEqual(ociNames({ 'io.containerd.image.name': 'docker.io/library/a:1', 'org.opencontainers.image.ref.name': '1' }), ['docker.io/library/a:1']);
  assert.deepEqual(ociNames({ 'org.opencontainers.image.ref.name': 'busybox:latest' }), ['busybox:latest']);
  assert.deepEqual(ociNames({ 'org.opencontainers.image.ref.name': 'latest' }), []);
  assert.deepEqual(ociNames(undefined), []);
});

describe('image store', { skip }, () => {
  test('imports docker and OCI archives; layers shared by diff ID; names resolve', async () => {
    const store = newStore();
    const [n2] = await store.import(images.nginx1142);
    assert.deepEqual(n2.names, ['docker.io/library/nginx:1.14.2']);
    assert.equal(n2.layers.length, 2);
    assert.deepEqual(n2.config.entrypoint, ['/docker-entrypoint.sh']);
    assert.deepEqual(n2.config.cmd, ['httpd', '-f', '-v', '-p', '80', '-h', '/www']);
    assert.ok(n2.config.env?.includes('NGINX_VERSION=1.14.2'));
    assert.deepEqual(Object.keys(n2.config.exposedPorts ?? {}), ['80/tcp']);
    const [n1] = await store.import(images.nginx1141);
    assert.deepEqual(n1.names, ['docker.io/library/nginx:1.14.1']);
    assert.match(n1.manifestDigest ?? '', /^sha256:/);
    const [bb] = await store.import(images.busyboxOci);
    assert.deepEqual(bb.names, ['docker.io/library/busybox:latest']);
    // Base layer shared by all three (gzipped in one archive, plain in another): 3 layers in all.
    assert.equal(n1.layers[0], n2.layers[0]);
    assert.equal(readdirSync(store.layout.layers).length, 3);
    assert.equal((await store.resolve('nginx:1.14.2'))?.id, n2.id);
    assert.equal((await store.resolve('docker.io/library/nginx:1.14.1'))?.id, n1.id);
    assert.equal((await store.resolve(n1.id.slice(7, 19)))?.id, n1.id);
    assert.equal((await store.resolve(`nginx@${n1.manifestDigest}`))?.id, n1.id);
    assert.equal(await store.resolve('nginx'), undefined);
    // Re-importing the same content is idempotent.
    await store.import(images.all);
    assert.equal((await store.list()).length, 3);
  });

  test('imports tarballs dropped in a directory once', async () => {
    const store = newStore();
    const dir = mkdtempSync(join(work, 'drop-'));
    copyFileSync(images.nginx1141, join(dir, 'a.tar'));
    writeFileSync(join(dir, 'junk.tar'), 'not a tarball at all, longer than one block'.repeat(20));
    writeFileSync(join(dir, 'notes.txt'), 'ignored');
    const first = await importImageDir(store, dir, quiet);
    assert.deepEqual(first.map((i) => i.names[0]), ['docker.io/library/nginx:1.14.1']);
    assert.deepEqual(await importImageDir(store, dir, quiet), []);
  });

  test('remove untags first, then removes the image and its unshared layers', async () => {
    const store = newStore();
    await store.import(images.all);
    const before = readdirSync(store.layout.layers).length;
    await store.remove('busybox');
    assert.equal(await store.resolve('busybox'), undefined);
    assert.equal(readdirSync(store.layout.layers).length, before); // base layer still used by nginx
    const n1 = (await store.resolve('nginx:1.14.1'))!;
    await store.remove(n1.id);
    assert.equal(readdirSync(store.layout.layers).length, before - 1);
    await assert.rejects(store.remove('nope:1'), (err) => isImageError(err, 'NotFound'));
  });

  test('rejects archives whose blobs do not match their digests', async () => {
    const store = newStore();
    const fake = 'a'.repeat(64);
    const manifest = Buffer.from('{"schemaVersion":2}');
    const bad = join(work, 'bad.tar');
    writeFileSync(
      bad,
      writeTar([
        { type: 'file', path: 'oci-layout', data: '{"imageLayoutVersion":"1.0.0"}' },
        {
          type: 'file',
          path: 'index.json',
          data: JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${fake}`, size: manifest.length }] }),
        },
        { type: 'file', path: `blobs/sha256/${fake}`, data: manifest },
      ]),
    );
    await assert.rejects(store.import(bad), (err) => isImageError(err, 'DigestMismatch'));
    writeFileSync(bad, writeTar([{ type: 'file', path: 'hello.txt', data: 'hi' }]));
    await assert.rejects(store.import(bad), (err) => isImageError(err, 'InvalidArchive'));
  });

  test('garbage collection by disk use: oldest unused first, images in use kept', async () => {
    const busy = newStore({ disk: { capacityBytes: 100e6, availableBytes: 5e6 } });
    await busy.import(images.busybox);
    await busy.import(images.nginx1141);
    await busy.import(images.nginx1142);
    const n2 = (await busy.resolve('nginx:1.14.2'))!;
    const removed = await busy.garbageCollect({ inUse: new Set([n2.id]), highPercent: 85, lowPercent: 80 });
    assert.equal(removed.length, 2);
    assert.deepEqual((await busy.list()).map((i) => i.id), [n2.id]);
    const idle = newStore({ disk: { capacityBytes: 100e6, availableBytes: 50e6 } });
    await idle.import(images.busybox);
    assert.deepEqual(await idle.garbageCollect({ inUse: new Set(), highPercent: 85, lowPercent: 80 }), []);
  });
});
