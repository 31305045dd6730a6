// Serves custom resources: follows CustomResourceDefinitions in the store,
// registers their resources and schemas, reports their status, and removes
// their objects when a CRD is deleted (Kubernetes' customresourcecleanup
// finalizer). Watching the store, not the request path, keeps several API
// servers in step.
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../api/types.ts';
import type { Logger } from '../lib/log.ts';
import type { Store } from '../store/types.ts';
import { SYSTEM_CONTEXT } from './bootstrap.ts';
import { crdStatus, resourceDefFromCrd, schemaOf } from './crd/index.ts';
import { resourcePrefix } from './resources/codec.ts';
import { listObjects } from './resources/list.ts';
import type { ObjectService } from './resources/objects.ts';
import type { ResourceRegistry } from './resources/registry.ts';
import { watchObjects } from './resources/watch.ts';
import type { MutableSchemaSource } from './schema/index.ts';

export const CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';
/** Pause before re-watching after the CRD watch ends (compaction, overflow). */
const REWATCH_DELAY_MS = 200;

type Deps = {
  registry: ResourceRegistry;
  schemas: MutableSchemaSource;
  objects: ObjectService;
  store: Store;
  signal: AbortSignal;
  log: Logger;
};

export async function watchCrds(deps: Deps): Promise<void> {
  const crdDef = deps.registry.byGroupResource('apiextensions.k8s.io', 'customresourcedefinitions')!;
  const known = new Map<string, KubeObject>();
  const sync = async () => {
    const page = await listObjects(deps.store, crdDef, 'v1', '', { filtered: false });
    const seen = new Set<string>();
    for (const crd of page.items) {
      seen.add(crd.metadata.name!);
      await reconcile(deps, known, crd);
    }
    for (const [name, crd] of known) if (!seen.has(name)) unserve(deps, known, crd);
    return page.metadata.resourceVersion!;
  };
  let rv = await sync();
  const loop = async () => {
    while (!deps.signal.aborted) {
      try {
        watching: for await (const batch of watchObjects(deps.store, crdDef, 'v1', '', { resourceVersion: rv, allowBookmarks: false, signal: deps.signal })) {
          for (const event of batch) {
            if (event.type === 'ERROR') break watching;
            const crd = event.object as KubeObject;
            rv = crd.metadata.resourceVersion ?? rv;
            if (event.type === 'DELETED') unserve(deps, known, crd);
            else await reconcile(deps, known, structuredClone(crd));
          }
        }
        if (!deps.signal.aborted) {
          await new Promise((r) => setTimeout(r, REWATCH_DELAY_MS));
          rv = await sync();
        }
      } catch (err) {
        if (deps.signal.aborted) return;
        deps.log.warn('CRD watch failed; retrying', { err });
        await new Promise((r) => setTimeout(r, REWATCH_DELAY_MS));
      }
    }
  };
  void loop();
}

function unserve(deps: Deps, known: Map<string, KubeObject>, crd: KubeObject): void {
  const def = resourceDefFromCrd(crd);
  deps.registry.remove(def.group, def.plural);
  for (const v of crd.spec?.versions ?? []) deps.schemas.removeRoot(def.group, v.name, def.kind);
  known.delete(crd.metadata.name!);
}

async function reconcile(deps: Deps, known: Map<string, KubeObject>, crd: KubeObject): Promise<void> {
  const crdDef = deps.registry.byGroupResource('apiextensions.k8s.io', 'customresourcedefinitions')!;
  const name = crd.metadata.name!;
  if (crd.metadata.deletionTimestamp) {
    await removeCustomObjects(deps, crd);
    await deps.objects
      .mutate(crdDef, 'v1', '', name, { ...SYSTEM_CONTEXT, warnings: [] }, '', (current) => ({
        ...current,
        metadata: { ...current.metadata, finalizers: (current.metadata.finalizers ?? []).filter((f) => f !== CLEANUP_FINALIZER) },
      }))
      .catch((err) => deps.log.debug('CRD finalizer removal', { name, err }));
    unserve(deps, known, crd);
    return;
  }
  const def = { ...resourceDefFromCrd(crd), custom: true };
  const previous = known.get(name);
  if (previous) {
    const old = resourceDefFromCrd(previous);
    if (old.plural !== def.plural || old.group !== def.group) unserve(deps, known, previous);
  }
  for (const v of crd.spec?.versions ?? []) {
    const schema = schemaOf(crd, v.name);
    if (schema) deps.schemas.addRoot(def.group, v.name, def.kind, schema);
  }
  deps.registry.put(def);
  known.set(name, crd);

  const others = [...known.values()].filter((c) => c.metadata.name !== name);
  const status = crdStatus(crd, others);
  const needsFinalizer = !(crd.metadata.finalizers ?? []).includes(CLEANUP_FINALIZER);
  if (needsFinalizer) {
    await deps.objects
      .mutate(crdDef, 'v1', '', name, { ...SYSTEM_CONTEXT, warnings: [] }, '', (current) => ({
        ...current,
        metadata: { ...current.metadata, finalizers: [...(current.metadata.finalizers ?? []), CLEANUP_FINALIZER] },
      }))
      .catch((err) => deps.log.debug('CRD finalizer', { name, err }));
  }
  if (!isDeepStrictEqual(withoutTimes(crd.status), withoutTimes(status))) {
    await deps.objects
      .mutate(crdDef, 'v1', '', name, { ...SYSTEM_CONTEXT, warnings: [] }, 'status', (current) => ({ ...current, status }))
      .catch((err) => deps.log.debug('CRD status', { name, err }));
  }
}

/** Conditions compare without their transition times, so status is written only on real change. */
function withoutTimes(status: unknown): unknown {
  if (typeof status !== 'object' || status === null) return status;
  const s = status as { conditions?: { lastTransitionTime?: string }[] };
  return { ...s, conditions: s.conditions?.map(({ lastTransitionTime: _t, ...rest }) => rest) };
}

async function removeCustomObjects(deps: Deps, crd: KubeObject): Promise<void> {
  const def = resourceDefFromCrd(crd);
  const prefix = resourcePrefix(def);
  for (;;) {
    const page = await deps.store.list(prefix, { limit: 500 });
    for (const kv of page.items) await deps.store.delete(kv.key).catch(() => undefined);
    if (page.items.length === 0 || page.remaining === 0) break;
  }
}
