// Tarballs dropped into <data-dir>/images/ are imported when the agent starts
// (CONTRACT.md). A small record of what was imported (name, size, mtime)
// keeps restarts fast: unchanged files are not read again.
import { readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../lib/log.ts';
import type { ImageRecord } from '../types.ts';
import { isImageError } from './errors.ts';
import type { LocalImageStore } from './store.ts';

const TARBALL = /\.(tar|tar\.gz|tgz|tar\.zst)$/;

/** Imports new or changed tarballs from `dir`; a bad tarball is logged and skipped. */
export async function importImageDir(store: LocalImageStore, dir: string, log?: Logger): Promise<ImageRecord[]> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => TARBALL.test(n)).sort();
  const recordFile = join(store.layout.root, 'imported-files.json');
  const seen = JSON.parse(await readFile(recordFile, 'utf8').catch(() => '{}')) as Record<string, string>;
  const out: ImageRecord[] = [];
  let changed = false;
  for (const name of names) {
    const path = join(dir, name);
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile()) continue;
    const key = `${st.size}:${st.mtimeMs}`;
    if (seen[path] === key && (await store.list()).length > 0) continue;
    try {
      out.push(...(await store.import(path)));
      seen[path] = key;
      changed = true;
    } catch (err) {
      if (!isImageError(err)) throw err;
      log?.warn('skipping image tarball', { path, reason: err.reason, error: err.message });
    }
  }
  if (changed) {
    const tmp = `${recordFile}.${process.pid}`;
    await writeFile(tmp, JSON.stringify(seen));
    await rename(tmp, recordFile);
  }
  return out;
}
