// The image store's on-disk index (which names point at which image, layer
// sizes, last use) and the lock that serialises its updates between
// processes: `skiff image import` runs beside the agent.
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isAlive as alive } from '../../lib/process.ts';
import type { ImageRecord } from '../types.ts';

/** A held lock older than this with a live holder is still waited for; this only bounds our wait. */
const LOCK_TIMEOUT_MS = 60_000;
/** How often a waiter retries a held lock: short, since index updates take milliseconds. */
const LOCK_RETRY_MS = 15;
const INDEX_VERSION = 1;

export type StoredImage = ImageRecord & {
  /** When the image was imported or pulled (RFC 3339). */
  created: string;
  /** Last import, pull or container mount: garbage collection removes the oldest first. */
  lastUsed: string;
};

export type IndexData = {
  version: number;
  images: StoredImage[];
  /** Unpacked layers by diff ID. */
  layers: Record<string, { size: number }>;
};

export type StoreLayout = {
  root: string;
  blobs: string;
  layers: string;
  tmp: string;
  index: string;
  lock: string;
  containers: string;
};

/** Paths under `<data-dir>`: the content store in agent/images, container dirs in agent/containers. */
export function storeLayout(dataDir: string): StoreLayout {
  const root = join(dataDir, 'agent', 'images');
  return {
    root,
    blobs: join(root, 'blobs', 'sha256'),
    layers: join(root, 'layers'),
    tmp: join(root, 'tmp'),
    index: join(root, 'index.json'),
    lock: join(root, 'index.lock'),
    containers: join(dataDir, 'agent', 'containers'),
  };
}

export const hexOf = (digest: string) => digest.replace(/^sha256:/, '');

const empty = (): IndexData => ({ version: INDEX_VERSION, images: [], layers: {} });

export async function readIndex(layout: StoreLayout): Promise<IndexData> {
  try {
    const data = JSON.parse(await readFile(layout.index, 'utf8')) as IndexData;
    return { ...empty(), ...data };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return empty();
    throw err;
  }
}

/** Atomic: readers see the old index or the new one, never half of one. */
async function writeIndex(layout: StoreLayout, data: IndexData): Promise<void> {
  const tmp = `${layout.index}.${process.pid}.${randomBytes(4).toString('hex')}`;
  await writeFile(tmp, JSON.stringify(data));
  await rename(tmp, layout.index);
}

/** In-process queue: the lock file is per process, so calls inside one process take turns first. */
const localQueues = new Map<string, Promise<unknown>>();

async function acquire(lock: string): Promise<void> {
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  for (;;) {
    try {
      const fh = await open(lock, 'wx');
      await fh.writeFile(String(process.pid));
      await fh.close();
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const holder = Number.parseInt(await readFile(lock, 'utf8').catch(() => ''), 10);
    // A lock whose holder died is stale. (An empty file is one being written right now.)
    if (holder > 0 && !alive(holder)) {
      await unlink(lock).catch(() => {});
      continue;
    }
    if (Date.now() > deadline) throw new Error(`image store: timed out waiting for ${lock} (held by pid ${holder || '?'})`);
    await new Promise((r) => setTimeout(r, LOCK_RETRY_MS));
  }
}

/** Runs `fn` on the current index under the lock; writes back what it returns (if anything). */
export async function updateIndex<T>(
  layout: StoreLayout,
  fn: (data: IndexData) => Promise<{ data?: IndexData; result: T }> | { data?: IndexData; result: T },
): Promise<T> {
  const previous = localQueues.get(layout.lock) ?? Promise.resolve();
  const run = previous.catch(() => {}).then(async () => {
    await acquire(layout.lock);
    try {
      const out = await fn(await readIndex(layout));
      if (out.data) await writeIndex(layout, out.data);
      return out.result;
    } finally {
      await unlink(layout.lock).catch(() => {});
    }
  });
  localQueues.set(layout.lock, run);
  try {
    return await run;
  } finally {
    if (localQueues.get(layout.lock) === run) localQueues.delete(layout.lock);
  }
}

/** Index reads are cached until the file changes (another process may have imported). */
export class IndexCache {
  #layout: StoreLayout;
  #cached: { key: string; data: IndexData } | undefined;
  constructor(layout: StoreLayout) {
    this.#layout = layout;
  }
  async get(): Promise<IndexData> {
    const st = await stat(this.#layout.index).catch(() => undefined);
    const key = st ? `${st.ino}:${st.mtimeMs}:${st.size}` : 'none';
    if (this.#cached?.key !== key) this.#cached = { key, data: await readIndex(this.#layout) };
    return this.#cached.data;
  }
}
