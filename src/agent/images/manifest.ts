// Manifest and config formats shared by archives and registries: media
// types, platform selection from manifest lists / OCI indexes, and the
// image config as the kubelet needs it.
import type { ImageConfig } from '../types.ts';
import { ImageError } from './errors.ts';

export const MEDIA = {
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
} as const;

/** What a registry is asked for: every manifest kind we can read. */
export const MANIFEST_ACCEPT = [MEDIA.ociIndex, MEDIA.dockerList, MEDIA.ociManifest, MEDIA.dockerManifest].join(', ');

export type Descriptor = {
  mediaType?: string;
  digest: string;
  size?: number;
  annotations?: Record<string, string>;
  platform?: { architecture?: string; os?: string; variant?: string };
  urls?: string[];
};

/** This agent runs linux/amd64 containers (the machines skiff targets). */
export const PLATFORM = { os: 'linux', architecture: process.arch === 'arm64' ? 'arm64' : 'amd64' };

/** Picks this node's platform from a manifest list (entries without a platform match anything, as in single-image indexes). */
export function selectPlatform(manifests: Descriptor[]): Descriptor {
  const candidates = manifests.filter((m) => m.mediaType !== 'application/vnd.in-toto+json');
  const exact = candidates.find((m) => m.platform?.os === PLATFORM.os && m.platform?.architecture === PLATFORM.architecture);
  // Attestation manifests (buildx) carry platform unknown/unknown; never pick those.
  const unplatformed = candidates.find((m) => !m.platform && m.annotations?.['vnd.docker.reference.type'] === undefined);
  const found = exact ?? unplatformed;
  if (!found) {
    const have = candidates.map((m) => `${m.platform?.os}/${m.platform?.architecture}`).join(', ');
    throw new ImageError('NoMatchingPlatform', `no manifest for ${PLATFORM.os}/${PLATFORM.architecture} (have ${have || 'none'})`);
  }
  return found;
}

export function isIndex(mediaType: string | undefined): boolean {
  return mediaType === MEDIA.ociIndex || mediaType === MEDIA.dockerList;
}

/** The `config` object of a Docker/OCI image config, in ImageConfig's names. */
export function imageConfigOf(blob: Record<string, unknown>): ImageConfig {
  const c = (blob.config ?? {}) as Record<string, unknown>;
  const out: ImageConfig = {};
  const strings = (v: unknown) => (Array.isArray(v) ? v.map(String) : undefined);
  if (strings(c.Entrypoint)) out.entrypoint = strings(c.Entrypoint);
  if (strings(c.Cmd)) out.cmd = strings(c.Cmd);
  if (strings(c.Env)) out.env = strings(c.Env);
  if (typeof c.WorkingDir === 'string' && c.WorkingDir) out.workingDir = c.WorkingDir;
  if (typeof c.User === 'string' && c.User) out.user = c.User;
  if (c.ExposedPorts && typeof c.ExposedPorts === 'object') out.exposedPorts = c.ExposedPorts as Record<string, object>;
  if (c.Labels && typeof c.Labels === 'object') out.labels = c.Labels as Record<string, string>;
  if (typeof c.StopSignal === 'string' && c.StopSignal) out.stopSignal = c.StopSignal;
  return out;
}

export function diffIds(blob: Record<string, unknown>): string[] {
  const ids = (blob.rootfs as { diff_ids?: unknown } | undefined)?.diff_ids;
  if (!Array.isArray(ids) || !ids.every((d) => typeof d === 'string' && /^sha256:[a-f0-9]{64}$/.test(d))) {
    throw new ImageError('InvalidArchive', 'image config has no valid rootfs.diff_ids');
  }
  return ids as string[];
}
