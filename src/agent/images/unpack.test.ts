import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { type TarEntry, writeTar } from '../../../test/images/tar.ts';
import { isImageError } from './errors.ts';
import { unpackLayer } from './unpack.ts';

const root = process.getuid?.() === 0;
const skip = root ? false : 'needs root (device-node whiteouts, trusted.* xattrs)';
const work = mkdtempSync(join(tmpdir(), 'skiff-unpack-'));
after(() => rmSync(work, { recursive: true, force: true }));

let n = 0;
async function unpack(entries: TarEntry[], options: { gzip?: boolean } = {}) {
  const dest = join(work, String(n++));
  execFileSync('mkdir', ['-p', dest]);
  const tar = writeTar(entries);
  const blob = options.gzip ? gzipSync(tar) : tar;
  const result = await unpackLayer([blob.subarray(0, 1000), blob.subarray(1000)], dest);
  return { dest, result, tar, blob };
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

describe('layer unpacking', { skip }, () => {
  test('files, dirs, symlinks, hard links, long names; digests of both streams', async () => {
    const long = `deep/${'x'.repeat(120)}/file`;
    const { dest, result, tar, blob } = await unpack(
      [
        { type: 'dir', path: 'bin', mode: 0o755 },
        { type: 'file', path: 'bin/tool', data: 'hello', mode: 0o4755, uid: 1000, gid: 1000 },
        { type: 'symlink', path: 'bin/abs', target: '/etc/passwd' },
        { type: 'hardlink', path: 'bin/tool2', target: 'bin/tool' },
        { type: 'file', path: long, data: 'long' },
        { type: 'dir', path: 'ro', mode: 0o555 },
        { type: 'file', path: 'ro/inside', data: 'x' },
      ],
      { gzip: true },
    );
    assert.equal(result.diffId, sha(tar));
    assert.equal(result.digest, sha(blob));
    assert.equal(readFileSync(join(dest, 'bin/tool'), 'utf8'), 'hello');
    const st = lstatSync(join(dest, 'bin/tool'));
    assert.equal(st.mode & 0o7777, 0o4755);
    assert.equal(st.uid, 1000);
    assert.equal(readlinkSync(join(dest, 'bin/abs')), '/etc/passwd');
    assert.equal(lstatSync(join(dest, 'bin/tool2')).ino, st.ino);
    assert.equal(readFileSync(join(dest, long), 'utf8'), 'long');
    assert.equal(lstatSync(join(dest, 'ro')).mode & 0o777, 0o555);
  });

  test('whiteouts become 0/0 character devices; opaque dirs get trusted.overlay.opaque=y', async () => {
    const { dest } = await unpack([
      { type: 'dir', path: 'etc' },
      { type: 'file', path: 'etc/.wh.motd', data: '' },
      { type: 'dir', path: 'data' },
      { type: 'file', path: 'data/.wh..wh..opq', data: '' },
      { type: 'file', path: 'data/new', data: 'n' },
      { type: 'file', path: 'gone/.wh.dir', data: '' },
    ]);
    const wh = lstatSync(join(dest, 'etc/motd'));
    assert.ok(wh.isCharacterDevice());
    assert.equal(wh.rdev, 0);
    assert.ok(lstatSync(join(dest, 'gone/dir')).isCharacterDevice());
    assert.ok(!existsSync(join(dest, 'etc/.wh.motd')));
    assert.ok(!existsSync(join(dest, 'data/.wh..wh..opq')));
    const xattr = execFileSync('getfattr', ['-n', 'trusted.overlay.opaque', '--only-values', join(dest, 'data')], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    assert.equal(xattr, 'y');
  });

  test('refuses entries that climb out with ../ and keeps absolute names inside', async () => {
    const marker = `skiff-escape-${randomBytes(4).toString('hex')}`;
    await assert.rejects(
      unpack([{ type: 'file', path: `../../../../tmp/${marker}`, data: 'pwned' }]),
      (err) => isImageError(err, 'UnsafePath'),
    );
    await assert.rejects(
      unpack([
        { type: 'file', path: 'a', data: 'a' },
        { type: 'hardlink', path: 'b', target: `../../../tmp/${marker}` },
      ]),
      (err) => isImageError(err, 'UnsafePath'),
    );
    assert.ok(!existsSync(`/tmp/${marker}`));
    const { dest } = await unpack([{ type: 'file', path: `/tmp/${marker}`, data: 'inside' }]);
    assert.equal(readFileSync(join(dest, 'tmp', marker), 'utf8'), 'inside');
    assert.ok(!existsSync(`/tmp/${marker}`));
  });

  test('symlinks cannot carry writes outside the layer', async () => {
    const marker = `skiff-escape-${randomBytes(4).toString('hex')}`;
    const { dest } = await unpack([
      { type: 'symlink', path: 'up', target: '../../../../../../tmp' },
      { type: 'file', path: `up/${marker}`, data: 'one' },
      { type: 'symlink', path: 'rootlink', target: '/' },
      { type: 'file', path: `rootlink/tmp/${marker}-2`, data: 'two' },
      { type: 'symlink', path: 'loop', target: 'loop' },
      // Replacing a symlink must not write through it.
      { type: 'symlink', path: 'victim', target: `/tmp/${marker}-3` },
      { type: 'file', path: 'victim', data: 'three' },
    ]);
    assert.ok(!existsSync(`/tmp/${marker}`) && !existsSync(`/tmp/${marker}-2`) && !existsSync(`/tmp/${marker}-3`));
    assert.equal(readFileSync(join(dest, 'tmp', marker), 'utf8'), 'one');
    assert.equal(readFileSync(join(dest, 'tmp', `${marker}-2`), 'utf8'), 'two');
    assert.ok(lstatSync(join(dest, 'victim')).isFile());
    await assert.rejects(unpack([{ type: 'symlink', path: 'l', target: 'l' }, { type: 'file', path: 'l/x', data: '' }]), (err) =>
      isImageError(err, 'UnsafePath'),
    );
  });

  test('zstd layers (Node 24 zlib)', async () => {
    const tar = writeTar([{ type: 'file', path: 'z', data: 'zstd' }]);
    const dest = join(work, 'zstd');
    execFileSync('mkdir', ['-p', dest]);
    const result = await unpackLayer([zstdCompressSync(tar)], dest);
    assert.equal(result.diffId, sha(tar));
    assert.equal(readFileSync(join(dest, 'z'), 'utf8'), 'zstd');
  });

  test('rejects corrupt input', async () => {
    await assert.rejects(unpackLayer([Buffer.alloc(512, 7)], join(work, 'corrupt')), (err) => isImageError(err, 'InvalidArchive'));
  });
});
