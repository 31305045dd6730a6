// Unpacked layers by diff ID (`layers/<hex>/fs`, with `meta.json` beside it)
// and small blobs (manifests, configs) by digest. Each layer is unpacked once:
// concurrent requests in this process share one unpack; between processes the
// first atomic rename wins and the loser discards its copy.
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ImageError } from './errors.ts';
import { hexOf, type StoreLayout } from './index-file.ts';
import { unpackLayer } from './unpack.ts';

export type LayerSource = () => Promise<AsyncIterable<Buffer>> | AsyncIterable<Buffer>;

export class LayerStore {
  #layout: StoreLayout;
  #inflight = new Map<string, Promise<number>>();
  constructor(layout: StoreLayout) {
    this.#layout = layout;
  }

  /** The dir overlay uses as a lower layer, relative to the layers dir. */
  lowerName(diffId: string): string {
    return `${hexOf(diffId)}/fs`;
  }

  dir(diffId: string): string {
    return join(this.#layout.layers, hexOf(diffId));
  }

  /** Unpacked size, or undefined when the layer is not (completely) here. */
  async size(diffId: string): Promise<number | undefined> {
    try {
      return (JSON.parse(await readFile(join(this.dir(diffId), 'meta.json'), 'utf8')) as { size: number }).size;
    } catch {
      return undefined;
    }
  }

  /** Makes sure the layer is unpacked; returns its size. `digest` checks the compressed stream too. */
  ensure(diffId: string, open: LayerSource, digest?: string): Promise<number> {
    const running = this.#inflight.get(diffId);
    if (running) return running;
    const work = this.#ensure(diffId, open, digest).finally(() => this.#inflight.delete(diffId));
    this.#inflight.set(diffId, work);
    return work;
  }

  async #ensure(diffId: string, open: LayerSource, digest?: string): Promise<number> {
    const have = await this.size(diffId);
    if (have !== undefined) return have;
    await mkdir(this.#layout.tmp, { recursive: true });
    const staging = await mkdtemp(join(this.#layout.tmp, `layer-${process.pid}-`));
    try {
      await mkdir(join(staging, 'fs'));
      const result = await unpackLayer(await open(), join(staging, 'fs'));
      if (result.diffId !== diffId) {
        throw new ImageError('DigestMismatch', `layer unpacked to diff ID ${result.diffId}, expected ${diffId}`);
      }
      if (digest && result.digest !== digest) {
        throw new ImageError('DigestMismatch', `layer blob has digest ${result.digest}, expected ${digest}`);
      }
      await writeFile(join(staging, 'meta.json'), JSON.stringify({ size: result.size, digest: result.digest }));
      await mkdir(this.#layout.layers, { recursive: true });
      try {
        await rename(staging, this.dir(diffId));
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err;
        // Another process finished the same layer first; use theirs.
      }
      return (await this.size(diffId)) ?? result.size;
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  async remove(diffId: string): Promise<void> {
    // Rename first so a half-deleted layer is never mistaken for a complete one.
    const doomed = join(this.#layout.tmp, `gone-${hexOf(diffId)}-${randomBytes(4).toString('hex')}`);
    await mkdir(this.#layout.tmp, { recursive: true });
    try {
      await rename(this.dir(diffId), doomed);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    await rm(doomed, { recursive: true, force: true });
  }

  /** Stores a small blob (manifest, config) after checking its digest. */
  async saveBlob(digest: string, data: Buffer): Promise<void> {
    const actual = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    if (actual !== digest) throw new ImageError('DigestMismatch', `blob has digest ${actual}, expected ${digest}`);
    const path = join(this.#layout.blobs, hexOf(digest));
    if (await stat(path).catch(() => undefined)) return;
    await mkdir(this.#layout.blobs, { recursive: true });
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
    await writeFile(tmp, data);
    await rename(tmp, path);
  }

  async removeBlob(digest: string): Promise<void> {
    await rm(join(this.#layout.blobs, hexOf(digest)), { force: true });
  }
}
