// Server-set metadata: names from generateName, uid, timestamps, generation.
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { errors } from '../../api/errors.ts';
import { apiVersionOf, type KubeObject, type ObjectMeta } from '../../api/types.ts';
import type { ResourceDef } from '../registry/types.ts';

/** Kubernetes' alphabet for generated suffixes: no vowels (no words), no look-alikes. */
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
const SUFFIX_LENGTH = 5;
/** Names are at most 253 characters; generateName prefixes are cut so the suffix fits within 63. */
const MAX_GENERATED_PREFIX = 58;

export function randomSuffix(length = SUFFIX_LENGTH): string {
  let out = '';
  for (let i = 0; i < length; i++) out += SUFFIX_ALPHABET[Math.floor(Math.random() * SUFFIX_ALPHABET.length)];
  return out;
}

export function generateName(prefix: string): string {
  return prefix.slice(0, MAX_GENERATED_PREFIX) + randomSuffix();
}

/** RFC 3339 with second precision, as Kubernetes serialises metav1.Time. */
export function timestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** Checks the body's apiVersion/kind against the URL's, defaulting them when absent. */
export function checkTypeMeta(def: ResourceDef, version: string, obj: KubeObject): void {
  const expected = apiVersionOf(def.group, version);
  if (obj.apiVersion === undefined || obj.apiVersion === '') obj.apiVersion = expected;
  if (obj.kind === undefined || obj.kind === '') obj.kind = def.kind;
  if (obj.apiVersion !== expected) {
    throw errors.badRequest(
      `the API version in the data (${obj.apiVersion}) does not match the expected API version (${expected})`,
    );
  }
  if (obj.kind !== def.kind) {
    throw errors.badRequest(`the kind in the data (${obj.kind}) does not match the expected kind (${def.kind})`);
  }
}

/** Ensures metadata is an object and its namespace agrees with the URL's. */
export function checkNamespace(def: ResourceDef, namespace: string, obj: KubeObject): void {
  if (typeof obj.metadata !== 'object' || obj.metadata === null || Array.isArray(obj.metadata)) {
    if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
    else throw errors.badRequest('metadata must be an object');
  }
  if (!def.namespaced) {
    delete obj.metadata.namespace;
    return;
  }
  if (obj.metadata.namespace && obj.metadata.namespace !== namespace) {
    throw errors.badRequest(
      'the namespace of the provided object does not match the namespace sent on the request',
    );
  }
  obj.metadata.namespace = namespace;
}

/** Kinds whose objects carry metadata.generation: those with a spec (what controllers observe). */
export function tracksGeneration(def: ResourceDef, obj: KubeObject): boolean {
  return def.subresources.status === true || obj.spec !== undefined;
}

/** Fills server-owned metadata of a new object. */
export function initMeta(def: ResourceDef, obj: KubeObject, now: Date): void {
  const meta: ObjectMeta = obj.metadata;
  if (meta.resourceVersion) throw errors.badRequest('resourceVersion should not be set on objects to be created');
  if (!meta.name && meta.generateName) meta.name = generateName(meta.generateName);
  meta.uid = randomUUID();
  meta.creationTimestamp = timestamp(now);
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
  if (tracksGeneration(def, obj)) meta.generation = 1;
  else delete meta.generation;
}

/** Keeps what a client may not change on update. */
export function keepImmutableMeta(obj: KubeObject, old: KubeObject): void {
  const meta = obj.metadata;
  meta.uid = old.metadata.uid;
  meta.creationTimestamp = old.metadata.creationTimestamp;
  meta.namespace = old.metadata.namespace;
  meta.generation = old.metadata.generation;
  meta.deletionTimestamp = old.metadata.deletionTimestamp;
  meta.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
  if (meta.generation === undefined) delete meta.generation;
  if (meta.deletionTimestamp === undefined) delete meta.deletionTimestamp;
  if (meta.deletionGracePeriodSeconds === undefined) delete meta.deletionGracePeriodSeconds;
}

/** Whether anything but metadata and status changed: such a change bumps metadata.generation. */
export function specChanged(a: KubeObject, b: KubeObject): boolean {
  const { metadata: _m1, status: _s1, apiVersion: _a1, kind: _k1, ...restA } = a;
  const { metadata: _m2, status: _s2, apiVersion: _a2, kind: _k2, ...restB } = b;
  return !isDeepStrictEqual(restA, restB);
}

/** Objects equal for the purpose of skipping a no-op write (ignores managedFields times). */
export function sameObject(a: KubeObject, b: KubeObject): boolean {
  return isDeepStrictEqual(stripVolatile(a), stripVolatile(b));
}

function stripVolatile(obj: KubeObject): KubeObject {
  const { resourceVersion: _rv, managedFields, ...meta } = obj.metadata;
  const fields = managedFields?.map(({ time: _t, ...entry }) => entry);
  return { ...obj, metadata: { ...meta, managedFields: fields } };
}

/** ObjectMeta fields Go's JSON encoding omits when empty (omitempty): an emptied list or map is gone, as in Kubernetes. */
const OMIT_EMPTY_META = ['labels', 'annotations', 'ownerReferences', 'finalizers'] as const;

export function dropEmptyMeta(obj: KubeObject): void {
  const meta = obj.metadata as Record<string, unknown>;
  for (const field of OMIT_EMPTY_META) {
    const value = meta[field];
    if (value === null || (Array.isArray(value) && value.length === 0)) delete meta[field];
    else if (typeof value === 'object' && value !== undefined && Object.keys(value).length === 0) delete meta[field];
  }
}
