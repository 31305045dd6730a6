// Between stored bytes and API objects: storage keys, resourceVersion from
// the store's revision, and conversion between served and storage versions.
import { apiVersionOf, type KubeObject } from '../../api/types.ts';
import type { ResourceDef } from '../registry/types.ts';
import type { KeyValue } from '../../store/types.ts';

/** Kubernetes-like key layout: /registry/<group>/<plural>/<namespace>/<name>. */
export function objectKey(def: ResourceDef, namespace: string, name: string): string {
  return def.namespaced ? `${resourcePrefix(def)}${namespace}/${name}` : `${resourcePrefix(def)}${name}`;
}

/** Prefix of every object of a resource, or of one namespace's objects when namespace is given. */
export function resourcePrefix(def: ResourceDef, namespace = ''): string {
  const { group, plural } = def.storage ?? def;
  const base = `/registry/${group || 'core'}/${plural}/`;
  return def.namespaced && namespace ? `${base}${namespace}/` : base;
}

/** Objects are stored without resourceVersion: the store's modRevision is the truth. */
export function encode(obj: KubeObject): string {
  const { resourceVersion: _rv, ...metadata } = obj.metadata;
  return JSON.stringify({ ...obj, metadata });
}

/** Decodes a stored object (storage version) and stamps its resourceVersion. */
export function decode(kv: KeyValue): KubeObject {
  const obj = JSON.parse(kv.value) as KubeObject;
  obj.metadata.resourceVersion = String(kv.modRevision);
  return obj;
}

/** Another version, or another resource's storage (events.k8s.io/v1 events are core/v1 events), needs conversion. */
function needsConversion(def: ResourceDef, version: string): boolean {
  return def.convert !== undefined && (version !== def.storageVersion || def.storage !== undefined);
}

/** Converts a storage-version object to `version`, setting apiVersion and kind. */
export function toVersion(def: ResourceDef, obj: KubeObject, version: string): KubeObject {
  const converted = needsConversion(def, version) ? def.convert!.fromStorage(obj, version) : obj;
  return { ...converted, apiVersion: apiVersionOf(def.group, version), kind: def.kind };
}

/** Converts an object in `version` to the storage version. */
export function toStorage(def: ResourceDef, obj: KubeObject, version: string): KubeObject {
  const converted = needsConversion(def, version) ? def.convert!.toStorage(obj, version) : obj;
  return { ...converted, apiVersion: apiVersionOf(def.group, def.storageVersion), kind: def.kind };
}

/** A deep copy of plain JSON. */
export function clone<T>(value: T): T {
  return structuredClone(value);
}
