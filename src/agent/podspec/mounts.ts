// A container's volume mounts: volumeMounts → OCI bind mounts of the pod's
// prepared volumes, with subPath / subPathExpr resolved safely on the host.
// mountPropagation is not honoured: every mount is rprivate.
import { mkdir, realpath } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Mount } from '../types.ts';
import { expand, mappingFor } from './expand.ts';
import { ContainerConfigError, type EnvVar, type Json } from './types.ts';
import type { PreparedVolume } from './volumes.ts';

/** The kubelet creates a missing subPath as a directory with this mode. */
const SUBPATH_DIR_MODE = 0o750;

export type PlannedMount = { destination: string; volume: PreparedVolume; subPath?: string; readOnly: boolean };

/** Number of path elements: mounts are made parents first (containerd sorts the same way). */
function depth(path: string): number {
  return posix.normalize(path).split('/').filter(Boolean).length;
}

/** Pure part: which volume goes where, with subPathExpr expanded from the container's env. */
export function planContainerMounts(options: {
  container: Json;
  volumes: Map<string, PreparedVolume>;
  env?: EnvVar[];
}): PlannedMount[] {
  const { container, volumes } = options;
  const mapping = mappingFor(new Map((options.env ?? []).map((e) => [e.name, e.value])));
  const planned: PlannedMount[] = [];
  for (const vm of (container.volumeMounts ?? []) as Json[]) {
    const volume = volumes.get(vm.name);
    if (!volume) throw new ContainerConfigError(`cannot find volume "${vm.name}" to mount into container "${container.name}"`);
    let subPath: string | undefined = vm.subPath || undefined;
    if (vm.subPathExpr) subPath = expand(vm.subPathExpr, mapping);
    if (subPath !== undefined) {
      if (posix.isAbsolute(subPath) || subPath.split('/').includes('..')) {
        throw new ContainerConfigError(`failed to prepare subPath for volumeMount "${vm.name}" of container "${container.name}"`);
      }
    }
    planned.push({
      destination: posix.normalize(vm.mountPath).replace(/(.)\/+$/, '$1'),
      volume,
      subPath,
      readOnly: volume.readOnly || vm.readOnly === true,
    });
  }
  return planned.map((m, i) => ({ m, i })).sort((a, b) => depth(a.m.destination) - depth(b.m.destination) || a.i - b.i).map((x) => x.m);
}

/** A read-only or read-write recursive bind mount. */
export function bindMount(destination: string, source: string, readOnly: boolean): Mount {
  return { destination, source, type: 'bind', options: ['rbind', 'rprivate', readOnly ? 'ro' : 'rw'] };
}

/**
 * Resolves subPaths on the host: symlinks (the atomic writer's per-key links)
 * are followed, but the result must stay inside the volume. A missing subPath
 * in a writable volume is created as a directory, as the kubelet does.
 */
async function resolveSubPath(volume: PreparedVolume, subPath: string): Promise<string> {
  const base = await realpath(volume.path);
  const wanted = join(base, subPath);
  let resolved: string;
  try {
    resolved = await realpath(wanted);
  } catch {
    if (volume.readOnly) throw new ContainerConfigError(`subPath "${subPath}" does not exist in volume "${volume.name}"`);
    await mkdir(wanted, { recursive: true, mode: SUBPATH_DIR_MODE });
    resolved = await realpath(wanted);
  }
  if (resolved !== base && !resolved.startsWith(`${base}/`)) {
    throw new ContainerConfigError(`subPath "${subPath}" of volume "${volume.name}" points outside the volume`);
  }
  return resolved;
}

/** The container's volume mounts, ready for ContainerSpec.mounts. */
export async function containerMounts(options: {
  container: Json;
  volumes: Map<string, PreparedVolume>;
  env?: EnvVar[];
}): Promise<Mount[]> {
  const out: Mount[] = [];
  for (const m of planContainerMounts(options)) {
    const source = m.subPath ? await resolveSubPath(m.volume, m.subPath) : m.volume.path;
    out.push(bindMount(m.destination, source, m.readOnly));
  }
  return out;
}
