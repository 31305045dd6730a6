// Path safety for unpacking layers: every path an archive names is resolved
// inside the layer root, following symlinks as the container would see them
// (absolute targets and `..` are clamped at the root), so no entry can write
// outside the layer however its symlinks point.
import { lstat, mkdir, readlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { ImageError } from './errors.ts';

/** Linux's own limit on symlinks followed in one lookup (MAXSYMLINKS is 40; be generous like Docker). */
const MAX_SYMLINK_HOPS = 255;

/**
 * Cleans an archive entry name into a path relative to the root: leading `/`
 * and `./` are dropped (Docker treats absolute names as relative); a name
 * that climbs out with `..` is refused.
 */
export function cleanEntryPath(name: string): string {
  const normal = posix.normalize(name.replace(/^\/+/, ''));
  const rel = normal.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  if (rel === '..' || rel.startsWith('../')) throw new ImageError('UnsafePath', `archive entry "${name}" points outside the layer`);
  return rel === '.' ? '' : rel;
}

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code;
}

/**
 * The real path of `rel` under `root` with every symlink in it resolved in
 * scope. With `create`, missing directories are made (mode 0755) on the way.
 * The result always lies under root.
 */
export async function resolveInScope(root: string, rel: string, options: { create?: boolean } = {}): Promise<string> {
  const pending = rel.split('/').filter((c) => c && c !== '.');
  const parts: string[] = []; // resolved, symlink-free components under root
  let hops = 0;
  while (pending.length > 0) {
    const comp = pending.shift()!;
    if (comp === '..') {
      parts.pop(); // clamps at the root
      continue;
    }
    const next = join(root, ...parts, comp);
    let st: Awaited<ReturnType<typeof lstat>> | undefined;
    try {
      st = await lstat(next);
    } catch (err) {
      if (code(err) !== 'ENOENT') throw err;
    }
    if (!st) {
      if (options.create) await mkdir(next, { mode: 0o755 }).catch((e) => (code(e) === 'EEXIST' ? undefined : Promise.reject(e)));
      parts.push(comp);
      continue;
    }
    if (st.isSymbolicLink()) {
      if (++hops > MAX_SYMLINK_HOPS) throw new ImageError('UnsafePath', `too many symlinks resolving "${rel}"`);
      const target = await readlink(next);
      if (target.startsWith('/')) parts.length = 0;
      pending.unshift(...target.split('/').filter((c) => c && c !== '.'));
      continue;
    }
    if (!st.isDirectory() && pending.length > 0) {
      throw new ImageError('InvalidArchive', `"${rel}": "${comp}" is not a directory`);
    }
    parts.push(comp);
  }
  return join(root, ...parts);
}
