// Unpacks one layer (a tar stream, gzip/zstd/uncompressed) into a directory
// that overlayfs can use as a lower layer: `.wh.<name>` whiteouts become 0/0
// character devices, `.wh..wh..opq` marks its directory opaque with the
// trusted.overlay.opaque xattr. Every path is resolved inside the layer root.
// Returns the digests of the compressed and uncompressed streams so callers
// verify them against the manifest's digest and the config's diff ID.
import { createHash, type Hash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, lchown, link, lstat, lutimes, rm, symlink, utimes } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import { ImageError } from './errors.ts';
import { cleanEntryPath, resolveInScope } from './scope.ts';
import { makeSpecialFiles, type SpecialFile, setXattrs } from './special.ts';
import { readTar } from './tar.ts';

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';
/** aufs' own bookkeeping entries (hard-link dirs); never part of the image's content. */
const AUFS_META_PREFIX = '.wh..wh.';
const OVERLAY_OPAQUE_XATTR = 'trusted.overlay.opaque';

export type UnpackResult = {
  /** sha256 of the bytes as they arrived (the manifest's layer digest). */
  digest: string;
  /** sha256 of the uncompressed tar (the config's diff ID). */
  diffId: string;
  /** Bytes of regular files written. */
  size: number;
};

async function* tap(source: AsyncIterable<Buffer> | Iterable<Buffer>, hash: Hash): AsyncGenerator<Buffer> {
  for await (const chunk of source) {
    hash.update(chunk);
    yield chunk;
  }
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

/** Decompresses by magic number (gzip, zstd) or passes plain tar through. */
export async function* decompress(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const iter = source[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  while (head.length < ZSTD_MAGIC.length) {
    const next = await iter.next();
    if (next.done) break;
    head = Buffer.concat([head, next.value]);
  }
  const rest = (async function* () {
    yield head;
    for (let next = await iter.next(); !next.done; next = await iter.next()) yield next.value;
  })();
  const codec = head.subarray(0, 2).equals(GZIP_MAGIC)
    ? createGunzip()
    : head.subarray(0, 4).equals(ZSTD_MAGIC)
      ? createZstdDecompress()
      : undefined;
  if (!codec) {
    yield* rest;
    return;
  }
  const out = new PassThrough();
  const done = pipeline(Readable.from(rest), codec, out);
  done.catch(() => {}); // surfaced through `out` below
  for await (const chunk of out) yield chunk as Buffer;
  await done;
}

function errno(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

async function removeExisting(path: string, keepDir: boolean): Promise<boolean> {
  try {
    const st = await lstat(path);
    if (keepDir && st.isDirectory()) return true;
    await rm(path, { recursive: true, force: true });
  } catch (err) {
    if (errno(err) !== 'ENOENT') throw err;
  }
  return false;
}

/** Without root (unit tests) ownership cannot be set; the layer stays usable by the caller. */
const canChown = process.getuid?.() === 0;

/** Unpacks `source` into `dest` (an empty directory). */
export async function unpackLayer(source: AsyncIterable<Buffer> | Iterable<Buffer>, dest: string): Promise<UnpackResult> {
  const compressedHash = createHash('sha256');
  const tarHash = createHash('sha256');
  const specials: (SpecialFile & { uid: number; gid: number; mode: number })[] = [];
  const xattrs: { path: string; name: string; value: Buffer }[] = [];
  const dirs: { path: string; mode: number; uid: number; gid: number; mtime: number }[] = [];
  let size = 0;
  const parentOf = (rel: string) => resolveInScope(dest, dirname(rel), { create: true });

  for await (const entry of readTar(tap(decompress(tap(source, compressedHash)), tarHash))) {
    const rel = cleanEntryPath(entry.path);
    if (rel === '') continue; // the root itself: keep the layer dir's own metadata
    const name = basename(rel);
    if (name === OPAQUE_MARKER) {
      const dir = await resolveInScope(dest, dirname(rel), { create: true });
      xattrs.push({ path: dir, name: OVERLAY_OPAQUE_XATTR, value: Buffer.from('y') });
      continue;
    }
    if (name.startsWith(AUFS_META_PREFIX)) continue;
    if (name.startsWith(WHITEOUT_PREFIX)) {
      const target = join(await parentOf(rel), name.slice(WHITEOUT_PREFIX.length));
      await removeExisting(target, false);
      specials.push({ path: target, kind: 'c', major: 0, minor: 0, uid: 0, gid: 0, mode: 0o000 });
      continue;
    }
    const path = join(await parentOf(rel), name);
    switch (entry.type) {
      case 'dir': {
        if (!(await removeExisting(path, true))) await resolveInScope(dest, rel, { create: true });
        dirs.push({ path, mode: entry.mode, uid: entry.uid, gid: entry.gid, mtime: entry.mtime });
        break;
      }
      case 'file': {
        await removeExisting(path, false);
        await pipeline(Readable.from(entry.body), createWriteStream(path, { flags: 'wx', mode: 0o600 }));
        size += entry.size;
        break;
      }
      case 'symlink':
        await removeExisting(path, false);
        await symlink(entry.linkname, path);
        break;
      case 'hardlink': {
        const target = await resolveInScope(dest, cleanEntryPath(entry.linkname));
        const st = await lstat(target).catch(() => undefined);
        if (!st || st.isDirectory()) throw new ImageError('InvalidArchive', `hard link "${entry.path}" → "${entry.linkname}": no such file in the layer`);
        await removeExisting(path, false);
        await link(target, path);
        break;
      }
      case 'char':
      case 'block':
      case 'fifo':
        await removeExisting(path, false);
        specials.push({
          path,
          kind: entry.type === 'char' ? 'c' : entry.type === 'block' ? 'b' : 'p',
          major: entry.devmajor,
          minor: entry.devminor,
          uid: entry.uid,
          gid: entry.gid,
          mode: entry.mode,
        });
        continue; // metadata after the node exists
      default:
        continue; // unknown entry types (e.g. GNU sparse) are skipped, as Docker does
    }
    for (const [xname, value] of Object.entries(entry.xattrs)) xattrs.push({ path, name: xname, value });
    if (entry.type === 'dir' || entry.type === 'hardlink') continue;
    if (canChown) await lchown(path, entry.uid, entry.gid);
    if (entry.type === 'symlink') {
      await lutimes(path, entry.mtime, entry.mtime);
    } else {
      await chmod(path, entry.mode); // after chown, which clears setuid bits
      await utimes(path, entry.mtime, entry.mtime);
    }
  }

  await makeSpecialFiles(specials);
  for (const s of specials) {
    if (canChown) await lchown(s.path, s.uid, s.gid);
    await chmod(s.path, s.mode);
  }
  await setXattrs(xattrs);
  // Directories last: children are written by now, and a read-only mode cannot get in the way.
  for (const d of dirs.reverse()) {
    if (canChown) await lchown(d.path, d.uid, d.gid);
    await chmod(d.path, d.mode);
    await utimes(d.path, d.mtime, d.mtime);
  }
  return { digest: `sha256:${compressedHash.digest('hex')}`, diffId: `sha256:${tarHash.digest('hex')}`, size };
}
