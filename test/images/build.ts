// Builds small container images for tests from the machine's static busybox:
// docker-archive (`docker save` layout) and OCI-archive (`ctr export` layout)
// tarballs. Results are cached by content (file names carry a hash of the
// spec and of busybox), so repeated test runs reuse them. Safe to call from
// several processes at once (write to a temp file, then rename).
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { busyboxSpec, nginxSpec } from './specs.ts';
import { type TarEntry, writeTar } from './tar.ts';

export { busyboxSpec, nginxSpec } from './specs.ts';
export type { TarEntry } from './tar.ts';

/** Bump when the builder's output changes for the same spec, to invalidate caches. */
const BUILDER_VERSION = 1;
/** Where images are cached when the caller names no directory (shared by test runs). */
export const DEFAULT_CACHE_DIR = join(tmpdir(), 'skiff-test-images');
const BUSYBOX_CANDIDATES = ['/bin/busybox', '/usr/bin/busybox'];
export const DEFAULT_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export type TestLayer = {
  /** Include /bin/busybox and its applet symlinks, /etc/passwd, /etc/group, /tmp, ... */
  busyboxBase?: boolean;
  /** Further entries (in a later layer, `.wh.name` deletes a lower file; `.wh..wh..opq` makes a dir opaque). */
  entries?: TarEntry[];
  /** Compress this layer with gzip (registry images usually are). */
  gzip?: boolean;
};

/** The image config (Docker's capitalised names, as in the config blob). */
export type TestImageConfig = {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  ExposedPorts?: Record<string, object>;
  Labels?: Record<string, string>;
  StopSignal?: string;
};

export type TestImageSpec = { names: string[]; layers: TestLayer[]; config: TestImageConfig };

export type ArchiveFormat = 'docker-archive' | 'oci-archive';

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function busyboxPath(): string {
  const found = BUSYBOX_CANDIDATES.find((p) => existsSync(p));
  if (!found) throw new Error('test images need a static busybox (apt-get install busybox-static)');
  return found;
}

let busyboxCache: { data: Buffer; applets: string[]; hash: string } | undefined;
function busybox(): { data: Buffer; applets: string[]; hash: string } {
  if (!busyboxCache) {
    const path = busyboxPath();
    const data = readFileSync(path);
    const applets = execFileSync(path, ['--list'], { encoding: 'utf8' })
      .split('\n')
      .filter((a) => a && a !== 'busybox' && !a.includes('/'));
    busyboxCache = { data, applets, hash: sha256(data) };
  }
  return busyboxCache;
}

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\nuser:x:1000:1000:user:/home/user:/bin/sh\n';
const GROUP = 'root:x:0:\nnobody:x:65534:\nuser:x:1000:\n';

/** The busybox root filesystem: the base layer of every test image. */
export function busyboxBaseEntries(): TarEntry[] {
  const bb = busybox();
  const entries: TarEntry[] = [
    { type: 'dir', path: 'bin' },
    { type: 'file', path: 'bin/busybox', data: bb.data, mode: 0o755 },
    ...bb.applets.map((a): TarEntry => ({ type: 'symlink', path: `bin/${a}`, target: 'busybox' })),
    { type: 'dir', path: 'dev' },
    { type: 'dir', path: 'etc' },
    { type: 'file', path: 'etc/passwd', data: PASSWD },
    { type: 'file', path: 'etc/group', data: GROUP },
    { type: 'file', path: 'etc/motd', data: 'skiff test image base layer\n' },
    { type: 'dir', path: 'etc/skiff-base' },
    { type: 'file', path: 'etc/skiff-base/a', data: 'base a\n' },
    { type: 'file', path: 'etc/skiff-base/b', data: 'base b\n' },
    { type: 'dir', path: 'home' },
    { type: 'dir', path: 'home/user', uid: 1000, gid: 1000 },
    { type: 'dir', path: 'proc' },
    { type: 'dir', path: 'root', mode: 0o700 },
    { type: 'dir', path: 'sbin' },
    { type: 'dir', path: 'sys' },
    { type: 'dir', path: 'tmp', mode: 0o1777 },
    { type: 'dir', path: 'usr' },
    { type: 'dir', path: 'usr/bin' },
    { type: 'symlink', path: 'usr/bin/env', target: '../../bin/env' },
    { type: 'dir', path: 'usr/sbin' },
    { type: 'dir', path: 'var' },
    { type: 'dir', path: 'var/tmp', mode: 0o1777 },
  ];
  return entries;
}

