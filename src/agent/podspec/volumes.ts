// A pod's volumes on the node, under <podDir>/volumes/<plugin>/<name>/ with
// Kubernetes' plugin directory names, ready to bind into containers. Calling
// preparePodVolumes again refreshes configMap/secret/projected/downwardAPI
// contents (atomically) — the kubelet does so periodically.
import { runCommand } from '../../lib/exec.ts';
import { chmod, chown, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeObject } from '../../api/types.ts';
import { type Payload, writeAtomic } from './atomic-writer.ts';
import type { PodRuntimeValues } from './fieldpath.ts';
import { checkHostPath } from './hostpath.ts';
import { wholeValue } from './resources.ts';
import { type Json, type NodeAllocatable, type ObjectGetter, VolumeError } from './types.ts';
import { downwardPayload, keysPayload, mergePayloads, tokenMode } from './volume-payload.ts';

/** Kubernetes' on-disk plugin names ("kubernetes.io/empty-dir" with '/' escaped as '~'). */
export const PLUGIN_DIRS = {
  emptyDir: 'kubernetes.io~empty-dir',
  configMap: 'kubernetes.io~configmap',
  secret: 'kubernetes.io~secret',
  projected: 'kubernetes.io~projected',
  downwardAPI: 'kubernetes.io~downward-api',
} as const;
/** emptyDir directories are world-writable, as Kubernetes makes them (any container user may write). */
const EMPTY_DIR_MODE = 0o777;
/** The root CA ConfigMap Kubernetes publishes in every namespace (kube-api-access volumes read ca.crt from it). */
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
/** Volume names are DNS labels; anything else must not become a path. */
const VOLUME_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** Default lifetime of a projected service-account token (ServiceAccountTokenProjection default). */
const DEFAULT_TOKEN_SECONDS = 3600;

export type PreparedVolume = {
  name: string;
  /** Host path to bind into containers. */
  path: string;
  /** configMap, secret, downwardAPI and projected volumes are always mounted read-only. */
  readOnly: boolean;
};

export type TokenSource = (request: { audience?: string; expirationSeconds: number }) => Promise<string>;

export type PrepareVolumesOptions = {
  pod: KubeObject;
  /** <data-dir>/agent/pods/<uid> */
  podDir: string;
  getConfigMap: ObjectGetter;
  getSecret: ObjectGetter;
  /** Issues a token for the pod's service account (TokenRequest bound to the pod). */
  serviceAccountToken?: TokenSource;
  /** Used for kube-root-ca.crt's ca.crt when that ConfigMap does not exist. */
  clusterCaPem?: string;
  runtime?: PodRuntimeValues;
  nodeAllocatable?: NodeAllocatable;
};

async function run(cmd: string, args: string[]): Promise<{ code: number; stderr: string }> {
  const r = await runCommand([cmd, ...args]);
  if (r.code === null) throw new Error(`cannot run ${cmd}: ${r.stderr}`);
  return { code: r.code, stderr: r.stderr.trim() };
}

/** Mount points at or under `dir`, deepest first (from /proc/self/mountinfo, octal escapes decoded). */
export async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  const points = info
    .split('\n')
    .map((line) => line.split(' ')[4])
    .filter(Boolean)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))))
    .filter((p) => p === dir || p.startsWith(`${dir}/`));
  return [...new Set(points)].sort((a, b) => b.length - a.length);
}

/** The pod's memory limit when every container has one (as the pod cgroup would), else undefined. */
export function podMemoryLimit(pod: KubeObject): number | undefined {
  const limitOf = (c: Json) => wholeValue(c.resources?.limits?.memory);
  const containers: Json[] = pod.spec?.containers ?? [];
  const inits: Json[] = pod.spec?.initContainers ?? [];
  if ([...containers, ...inits].some((c) => limitOf(c) === 0)) return undefined;
  const sum = containers.reduce((n, c) => n + limitOf(c), 0);
  return Math.max(sum, ...inits.map(limitOf));
}

/** tmpfs size for a Memory emptyDir: sizeLimit (else node allocatable), capped by the pod's memory limit. */
export function emptyDirMemorySize(pod: KubeObject, sizeLimit: unknown, allocatableMemory?: number): number | undefined {
  let size = wholeValue(sizeLimit) || allocatableMemory;
  const podLimit = podMemoryLimit(pod);
  if (podLimit !== undefined && (size === undefined || podLimit < size)) size = podLimit;
  return size;
}

async function prepareEmptyDir(options: PrepareVolumesOptions, volume: Json, dir: string): Promise<void> {
  const fsGroup: number | undefined = options.pod.spec?.securityContext?.fsGroup;
  await mkdir(dir, { recursive: true });
  if (volume.emptyDir.medium === 'Memory' && !(await mountsUnder(dir)).includes(dir)) {
    const size = emptyDirMemorySize(options.pod, volume.emptyDir.sizeLimit, options.nodeAllocatable?.memory);
    const opts = ['mode=0777', ...(size ? [`size=${size}`] : [])].join(',');
    const { code, stderr } = await run('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', dir]);
    if (code !== 0) throw new Error(`mount of tmpfs failed: ${stderr}`);
  }
  await chmod(dir, EMPTY_DIR_MODE | (fsGroup !== undefined ? 0o2000 : 0));
  if (fsGroup !== undefined) await chown(dir, process.getuid?.() ?? 0, fsGroup);
}

async function fetchRequired(get: ObjectGetter, kind: 'configmap' | 'secret', ns: string, name: string, optional: boolean) {
  const obj = await get(ns, name);
  if (!obj && !optional) throw new Error(`${kind} "${name}" not found`);
  return obj;
}

