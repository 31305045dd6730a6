// The local image store (ImageStore): a content store under
// <data-dir>/agent/images shared by the agent and `skiff image import`,
// overlay root filesystems for containers, registry pulls and GC.
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { createLogger, type Logger } from '../../lib/log.ts';
import type { ImageRecord, ImageStore, RegistryAuth } from '../types.ts';
import { readArchive } from './archive.ts';
import { ImageError } from './errors.ts';
import { planImageGc } from './gc.ts';
import { IndexCache, type IndexData, type StoredImage, type StoreLayout, storeLayout, updateIndex } from './index-file.ts';
import { LayerStore, type LayerSource } from './layers.ts';
import { diffIds, imageConfigOf } from './manifest.ts';
import { containerRootfsPaths, isMountPoint, mountOverlay, readMountRecord, unmountOverlay } from './mount.ts';
import { isIdLike, parseReference, repositoryOf } from './reference.ts';
import { pullImage } from './registry/pull.ts';
import { loadRegistriesConfig, type RegistriesConfig } from './registry/config.ts';

/** lastUsed is rewritten at most this often per image, so busy nodes do not rewrite the index per container. */
const TOUCH_INTERVAL_MS = 60_000;

export type LocalImageStoreOptions = {
  dataDir: string;
  /** Registry mirrors and credentials; default: <data-dir>/registries.yaml or /etc/skiff/registries.yaml. */
  registries?: RegistriesConfig;
  log?: Logger;
  /** Disk statistics of the store's filesystem (tests substitute their own). */
  diskStats?: () => Promise<{ capacityBytes: number; availableBytes: number }>;
};

/** What a new image brings: its config, names and how to get each layer. */
export type IngestImage = {
  names: string[];
  configDigest: string;
  configBlob: Buffer;
  manifestDigest?: string;
  manifestBlob?: Buffer;
  layers: { diffId: string; digest?: string; open: LayerSource }[];
};

export class LocalImageStore implements ImageStore {
  readonly layout: StoreLayout;
  #layers: LayerStore;
  #index: IndexCache;
  #log: Logger;
  #registries: RegistriesConfig | undefined;
  #dataDir: string;
  #diskStats: () => Promise<{ capacityBytes: number; availableBytes: number }>;
  #pulls = new Map<string, Promise<ImageRecord>>();

  constructor(options: LocalImageStoreOptions) {
    this.#dataDir = options.dataDir;
    this.layout = storeLayout(options.dataDir);
    this.#layers = new LayerStore(this.layout);
    this.#index = new IndexCache(this.layout);
    this.#log = options.log ?? createLogger('images');
    this.#registries = options.registries;
    this.#diskStats =
      options.diskStats ??
      (async () => {
        await mkdir(this.layout.root, { recursive: true });
        const s = await statfs(this.layout.root);
        return { capacityBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize };
      });
  }

  async import(tarball: string): Promise<ImageRecord[]> {
    const started = Date.now();
    await mkdir(this.layout.tmp, { recursive: true });
    const stageDir = await mkdtemp(join(this.layout.tmp, `import-${process.pid}-`));
    try {
      const archive = await readArchive(tarball, stageDir);
      const out: ImageRecord[] = [];
      for (const image of archive.images) {
        const ids = diffIds(image.config);
        out.push(
          await this.ingest({
            names: image.names,
            configDigest: image.configDigest,
            // The config bytes exactly as archived: the image ID is their digest.
            configBlob: await readFile(image.configFile),
            manifestDigest: image.manifestDigest,
            manifestBlob: image.manifest,
            layers: image.layers.map((l, i) => ({ diffId: ids[i], digest: l.digest, open: () => createReadStream(l.file) })),
          }),
        );
      }
      this.#log.info('imported', { tarball, images: out.flatMap((i) => i.names), ms: Date.now() - started });
      return out;
    } finally {
      await rm(stageDir, { recursive: true, force: true });
    }
  }

