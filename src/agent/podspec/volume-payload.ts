// What configMap, secret, downwardAPI and projected volumes contain: pure
// functions from the referenced objects to an atomic-writer payload.
import type { KubeObject } from '../../api/types.ts';
import type { Payload } from './atomic-writer.ts';
import { type PodRuntimeValues, podFieldValue, resourceFieldValue } from './fieldpath.ts';
import type { Json, NodeAllocatable } from './types.ts';

/** Kubernetes' default file mode for these volumes (0644). */
export const DEFAULT_MODE = 0o644;
/** What SetVolumeOwnership adds to files of a read-only volume when fsGroup is set (g+r). */
const FS_GROUP_READ = 0o440;

export type KeyToPath = { key: string; path: string; mode?: number };

/** configMap or secret contents as bytes (ConfigMap binaryData included). */
export function dataBytes(kind: 'ConfigMap' | 'Secret', obj: KubeObject): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (kind === 'Secret') {
    for (const [k, v] of Object.entries((obj.data ?? {}) as Record<string, string>)) out.set(k, Buffer.from(v, 'base64'));
    for (const [k, v] of Object.entries((obj.stringData ?? {}) as Record<string, string>)) out.set(k, Buffer.from(v));
  } else {
    for (const [k, v] of Object.entries((obj.data ?? {}) as Record<string, string>)) out.set(k, Buffer.from(v));
    for (const [k, v] of Object.entries((obj.binaryData ?? {}) as Record<string, string>)) out.set(k, Buffer.from(v, 'base64'));
  }
  return out;
}

/** Applies fsGroup's read bit, as Kubernetes' SetVolumeOwnership does for read-only volumes. */
export function withFsGroup(mode: number, fsGroup: number | undefined): number {
  return fsGroup === undefined ? mode : mode | FS_GROUP_READ;
}

/**
 * Files for a configMap or secret source: every key, or only `items`.
 * `obj` undefined means the object does not exist (the caller has already
 * decided that is allowed: optional). Throws for a missing, required key.
 */
export function keysPayload(options: {
  kind: 'ConfigMap' | 'Secret';
  obj: KubeObject | undefined;
  items?: KeyToPath[];
  defaultMode?: number;
  optional?: boolean;
  fsGroup?: number;
}): Payload {
  const payload: Payload = new Map();
  if (!options.obj) return payload;
  const data = dataBytes(options.kind, options.obj);
  const mode = options.defaultMode ?? DEFAULT_MODE;
  if (!options.items || options.items.length === 0) {
    for (const [key, bytes] of data) payload.set(key, { data: bytes, mode: withFsGroup(mode, options.fsGroup) });
    return payload;
  }
  for (const item of options.items) {
    const bytes = data.get(item.key);
    if (!bytes) {
      if (options.optional) continue;
      throw new Error(
        options.kind === 'ConfigMap'
          ? `configmap references non-existent config key: ${item.key}`
          : `references non-existent secret key: ${item.key}`,
      );
    }
    payload.set(item.path, { data: bytes, mode: withFsGroup(item.mode ?? mode, options.fsGroup) });
  }
  return payload;
}

/** downwardAPI items: fieldRef or resourceFieldRef values as files. */
export function downwardPayload(options: {
  pod: KubeObject;
  items: Json[];
  defaultMode?: number;
  runtime?: PodRuntimeValues;
  allocatable?: NodeAllocatable;
  fsGroup?: number;
}): Payload {
  const payload: Payload = new Map();
  const mode = options.defaultMode ?? DEFAULT_MODE;
  for (const item of options.items) {
    let text: string;
    if (item.fieldRef) {
      text = podFieldValue(options.pod, item.fieldRef.fieldPath, options.runtime);
    } else if (item.resourceFieldRef) {
      const ref = item.resourceFieldRef;
      const container = [...(options.pod.spec?.containers ?? []), ...(options.pod.spec?.initContainers ?? [])].find(
        (c: Json) => c.name === ref.containerName,
      );
      if (!container) throw new Error(`container "${ref.containerName}" not found in pod`);
      text = resourceFieldValue({ container, resource: ref.resource, divisor: ref.divisor, allocatable: options.allocatable });
    } else {
      continue;
    }
    payload.set(item.path, { data: Buffer.from(text), mode: withFsGroup(item.mode ?? mode, options.fsGroup) });
  }
  return payload;
}

/** The token file's mode: 0600 when fsGroup is set (SetVolumeOwnership then makes it 0640), else the volume's mode. */
export function tokenMode(defaultMode: number | undefined, fsGroup: number | undefined): number {
  return fsGroup === undefined ? (defaultMode ?? DEFAULT_MODE) : withFsGroup(0o600, fsGroup);
}

/** Joins payloads of projected sources; API validation refuses duplicate paths, so later simply wins. */
export function mergePayloads(parts: Payload[]): Payload {
  const out: Payload = new Map();
  for (const part of parts) for (const [path, file] of part) out.set(path, file);
  return out;
}