type BuiltLayer = { tar: Buffer; blob: Buffer; diffId: string; digest: string; gzip: boolean };

function buildLayer(layer: TestLayer): BuiltLayer {
  const entries = [...(layer.busyboxBase ? busyboxBaseEntries() : []), ...(layer.entries ?? [])];
  entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const tar = writeTar(entries);
  const blob = layer.gzip ? gzipSync(tar) : tar;
  return { tar, blob, diffId: `sha256:${sha256(tar)}`, digest: `sha256:${sha256(blob)}`, gzip: !!layer.gzip };
}

function configBlob(spec: TestImageSpec, layers: BuiltLayer[]): Buffer {
  const config = {
    architecture: 'amd64',
    os: 'linux',
    created: '1970-01-01T00:00:00Z',
    config: { Env: [DEFAULT_PATH_ENV], ...spec.config },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diffId) },
    history: layers.map((_, i) => ({ created: '1970-01-01T00:00:00Z', created_by: `skiff test image layer ${i}` })),
  };
  return Buffer.from(JSON.stringify(config));
}

/** `nginx:1.14.2` → repository and tag as `docker save` writes them in RepoTags. */
function splitTag(name: string): { repo: string; tag: string } {
  const at = name.lastIndexOf(':');
  return at > name.lastIndexOf('/') ? { repo: name.slice(0, at), tag: name.slice(at + 1) } : { repo: name, tag: 'latest' };
}

/** The full containerd-style name (`docker.io/library/nginx:1.14.2`), for OCI annotations. */
export function fullName(name: string): string {
  const { repo, tag } = splitTag(name);
  const first = repo.split('/')[0];
  const hasHost = repo.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  const full = hasHost ? repo : repo.includes('/') ? `docker.io/${repo}` : `docker.io/library/${repo}`;
  return `${full}:${tag}`;
}

function dockerArchive(specs: TestImageSpec[]): Buffer {
  const entries: TarEntry[] = [];
  const seen = new Set<string>();
  const manifest: { Config: string; RepoTags: string[]; Layers: string[] }[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const spec of specs) {
    const layers = spec.layers.map(buildLayer);
    const config = configBlob(spec, layers);
    const configName = `${sha256(config)}.json`;
    const add = (e: TarEntry) => {
      if (!seen.has(e.path)) entries.push(e);
      seen.add(e.path);
    };
    add({ type: 'file', path: configName, data: config });
    // Legacy layer IDs: chain each layer's diff ID onto its parent's, as docker save does.
    let parent = '';
    const layerPaths: string[] = [];
    for (const layer of layers) {
      const id = sha256(`${parent}\n${layer.diffId}`);
      add({ type: 'dir', path: id });
      add({ type: 'file', path: `${id}/VERSION`, data: '1.0' });
      add({ type: 'file', path: `${id}/json`, data: JSON.stringify({ id, parent: parent || undefined }) });
      add({ type: 'file', path: `${id}/layer.tar`, data: layer.blob });
      layerPaths.push(`${id}/layer.tar`);
      parent = id;
    }
    manifest.push({ Config: configName, RepoTags: spec.names, Layers: layerPaths });
    for (const name of spec.names) {
      const { repo, tag } = splitTag(name);
      repositories[repo] = { ...repositories[repo], [tag]: parent };
    }
  }
  entries.push({ type: 'file', path: 'manifest.json', data: JSON.stringify(manifest) });
  entries.push({ type: 'file', path: 'repositories', data: JSON.stringify(repositories) });
  return writeTar(entries);
}

export const MEDIA_TYPES = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;

/** The OCI manifest and blobs of one image (also what the registry pusher uploads). */
export function ociImage(spec: TestImageSpec): { manifest: Buffer; blobs: Map<string, Buffer> } {
  const layers = spec.layers.map(buildLayer);
  const config = configBlob(spec, layers);
  const blobs = new Map<string, Buffer>();
  const configDigest = `sha256:${sha256(config)}`;
  blobs.set(configDigest, config);
  for (const l of layers) blobs.set(l.digest, l.blob);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, digest: configDigest, size: config.length },
      layers: layers.map((l) => ({
        mediaType: l.gzip ? MEDIA_TYPES.ociLayerGzip : MEDIA_TYPES.ociLayer,
        digest: l.digest,
        size: l.blob.length,
      })),
    }),
  );
  blobs.set(`sha256:${sha256(manifest)}`, manifest);
  return { manifest, blobs };
}