  /** Unpacks missing layers, stores blobs, then records the image in the index. */
  async ingest(image: IngestImage): Promise<ImageRecord> {
    const sizes = new Map<string, number>();
    for (const layer of image.layers) {
      sizes.set(layer.diffId, await this.#layers.ensure(layer.diffId, layer.open, layer.digest));
    }
    await this.#layers.saveBlob(image.configDigest, image.configBlob);
    if (image.manifestDigest && image.manifestBlob) await this.#layers.saveBlob(image.manifestDigest, image.manifestBlob);
    const config = JSON.parse(image.configBlob.toString()) as Record<string, unknown>;
    const layers = diffIds(config);
    const now = new Date().toISOString();
    return updateIndex(this.layout, async (data) => {
      // A concurrent GC may have removed a layer we found present; unpack it again next time.
      for (const l of layers) {
        if ((await this.#layers.size(l)) === undefined) throw new ImageError('NotFound', `layer ${l} vanished during import; retry`);
      }
      for (const [l, size] of sizes) data.layers[l] = { size };
      const size = layers.reduce((sum, l) => sum + (data.layers[l]?.size ?? 0), 0);
      const id = image.configDigest;
      // A name moves to the new image (re-tagging); the old image keeps its other names.
      for (const other of data.images) if (other.id !== id) other.names = other.names.filter((n) => !image.names.includes(n));
      const existing = data.images.find((i) => i.id === id);
      const record: StoredImage = {
        names: [...new Set([...(existing?.names ?? []), ...image.names])],
        id,
        manifestDigest: image.manifestDigest ?? existing?.manifestDigest,
        config: imageConfigOf(config),
        layers,
        size,
        created: existing?.created ?? now,
        lastUsed: now,
      };
      const images = [...data.images.filter((i) => i.id !== id), record];
      return { data: { ...data, images }, result: record };
    });
  }

  async list(): Promise<StoredImage[]> {
    return (await this.#index.get()).images;
  }

  async resolve(ref: string): Promise<StoredImage | undefined> {
    const { images } = await this.#index.get();
    if (isIdLike(ref)) {
      const hex = ref.replace(/^sha256:/, '');
      const byId = images.filter((i) => i.id.slice(7).startsWith(hex));
      if (byId.length === 1) return byId[0];
      if (ref.startsWith('sha256:') || hex.length === 64) return undefined;
    }
    const parsed = parseReference(ref);
    if (parsed.digest) {
      const repo = repositoryOf(parsed);
      const sameDigest = images.filter((i) => i.manifestDigest === parsed.digest || i.id === parsed.digest);
      return sameDigest.find((i) => i.names.some((n) => repositoryOf(parseReference(n)) === repo)) ?? sameDigest[0];
    }
    const name = `${repositoryOf(parsed)}:${parsed.tag ?? 'latest'}`;
    return images.find((i) => i.names.includes(name));
  }

  async pull(ref: string, options: { auth?: RegistryAuth[]; signal?: AbortSignal } = {}): Promise<ImageRecord> {
    // Concurrent pulls of one reference (several pods of a new deployment) share one download.
    const running = this.#pulls.get(ref);
    if (running) return running;
    const work = (async () => {
      this.#registries ??= await loadRegistriesConfig(this.#dataDir);
      return pullImage(ref, { store: this, registries: this.#registries, auth: options.auth, signal: options.signal, log: this.#log });
    })().finally(() => this.#pulls.delete(ref));
    this.#pulls.set(ref, work);
    return work;
  }

  /** Whether the layer is already unpacked (the puller skips downloading it). */
  async hasLayer(diffId: string): Promise<boolean> {
    return (await this.#layers.size(diffId)) !== undefined;
  }

  async mountRootfs(image: ImageRecord, containerId: string): Promise<{ rootfs: string; unmount(): Promise<void> }> {
    const paths = containerRootfsPaths(this.layout.containers, containerId);
    const unmount = () => unmountOverlay(paths);
    // Re-adopt an existing mount (agent restart) instead of stacking another.
    const existing = await readMountRecord(paths);
    if (existing?.imageId === image.id && (await isMountPoint(paths.rootfs))) return { rootfs: paths.rootfs, unmount };
    for (const l of image.layers) {
      if ((await this.#layers.size(l)) === undefined) throw new ImageError('NotFound', `image ${image.id}: layer ${l} is missing; import or pull it again`);
    }
    const started = Date.now();
    await mountOverlay({
      layersDir: this.layout.layers,
      lower: [...image.layers].reverse().map((l) => this.#layers.lowerName(l)),
      paths,
      record: { imageId: image.id, layers: image.layers },
    });
    this.#log.debug('rootfs mounted', { containerId, image: image.id, ms: Date.now() - started });
    await this.#touch(image.id);
    return { rootfs: paths.rootfs, unmount };
  }

  async #touch(id: string): Promise<void> {
    const img = (await this.#index.get()).images.find((i) => i.id === id);
    if (!img || Date.now() - Date.parse(img.lastUsed) < TOUCH_INTERVAL_MS) return;
    await updateIndex(this.layout, (data) => {
      const found = data.images.find((i) => i.id === id);
      if (!found) return { result: undefined };
      found.lastUsed = new Date().toISOString();
      return { data, result: undefined };
    });
  }

  /** Image IDs whose layers a container rootfs mounts right now (from the mount records). */
  async mountedImageIds(): Promise<Set<string>> {
    const ids = new Set<string>();
    const entries = await readdir(this.layout.containers).catch(() => [] as string[]);
    for (const id of entries) {
      const paths = (() => {
        try {
          return containerRootfsPaths(this.layout.containers, id);
        } catch {
          return undefined;
        }
      })();
      const record = paths && (await readMountRecord(paths));
      if (record) ids.add(record.imageId);
    }
    return ids;
  }

  /**
   * Removes a name; when it was the image's last name (or `ref` is an ID),
   * removes the image and the layers no other image uses. Throws InUse for
   * images a container rootfs mounts.
   */
  async remove(ref: string): Promise<void> {
    const image = await this.resolve(ref);
    if (!image) throw new ImageError('NotFound', `image "${ref}" not found`);
    const byName = !isIdLike(ref) && !parseReference(ref).digest;
    const name = byName ? image.names.find((n) => n === `${repositoryOf(parseReference(ref))}:${parseReference(ref).tag ?? 'latest'}`) : undefined;
    const mounted = await this.mountedImageIds();
    const orphans = await updateIndex(this.layout, (data) => {
      const img = data.images.find((i) => i.id === image.id);
      if (!img) return { result: [] as string[] };
      if (name && img.names.length > 1) {
        img.names = img.names.filter((n) => n !== name);
        return { data, result: [] as string[] };
      }
      if (mounted.has(img.id)) throw new ImageError('InUse', `image ${img.id} is used by a container`);
      return dropImages(data, new Set([img.id]));
    });
    await this.#deleteContent(orphans, [image.id, ...(image.manifestDigest ? [image.manifestDigest] : [])]);
  }

  async #deleteContent(layers: string[], blobs: string[]): Promise<void> {
    for (const l of layers) await this.#layers.remove(l);
    for (const b of blobs) await this.#layers.removeBlob(b);
  }

  async garbageCollect(options: { inUse: Set<string>; highPercent: number; lowPercent: number }): Promise<string[]> {
    const disk = await this.#diskStats();
    const mounted = await this.mountedImageIds();
    const inUse = new Set([...options.inUse, ...mounted]);
    const removed = await updateIndex(this.layout, (data) => {
      const layerSizes = Object.fromEntries(Object.entries(data.layers).map(([k, v]) => [k, v.size]));
      const plan = planImageGc({ ...disk, images: data.images, layerSizes, inUse, highPercent: options.highPercent, lowPercent: options.lowPercent });
      if (plan.remove.length === 0) return { result: { plan, images: [] as StoredImage[], layers: [] as string[] } };
      const images = data.images.filter((i) => plan.remove.includes(i.id));
      const dropped = dropImages(data, new Set(plan.remove));
      return { data: dropped.data, result: { plan, images, layers: dropped.result } };
    });
    for (const img of removed.images) {
      await this.#deleteContent([], [img.id, ...(img.manifestDigest ? [img.manifestDigest] : [])]);
    }
    await this.#deleteContent(removed.layers, []);
    if (removed.images.length > 0) {
      this.#log.info('image garbage collection', {
        usagePercent: removed.plan.usagePercent,
        bytesToFree: removed.plan.bytesToFree,
        bytesFreed: removed.plan.bytesFreed,
        removed: removed.images.map((i) => i.names[0] ?? i.id),
      });
    }
    return removed.images.map((i) => i.id);
  }
}

/** Drops images from the index; returns the layers nothing else references. */
function dropImages(data: IndexData, ids: Set<string>): { data: IndexData; result: string[] } {
  const images = data.images.filter((i) => !ids.has(i.id));
  const still = new Set(images.flatMap((i) => i.layers));
  const orphans = Object.keys(data.layers).filter((l) => !still.has(l) && data.images.some((i) => ids.has(i.id) && i.layers.includes(l)));
  const layers = { ...data.layers };
  for (const l of orphans) delete layers[l];
  return { data: { ...data, images, layers }, result: orphans };
}
