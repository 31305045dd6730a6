// An in-memory Client for unit tests: objects by resource/namespace/name,
// resourceVersion conflicts, merge patches; enough for leases and events.
import { ApiError } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import type { Client, ResourceRef } from './client.ts';

export function fakeClient(): Client & { objects: Map<string, KubeObject>; failWrites: boolean } {
  const objects = new Map<string, KubeObject>();
  let rv = 0;
  const key = (ref: ResourceRef, ns: string | undefined, name: string | undefined) => `${ref.resource}/${ns ?? ''}/${name}`;
  const notFound = (name: string) => new ApiError(404, 'NotFound', `"${name}" not found`);
  const state = {
    objects,
    failWrites: false,
    request: async () => {
      throw new Error('not in the fake');
    },
    get: async (ref: ResourceRef, name: string, o: { namespace?: string } = {}) => {
      const obj = objects.get(key(ref, o.namespace, name));
      if (!obj) throw notFound(name);
      return structuredClone(obj);
    },
    create: async (ref: ResourceRef, obj: KubeObject) => {
      if (state.failWrites) throw new ApiError(503, 'ServiceUnavailable', 'down');
      const k = key(ref, obj.metadata.namespace, obj.metadata.name);
      if (objects.has(k)) throw new ApiError(409, 'AlreadyExists', 'exists');
      const stored = { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(++rv) } };
      objects.set(k, stored);
      return structuredClone(stored);
    },
    update: async (ref: ResourceRef, obj: KubeObject) => {
      if (state.failWrites) throw new ApiError(503, 'ServiceUnavailable', 'down');
      const k = key(ref, obj.metadata.namespace, obj.metadata.name);
      const current = objects.get(k);
      if (!current) throw notFound(obj.metadata.name ?? '');
      if (obj.metadata.resourceVersion && obj.metadata.resourceVersion !== current.metadata.resourceVersion) {
        throw new ApiError(409, 'Conflict', 'the object has been modified');
      }
      const stored = { ...structuredClone(obj), metadata: { ...obj.metadata, resourceVersion: String(++rv) } };
      objects.set(k, stored);
      return structuredClone(stored);
    },
    patch: async (ref: ResourceRef, name: string, patch: Record<string, unknown>, o: { namespace?: string }) => {
      const k = key(ref, o.namespace, name);
      const current = objects.get(k);
      if (!current) throw notFound(name);
      const stored = { ...current, ...structuredClone(patch), metadata: { ...current.metadata, resourceVersion: String(++rv) } };
      objects.set(k, stored);
      return structuredClone(stored);
    },
  };
  const unsupported = async () => {
    throw new Error('not in the fake');
  };
  return {
    ...state,
    get failWrites() {
      return state.failWrites;
    },
    set failWrites(v: boolean) {
      state.failWrites = v;
    },
    list: unsupported,
    updateStatus: unsupported,
    delete: unsupported,
    deleteCollection: unsupported,
    watch: () => ({ [Symbol.asyncIterator]: unsupported }),
    close: () => {},
  } as unknown as Client & { objects: Map<string, KubeObject>; failWrites: boolean };
}
