// Namespace controller (Kubernetes' namespace lifecycle): a namespace being
// deleted has everything in it deleted; once nothing is left its "kubernetes"
// finalizer is removed through namespaces/<name>/finalize, and the API server
// then removes the namespace itself.
import { isNotFound } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import {
  type Client,
  type DiscoveredResource,
  discoverResources,
  type EventRecorder,
  errorText,
  hasVerbs,
  Informer,
  listWatcherFor,
  type ResourceRef,
  runController,
  WorkQueue,
} from '../client/index.ts';
import type { Logger } from '../lib/log.ts';
import { contentConditions, mergeConditions, type NamespaceCondition, type Remaining } from './namespace-status.ts';

export const NAMESPACES: ResourceRef = { group: '', version: 'v1', resource: 'namespaces', namespaced: false };
/** The finalizer this controller owns in a namespace's spec.finalizers. */
export const KUBERNETES_FINALIZER = 'kubernetes';
/** How soon to look again while content is still going away (objects with finalizers, terminating pods). */
const CONTENT_RECHECK_MS = 1000;
/** Namespaces are cleaned in parallel up to this many; each one issues its own burst of requests. */
const WORKERS = 4;
/** After this many failed attempts on one namespace a Warning Event tells the user. */
const EVENT_AFTER_RETRIES = 5;

export type NamespaceControllerOptions = {
  client: Client;
  signal: AbortSignal;
  log: Logger;
  recorder?: EventRecorder;
};

/** Runs until the signal aborts. */
export async function runNamespaceController(options: NamespaceControllerOptions): Promise<void> {
  const { client, signal, log, recorder } = options;
  const queue = new WorkQueue({ signal });
  const informer = new Informer({ source: listWatcherFor(client, NAMESPACES), signal, log });
  const enqueue = (ns: KubeObject) => {
    if (ns.metadata.deletionTimestamp) queue.add(ns.metadata.name ?? '');
  };
  informer.addHandlers({ onAdd: enqueue, onUpdate: (_old, ns) => enqueue(ns) });
  const informing = informer.run();
  if (!(await informer.waitForSync())) return;

  const reconcile = async (name: string) => {
    try {
      return await cleanUp(name);
    } catch (err) {
      if (isNotFound(err)) return; // the namespace is gone already (our cache had not seen it yet)
      throw err;
    }
  };

  const cleanUp = async (name: string) => {
    const ns = informer.get(name);
    if (!ns?.metadata.deletionTimestamp) return;
    const finalizers: string[] = ns.spec?.finalizers ?? [];
    if (!finalizers.includes(KUBERNETES_FINALIZER)) return;
    const started = Date.now();
    const discovery = await discoverResources(client);
    const deletable = discovery.resources.filter((r) => r.preferred && r.namespaced && hasVerbs(r, ['list', 'delete']));
    const { remaining, failures } = await deleteContent(client, name, deletable);
    const conditions = contentConditions({
      discoveryFailures: discovery.failures.map((f) => `${f.groupVersion}: ${errorText(f.error)}`),
      deleteFailures: failures,
      remaining,
    });
    const latest = await writeConditions(client, ns, conditions);
    if (discovery.failures.length > 0 || failures.length > 0) {
      throw new Error(`namespace ${name}: ${[...discovery.failures.map((f) => errorText(f.error)), ...failures].join('; ')}`);
    }
    if (remaining.length > 0) {
      log.debug('namespace content remaining', { namespace: name, remaining: remaining.map((r) => `${r.resource}:${r.count}`) });
      return { requeueAfterMs: CONTENT_RECHECK_MS };
    }
    await client.update(
      NAMESPACES,
      { ...latest, spec: { ...latest.spec, finalizers: finalizers.filter((f) => f !== KUBERNETES_FINALIZER) } },
      { subresource: 'finalize' },
    );
    log.info('namespace content deleted', { namespace: name, ms: Date.now() - started });
  };

  await runController({
    name: 'namespace',
    queue,
    workers: WORKERS,
    reconcile,
    log,
    onError(name, err, retries) {
      const ns = informer.get(name);
      if (ns && recorder && retries >= EVENT_AFTER_RETRIES) {
        void recorder.record(ns, 'Warning', 'NamespaceDeletionFailed', `Failed to delete the namespace's content: ${errorText(err)}`);
      }
    },
  });
  await informing;
}

/**
 * Deletes everything in the namespace, resource by resource (deletecollection
 * where served, else one by one), and reports what is still there afterwards.
 */
export async function deleteContent(
  client: Client,
  namespace: string,
  resources: DiscoveredResource[],
): Promise<{ remaining: Remaining[]; failures: string[] }> {
  const remaining: Remaining[] = [];
  const failures: string[] = [];
  await Promise.all(
    resources.map(async (ref) => {
      const what = ref.group ? `${ref.resource}.${ref.group}` : ref.resource;
      try {
        if (hasVerbs(ref, ['deletecollection'])) {
          await client.deleteCollection(ref, { namespace, propagationPolicy: 'Background' });
        } else {
          const list = await client.list(ref, { namespace, metadataOnly: true });
          for (const item of list.items) {
            if (item.metadata.deletionTimestamp) continue;
            await client.delete(ref, item.metadata.name ?? '', { namespace, propagationPolicy: 'Background' }).catch((err) => {
              if (!isNotFound(err)) throw err;
            });
          }
        }
        const left = await client.list(ref, { namespace, metadataOnly: true });
        if (left.items.length > 0) {
          const finalizers = new Map<string, number>();
          for (const item of left.items) {
            for (const f of item.metadata.finalizers ?? []) finalizers.set(f, (finalizers.get(f) ?? 0) + 1);
          }
          remaining.push({ resource: what, count: left.items.length, finalizers });
        }
      } catch (err) {
        if (isNotFound(err)) return; // the resource itself went away (a CRD deleted meanwhile)
        failures.push(`${what}: ${errorText(err)}`);
      }
    }),
  );
  remaining.sort((a, b) => a.resource.localeCompare(b.resource));
  failures.sort();
  return { remaining, failures };
}

/** Writes the conditions when they changed; returns the namespace as it now is. */
async function writeConditions(client: Client, ns: KubeObject, conditions: NamespaceCondition[]): Promise<KubeObject> {
  const current: NamespaceCondition[] = ns.status?.conditions ?? [];
  const merged = mergeConditions(current, conditions, new Date());
  if (!merged.changed) return ns;
  return client.updateStatus(NAMESPACES, { ...ns, status: { ...ns.status, conditions: merged.conditions } });
}
