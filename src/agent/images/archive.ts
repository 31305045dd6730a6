// Reading image tarballs: `docker save` archives (manifest.json, config JSON,
// layer tars) and OCI image layouts in a tar (oci-layout, index.json,
// blobs/sha256/…). The tarball is staged once into a temp dir (file by file,
// hashing as it goes), then described as images: names, config, layer files.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ImageError } from './errors.ts';
import { type Descriptor, diffIds, MEDIA, selectPlatform } from './manifest.ts';
import { normalizeReference } from './reference.ts';
import { cleanEntryPath } from './scope.ts';
import { readTar } from './tar.ts';
import { decompress } from './unpack.ts';

/** Annotation containerd writes with the full image name. */
export const ANNOTATION_IMAGE_NAME = 'io.containerd.image.name';
/** OCI's annotation: a tag, or (buildah, skopeo) a full reference. */
export const ANNOTATION_REF_NAME = 'org.opencontainers.image.ref.name';

type StagedFile = { file: string; digest: string; size: number };

export type ArchiveImage = {
  names: string[];
  configDigest: string;
  /** The staged config blob (its exact bytes define the image ID). */
  configFile: string;
  config: Record<string, unknown>;
  manifestDigest?: string;
  /** Raw manifest bytes (OCI archives), kept in the blob store. */
  manifest?: Buffer;
  /** Staged layer files, base first. */
  layers: StagedFile[];
};

export type StagedArchive = { images: ArchiveImage[]; files: Map<string, StagedFile> };

/** Streams every regular file of the tarball into `stageDir`, hashing each. */
async function stage(tarball: string, stageDir: string): Promise<Map<string, StagedFile>> {
  const files = new Map<string, StagedFile>();
  const links = new Map<string, string>();
  let n = 0;
  for await (const entry of readTar(decompress(createReadStream(tarball)))) {
    const path = cleanEntryPath(entry.path);
    if (entry.type === 'symlink' || entry.type === 'hardlink') {
      // Old `docker save` links duplicate layers to their first copy.
      const target = entry.type === 'symlink' ? posix.join(posix.dirname(path), entry.linkname) : entry.linkname;
      links.set(path, cleanEntryPath(target));
      continue;
    }
    if (entry.type !== 'file') continue;
    const file = join(stageDir, String(n++));
    const hash = createHash('sha256');
    const hasher = new Transform({
      transform(chunk, _enc, cb) {
        hash.update(chunk);
        cb(null, chunk);
      },
    });
    await pipeline(Readable.from(entry.body), hasher, createWriteStream(file, { flags: 'wx' }));
    files.set(path, { file, digest: `sha256:${hash.digest('hex')}`, size: entry.size });
  }
  for (const [path, target] of links) {
    const found = files.get(target);
    if (found) files.set(path, found);
  }
  return files;
}

async function json(files: Map<string, StagedFile>, path: string): Promise<unknown> {
  const f = files.get(path);
  if (!f) throw new ImageError('InvalidArchive', `archive lacks ${path}`);
  try {
    return JSON.parse(await readFile(f.file, 'utf8'));
  } catch {
    throw new ImageError('InvalidArchive', `${path} is not valid JSON`);
  }
}

function normalizeAll(names: string[]): string[] {
  return [...new Set(names.map((n) => normalizeReference(n)))];
}

async function dockerImages(files: Map<string, StagedFile>): Promise<ArchiveImage[]> {
  const manifest = (await json(files, 'manifest.json')) as { Config: string; RepoTags?: string[] | null; Layers: string[] }[];
  if (!Array.isArray(manifest)) throw new ImageError('InvalidArchive', 'manifest.json is not a list');
  const images: ArchiveImage[] = [];
  for (const item of manifest) {
    const configPath = cleanEntryPath(item.Config ?? '');
    const configFile = files.get(configPath);
    if (!configFile) throw new ImageError('InvalidArchive', `manifest.json names a missing config ${item.Config}`);
    const config = (await json(files, configPath)) as Record<string, unknown>;
    const layers = (item.Layers ?? []).map((l) => {
      const f = files.get(cleanEntryPath(l));
      if (!f) throw new ImageError('InvalidArchive', `manifest.json names a missing layer ${l}`);
      return f;
    });
    if (layers.length !== diffIds(config).length) {
      throw new ImageError('InvalidArchive', `${item.Config}: ${layers.length} layers but ${diffIds(config).length} diff IDs`);
    }
    images.push({ names: normalizeAll(item.RepoTags ?? []), configDigest: configFile.digest, configFile: configFile.file, config, layers });
  }
  return images;
}

