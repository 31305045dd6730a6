// The typed client every component except the API server uses: CRUD, patch,
// list and watch on any resource, named by group, version, resource and scope.
import type { KubeObject, ListMeta } from '../api/types.ts';
import { createTransport, type RequestOptions, type TransportOptions } from './http.ts';
import { parseWatchStream, type WatchEvent } from './watch.ts';

export type ResourceRef = { group: string; version: string; resource: string; namespaced: boolean };

export type KubeList<T extends KubeObject = KubeObject> = {
  apiVersion?: string;
  kind?: string;
  metadata: ListMeta;
  items: T[];
};

export type PatchType = 'merge' | 'strategic' | 'json' | 'apply';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
  apply: 'application/apply-patch+yaml',
};

/** Metadata-only lists and watches: what the GC and namespace controller need, a fraction of the bytes. */
export const METADATA_LIST_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';
export const METADATA_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

export type Scope = { namespace?: string };
export type WriteOptions = Scope & { fieldManager?: string; dryRun?: boolean };
export type ListOptions = Scope & {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  /** Items carry metadata only (PartialObjectMetadata). */
  metadataOnly?: boolean;
};
export type WatchOptions = Omit<ListOptions, 'limit' | 'continue'> & {
  timeoutSeconds?: number;
  allowWatchBookmarks?: boolean;
  signal?: AbortSignal;
};
export type DeleteOptions = Scope & {
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
};
export type PatchOptions = WriteOptions & { type: PatchType; force?: boolean; subresource?: string };

export type Client = {
  /** A raw request, e.g. discovery (GET /api, /apis, /apis/g/v). */
  request<T = unknown>(options: RequestOptions): Promise<T>;
  get<T extends KubeObject = KubeObject>(ref: ResourceRef, name: string, options?: Scope & { metadataOnly?: boolean }): Promise<T>;
  list<T extends KubeObject = KubeObject>(ref: ResourceRef, options?: ListOptions): Promise<KubeList<T>>;
  create<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T, options?: WriteOptions): Promise<T>;
  update<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T, options?: WriteOptions & { subresource?: string }): Promise<T>;
  updateStatus<T extends KubeObject = KubeObject>(ref: ResourceRef, obj: T, options?: WriteOptions): Promise<T>;
  patch<T extends KubeObject = KubeObject>(ref: ResourceRef, name: string, patch: unknown, options: PatchOptions): Promise<T>;
  /** Resolves with the object as the server returned it (still there when finalizers remain) or a Status. */
  delete(ref: ResourceRef, name: string, options?: DeleteOptions): Promise<KubeObject>;
  deleteCollection(ref: ResourceRef, options?: DeleteOptions & Omit<ListOptions, 'metadataOnly'>): Promise<KubeList>;
  watch<T extends KubeObject = KubeObject>(ref: ResourceRef, options?: WatchOptions): AsyncIterable<WatchEvent<T>>;
  close(): void;
};

export type ClientOptions = TransportOptions;

/** /api/v1/namespaces/ns/pods/name or /apis/apps/v1/deployments. */
export function resourcePath(ref: ResourceRef, namespace?: string, name?: string, subresource?: string): string {
  const root = ref.group ? `/apis/${ref.group}/${ref.version}` : `/api/${ref.version}`;
  const ns = ref.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  const tail = name ? `/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}` : '';
  return `${root}${ns}/${ref.resource}${tail}`;
}

function deleteBody(options: DeleteOptions): Record<string, unknown> {
  return {
    kind: 'DeleteOptions',
    apiVersion: 'v1',
    ...(options.propagationPolicy ? { propagationPolicy: options.propagationPolicy } : {}),
    ...(options.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: options.gracePeriodSeconds } : {}),
    ...(options.preconditions ? { preconditions: options.preconditions } : {}),
  };
}

export function createClient(options: ClientOptions): Client {
  const transport = createTransport(options);
  const dryRun = (o?: { dryRun?: boolean }) => (o?.dryRun ? 'All' : undefined);
  const listQuery = (o: ListOptions) => ({
    labelSelector: o.labelSelector,
    fieldSelector: o.fieldSelector,
    limit: o.limit,
    continue: o.continue,
    resourceVersion: o.resourceVersion,
  });
  return {
    request: (opts) => transport.request(opts),
    get: (ref, name, o = {}) =>
      transport.request({ path: resourcePath(ref, o.namespace, name), accept: o.metadataOnly ? METADATA_ACCEPT : undefined }),
    list: (ref, o = {}) =>
      transport.request({
        path: resourcePath(ref, o.namespace),
        query: listQuery(o),
        accept: o.metadataOnly ? METADATA_LIST_ACCEPT : undefined,
      }),
    create: (ref, obj, o = {}) =>
      transport.request({
        method: 'POST',
        path: resourcePath(ref, o.namespace ?? obj.metadata.namespace),
        query: { fieldManager: o.fieldManager, dryRun: dryRun(o) },
        body: obj,
      }),
    update: (ref, obj, o = {}) =>
      transport.request({
        method: 'PUT',
        path: resourcePath(ref, o.namespace ?? obj.metadata.namespace, obj.metadata.name, o.subresource),
        query: { fieldManager: o.fieldManager, dryRun: dryRun(o) },
        body: obj,
      }),
    updateStatus: (ref, obj, o = {}) =>
      transport.request({
        method: 'PUT',
        path: resourcePath(ref, o.namespace ?? obj.metadata.namespace, obj.metadata.name, 'status'),
        query: { fieldManager: o.fieldManager, dryRun: dryRun(o) },
        body: obj,
      }),
    patch: (ref, name, patch, o) =>
      transport.request({
        method: 'PATCH',
        path: resourcePath(ref, o.namespace, name, o.subresource),
        query: {
          fieldManager: o.fieldManager ?? (o.type === 'apply' ? 'skiff' : undefined),
          force: o.force === undefined ? undefined : String(o.force),
          dryRun: dryRun(o),
        },
        body: patch,
        contentType: PATCH_CONTENT_TYPES[o.type],
      }),
    delete: (ref, name, o = {}) =>
      transport.request({
        method: 'DELETE',
        path: resourcePath(ref, o.namespace, name),
        query: { dryRun: dryRun(o) },
        body: deleteBody(o),
      }),
    deleteCollection: (ref, o = {}) =>
      transport.request({
        method: 'DELETE',
        path: resourcePath(ref, o.namespace),
        query: { ...listQuery(o), dryRun: dryRun(o) },
        body: deleteBody(o),
      }),
    watch: <T extends KubeObject>(ref: ResourceRef, o: WatchOptions = {}) => ({
      async *[Symbol.asyncIterator]() {
        const { response, abort } = await transport.stream({
          path: resourcePath(ref, o.namespace),
          query: {
            watch: 'true',
            labelSelector: o.labelSelector,
            fieldSelector: o.fieldSelector,
            resourceVersion: o.resourceVersion,
            timeoutSeconds: o.timeoutSeconds,
            allowWatchBookmarks: o.allowWatchBookmarks ? 'true' : undefined,
          },
          accept: o.metadataOnly ? METADATA_ACCEPT : undefined,
          signal: o.signal,
        });
        yield* parseWatchStream(response, abort) as AsyncGenerator<WatchEvent<T>>;
      },
    }),
    close: () => transport.close(),
  };
}