/**
 * OCI archive. Annotations: `both` names each image as containerd does
 * (io.containerd.image.name = full name, ref.name = tag); `refName` only sets
 * org.opencontainers.image.ref.name to the full name (as buildah/skopeo do).
 */
function ociArchive(specs: TestImageSpec[], annotations: 'both' | 'refName'): Buffer {
  const blobs = new Map<string, Buffer>();
  const manifests: object[] = [];
  for (const spec of specs) {
    const image = ociImage(spec);
    for (const [d, b] of image.blobs) blobs.set(d, b);
    const digest = `sha256:${sha256(image.manifest)}`;
    for (const name of spec.names) {
      const full = fullName(name);
      manifests.push({
        mediaType: MEDIA_TYPES.ociManifest,
        digest,
        size: image.manifest.length,
        annotations:
          annotations === 'both'
            ? { 'io.containerd.image.name': full, 'org.opencontainers.image.ref.name': splitTag(name).tag }
            : { 'org.opencontainers.image.ref.name': full },
        platform: { architecture: 'amd64', os: 'linux' },
      });
    }
  }
  const index = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests };
  const entries: TarEntry[] = [
    { type: 'file', path: 'oci-layout', data: JSON.stringify({ imageLayoutVersion: '1.0.0' }) },
    { type: 'file', path: 'index.json', data: JSON.stringify(index) },
    { type: 'dir', path: 'blobs' },
    { type: 'dir', path: 'blobs/sha256' },
    ...[...blobs.keys()].sort().map((d): TarEntry => ({ type: 'file', path: `blobs/sha256/${d.slice(7)}`, data: blobs.get(d)! })),
  ];
  return writeTar(entries);
}

export type BuildOptions = {
  format: ArchiveFormat;
  /** OCI only: how images are named (see ociArchive). */
  annotations?: 'both' | 'refName';
  /** File name stem, for humans reading the cache dir. */
  label?: string;
};

/** Builds (or finds cached) one archive holding `specs`; returns its path. */
export function buildArchive(dir: string, specs: TestImageSpec[], options: BuildOptions): string {
  const key = sha256(JSON.stringify({ v: BUILDER_VERSION, busybox: busybox().hash, specs, options }));
  const label = (options.label ?? specs[0]?.names[0] ?? 'image').replace(/[^A-Za-z0-9_.-]+/g, '_');
  const file = join(dir, `${label}.${options.format === 'oci-archive' ? 'oci' : 'docker'}.${key.slice(0, 16)}.tar`);
  if (existsSync(file)) return file;
  mkdirSync(dir, { recursive: true });
  const data = options.format === 'oci-archive' ? ociArchive(specs, options.annotations ?? 'both') : dockerArchive(specs);
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  writeFileSync(tmp, data);
  renameSync(tmp, file);
  return file;
}

export type TestImages = {
  /** nginx:1.14.2, docker-archive, two layers (upper gzipped, with a whiteout and an opaque dir). */
  nginx1142: string;
  /** nginx:1.14.1, OCI archive (containerd annotations), two gzipped layers sharing the base with 1.14.2. */
  nginx1141: string;
  /** busybox:latest (cmd sh), docker-archive, one layer. */
  busybox: string;
  /** The same images in the other format: nginx:1.14.2 as OCI, nginx:1.14.1 as docker-archive, busybox as OCI (ref.name only). */
  nginx1142Oci: string;
  nginx1141Docker: string;
  busyboxOci: string;
  /** One docker-archive holding nginx:1.14.2, nginx:1.14.1 and busybox:latest (like `docker save a b c`). */
  all: string;
  dir: string;
};

/** Builds the standard test images into `dir` (cached by content); returns tarball paths. */
export async function buildTestImages(dir: string = DEFAULT_CACHE_DIR): Promise<TestImages> {
  const n2 = nginxSpec('1.14.2');
  const n1 = nginxSpec('1.14.1');
  const bb = busyboxSpec();
  return {
    nginx1142: buildArchive(dir, [n2], { format: 'docker-archive' }),
    nginx1141: buildArchive(dir, [n1], { format: 'oci-archive' }),
    busybox: buildArchive(dir, [bb], { format: 'docker-archive' }),
    nginx1142Oci: buildArchive(dir, [n2], { format: 'oci-archive' }),
    nginx1141Docker: buildArchive(dir, [n1], { format: 'docker-archive' }),
    busyboxOci: buildArchive(dir, [bb], { format: 'oci-archive', annotations: 'refName' }),
    all: buildArchive(dir, [n2, n1, bb], { format: 'docker-archive', label: 'all' }),
    dir,
  };
}