function blobOf(files: Map<string, StagedFile>, digest: string): StagedFile {
  const [alg, hex] = digest.split(':');
  if (alg !== 'sha256') throw new ImageError('InvalidArchive', `unsupported digest algorithm in ${digest}`);
  const f = files.get(`blobs/sha256/${hex}`);
  if (!f) throw new ImageError('InvalidArchive', `archive lacks blob ${digest}`);
  if (f.digest !== digest) throw new ImageError('DigestMismatch', `blob ${digest} has digest ${f.digest}`);
  return f;
}

/** OCI names: containerd's full name first; a ref.name that is a full reference (not just a tag) otherwise. */
export function ociNames(annotations: Record<string, string> | undefined): string[] {
  const full = annotations?.[ANNOTATION_IMAGE_NAME];
  if (full) return [full];
  const ref = annotations?.[ANNOTATION_REF_NAME];
  // A bare tag ("1.14.2") names no repository; such an image is imported by ID only, as `ctr import` does.
  if (ref && (ref.includes('/') || ref.includes(':') || ref.includes('@'))) return [ref];
  return [];
}

async function ociImages(files: Map<string, StagedFile>): Promise<ArchiveImage[]> {
  const index = (await json(files, 'index.json')) as { manifests?: Descriptor[] };
  const byManifest = new Map<string, ArchiveImage>();
  const readBlob = async (d: Descriptor) => JSON.parse(await readFile(blobOf(files, d.digest).file, 'utf8'));
  for (const top of index.manifests ?? []) {
    let desc = top;
    // Follow nested indexes (multi-platform archives) down to one linux/amd64 manifest.
    for (let depth = 0; desc.mediaType === MEDIA.ociIndex || desc.mediaType === MEDIA.dockerList; depth++) {
      if (depth > 4) throw new ImageError('InvalidArchive', 'index nesting too deep');
      desc = selectPlatform((await readBlob(desc)).manifests ?? []);
    }
    const manifestFile = blobOf(files, desc.digest);
    const manifestBytes = await readFile(manifestFile.file);
    const manifest = JSON.parse(manifestBytes.toString()) as { config: Descriptor; layers: Descriptor[] };
    const existing = byManifest.get(desc.digest);
    const names = normalizeAll(ociNames(top.annotations));
    if (existing) {
      existing.names = [...new Set([...existing.names, ...names])];
      continue;
    }
    const configFile = blobOf(files, manifest.config.digest);
    const config = JSON.parse(await readFile(configFile.file, 'utf8')) as Record<string, unknown>;
    const layers = manifest.layers.map((l) => blobOf(files, l.digest));
    if (layers.length !== diffIds(config).length) throw new ImageError('InvalidArchive', `${desc.digest}: layer count and diff IDs differ`);
    byManifest.set(desc.digest, {
      names,
      configDigest: configFile.digest,
      configFile: configFile.file,
      config,
      manifestDigest: desc.digest,
      manifest: manifestBytes,
      layers,
    });
  }
  return [...byManifest.values()];
}

/** Stages a docker-archive or OCI-archive tarball (plain or gzipped) and describes its images. */
export async function readArchive(tarball: string, stageDir: string): Promise<StagedArchive> {
  const files = await stage(tarball, stageDir);
  // `docker save` since 25 writes both layouts; manifest.json carries its RepoTags.
  if (files.has('manifest.json')) return { images: await dockerImages(files), files };
  if (files.has('index.json')) return { images: await ociImages(files), files };
  throw new ImageError('InvalidArchive', `${tarball}: neither a docker-archive (manifest.json) nor an OCI archive (index.json)`);
}