async function projectedPayload(options: PrepareVolumesOptions, volume: Json, fsGroup: number | undefined): Promise<Payload> {
  const { pod } = options;
  const ns = pod.metadata.namespace ?? 'default';
  const defaultMode: number | undefined = volume.projected.defaultMode;
  const parts: Payload[] = [];
  for (const source of (volume.projected.sources ?? []) as Json[]) {
    if (source.configMap) {
      const s = source.configMap;
      let obj = await options.getConfigMap(ns, s.name);
      if (!obj && s.name === ROOT_CA_CONFIGMAP && options.clusterCaPem) obj = { metadata: {}, data: { 'ca.crt': options.clusterCaPem } } as KubeObject;
      if (!obj && !s.optional) throw new Error(`configmap "${s.name}" not found`);
      parts.push(keysPayload({ kind: 'ConfigMap', obj, items: s.items, defaultMode, optional: s.optional, fsGroup }));
    } else if (source.secret) {
      const s = source.secret;
      const obj = await fetchRequired(options.getSecret, 'secret', ns, s.name, s.optional === true);
      parts.push(keysPayload({ kind: 'Secret', obj, items: s.items, defaultMode, optional: s.optional, fsGroup }));
    } else if (source.downwardAPI) {
      const items = source.downwardAPI.items ?? [];
      parts.push(downwardPayload({ pod, items, defaultMode, runtime: options.runtime, allocatable: options.nodeAllocatable, fsGroup }));
    } else if (source.serviceAccountToken) {
      const s = source.serviceAccountToken;
      if (!options.serviceAccountToken) throw new Error('no service account token source on this node');
      const token = await options.serviceAccountToken({
        audience: s.audience || undefined,
        expirationSeconds: s.expirationSeconds ?? DEFAULT_TOKEN_SECONDS,
      });
      parts.push(new Map([[s.path, { data: Buffer.from(token), mode: tokenMode(defaultMode, fsGroup) }]]));
    } else {
      throw new Error(`unsupported projected volume source: ${Object.keys(source).join(', ')}`);
    }
  }
  return mergePayloads(parts);
}

async function prepareOne(options: PrepareVolumesOptions, volume: Json): Promise<PreparedVolume> {
  const { pod, podDir } = options;
  const ns = pod.metadata.namespace ?? 'default';
  const fsGroup: number | undefined = pod.spec?.securityContext?.fsGroup;
  const name: string = volume.name;
  if (!VOLUME_NAME.test(name ?? '')) throw new Error(`invalid volume name "${name}"`);
  const dirOf = (plugin: keyof typeof PLUGIN_DIRS) => join(podDir, 'volumes', PLUGIN_DIRS[plugin], name);
  const atomic = async (plugin: keyof typeof PLUGIN_DIRS, payload: Payload) => {
    const dir = dirOf(plugin);
    await writeAtomic(dir, payload, { gid: fsGroup });
    return { name, path: dir, readOnly: true };
  };
  if (volume.hostPath) {
    await checkHostPath(volume.hostPath.path, volume.hostPath.type ?? '');
    return { name, path: volume.hostPath.path, readOnly: false };
  }
  if (volume.emptyDir) {
    await prepareEmptyDir(options, volume, dirOf('emptyDir'));
    return { name, path: dirOf('emptyDir'), readOnly: false };
  }
  if (volume.configMap) {
    const s = volume.configMap;
    const obj = await fetchRequired(options.getConfigMap, 'configmap', ns, s.name, s.optional === true);
    return atomic('configMap', keysPayload({ kind: 'ConfigMap', obj, items: s.items, defaultMode: s.defaultMode, optional: s.optional, fsGroup }));
  }
  if (volume.secret) {
    const s = volume.secret;
    const obj = await fetchRequired(options.getSecret, 'secret', ns, s.secretName, s.optional === true);
    return atomic('secret', keysPayload({ kind: 'Secret', obj, items: s.items, defaultMode: s.defaultMode, optional: s.optional, fsGroup }));
  }
  if (volume.downwardAPI) {
    const s = volume.downwardAPI;
    const payload = downwardPayload({
      pod,
      items: s.items ?? [],
      defaultMode: s.defaultMode,
      runtime: options.runtime,
      allocatable: options.nodeAllocatable,
      fsGroup,
    });
    return atomic('downwardAPI', payload);
  }
  if (volume.projected) return atomic('projected', await projectedPayload(options, volume, fsGroup));
  const kind = Object.keys(volume).find((k) => k !== 'name') ?? 'none';
  throw new Error(`volume type ${kind} is not supported on this node`);
}

/**
 * Sets up every volume of the pod; idempotent. Throws VolumeError (the
 * kubelet's FailedMount) naming the first volume that failed.
 */
export async function preparePodVolumes(options: PrepareVolumesOptions): Promise<Map<string, PreparedVolume>> {
  const out = new Map<string, PreparedVolume>();
  for (const volume of (options.pod.spec?.volumes ?? []) as Json[]) {
    try {
      out.set(volume.name, await prepareOne(options, volume));
    } catch (err) {
      if (err instanceof VolumeError) throw err;
      throw new VolumeError(volume.name, (err as Error).message);
    }
  }
  return out;
}

/** Unmounts the pod's tmpfs volumes and removes its volume directories (never following into other mounts). */
export async function cleanupPodVolumes(podDir: string): Promise<void> {
  const root = join(podDir, 'volumes');
  for (const point of await mountsUnder(root)) {
    const first = await run('umount', [point]);
    if (first.code !== 0 && (await run('umount', ['-l', point])).code !== 0) {
      throw new Error(`unmount of ${point} failed: ${first.stderr}`);
    }
  }
  await rm(root, { recursive: true, force: true });
}
