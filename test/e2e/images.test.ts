// The image store as a node uses it: several `skiff image import` processes at
// once, `skiff image ls`, and overlay root filesystems for containers that
// share their image's layers. Needs root (overlay mounts); run inside the
// fresh mount namespace `npm test` makes, so no mount outlives the test.
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { LocalImageStore } from '../../src/agent/images/index.ts';
import type { Logger } from '../../src/lib/log.ts';
import { buildTestImages, type TestImages } from '../images/build.ts';
import { run } from './harness.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const skip = process.getuid?.() === 0 ? false : 'needs root for overlay mounts';
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

const skiff = (args: string[]) => run(process.execPath, [join(ROOT, 'bin/skiff.js'), ...args]);

function overlayLowerdirs(rootfs: string): string | undefined {
  const line = readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .find((l) => l.split(' ')[4] === rootfs);
  return line && /lowerdir=([^,]+)/.exec(line)?.[1];
}

describe('skiff image + overlay rootfs', { skip }, () => {
  let images: TestImages;
  let dataDir: string;
  before(async () => {
    images = await buildTestImages();
    dataDir = mkdtempSync(join(tmpdir(), 'skiff-images-e2e-'));
  });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  test('concurrent imports via the CLI, then image ls', async () => {
    const started = Date.now();
    const results = await Promise.all([
      skiff(['image', 'import', images.nginx1142, '--data-dir', dataDir]),
      skiff(['image', 'import', images.nginx1141, '--data-dir', dataDir]),
      skiff(['image', 'import', images.busyboxOci, images.all, '--data-dir', dataDir]),
    ]);
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    assert.match(results[0].stdout, /imported docker\.io\/library\/nginx:1\.14\.2 \(sha256:[0-9a-f]{13}\)/);
    const ms = Date.now() - started;
    const ls = await skiff(['image', 'ls', '--data-dir', dataDir]);
    assert.equal(ls.code, 0, ls.stderr);
    const lines = ls.stdout.trim().split('\n');
    assert.match(lines[0], /^IMAGE\s+TAG\s+IMAGE ID\s+SIZE$/);
    assert.deepEqual(
      lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2).join(':')),
      ['docker.io/library/busybox:latest', 'docker.io/library/nginx:1.14.1', 'docker.io/library/nginx:1.14.2'],
    );
    assert.match(lines[1], /\s[0-9a-f]{13}\s+[\d.]+MB$/);
    process.stdout.write(`# concurrent import of the test images: ${ms} ms\n`);
  });

  test('containers get overlay roots sharing the image layers; whiteouts and opaque dirs apply', async () => {
    const store = new LocalImageStore({ dataDir, log: quiet });
    const image = await store.resolve('nginx:1.14.2');
    assert.ok(image, 'imported by the previous test');
    const started = Date.now();
    const a = await store.mountRootfs(image, 'ctr-a');
    const b = await store.mountRootfs(image, 'ctr-b');
    const ms = Date.now() - started;
    try {
      assert.equal(a.rootfs, join(dataDir, 'agent/containers/ctr-a/rootfs'));
      assert.equal(readFileSync(join(a.rootfs, 'www/version'), 'utf8'), '1.14.2\n');
      assert.ok(lstatSync(join(a.rootfs, 'bin/busybox')).isFile());
      assert.equal(lstatSync(join(a.rootfs, 'bin/sh')).isSymbolicLink(), true);
      assert.ok(readFileSync(join(a.rootfs, 'etc/passwd'), 'utf8').includes('user:x:1000:1000'));
      assert.ok(!existsSync(join(a.rootfs, 'etc/motd')), 'whiteout hides the base layer file');
      assert.ok(!existsSync(join(a.rootfs, 'etc/skiff-base/a')), 'opaque dir hides the lower contents');
      assert.equal(readFileSync(join(a.rootfs, 'etc/skiff-base/c'), 'utf8'), 'upper c\n');
      // Writes land in the container's own upper dir.
      writeFileSync(join(a.rootfs, 'tmp/only-a'), 'a');
      assert.ok(!existsSync(join(b.rootfs, 'tmp/only-a')));
      assert.ok(existsSync(join(dataDir, 'agent/containers/ctr-a/overlay/upper/tmp/only-a')));
      // Both mounts use the very same lower dirs (the image's unpacked layers), top first.
      const lowerA = overlayLowerdirs(a.rootfs);
      assert.ok(lowerA);
      assert.equal(lowerA, overlayLowerdirs(b.rootfs));
      assert.deepEqual(lowerA.split(':'), [...image.layers].reverse().map((l) => `${l.slice(7)}/fs`));
      // Mounting again (agent restart) re-adopts instead of stacking a second overlay.
      const again = await store.mountRootfs(image, 'ctr-a');
      assert.equal(again.rootfs, a.rootfs);
      assert.ok(existsSync(join(again.rootfs, 'tmp/only-a')));
      // An image in use cannot be removed.
      await assert.rejects(store.remove(image.id), /used by a container/);
    } finally {
      await a.unmount();
      await b.unmount();
    }
    assert.equal(overlayLowerdirs(a.rootfs), undefined);
    assert.ok(!existsSync(join(dataDir, 'agent/containers/ctr-a')));
    process.stdout.write(`# two overlay mounts: ${ms} ms\n`);
  });
});
