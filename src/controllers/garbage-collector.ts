// Garbage collector (Kubernetes' ownerReferences GC): dependents whose owners
// are gone are deleted; owners deleted in the foreground wait for their
// blocking dependents; owners deleted with orphan release their dependents.
// Watches every deletable resource found in discovery, metadata only, and
// discovers again periodically so CRDs are covered.
import { isNotFound } from '../api/errors.ts';
import type { KubeObject, OwnerReference } from '../api/types.ts';
import {
  type Client,
  type DiscoveredResource,
  discoverResources,
  errorText,
  hasVerbs,
  Informer,
  listWatcherFor,
  resourceForKind,
  runController,
  sleep,
  WorkQueue,
} from '../client/index.ts';
import type { Logger } from '../lib/log.ts';
import {
  blockingDependents,
  decideForDependent,
  FOREGROUND_FINALIZER,
  GcGraph,
  type GcNode,
  nodeOf,
  ORPHAN_FINALIZER,
  type OwnerState,
  ownerStateOf,
  resourceKey,
} from './gc-graph.ts';

/** How often discovery runs again to pick up new CRDs (Kubernetes' controller-manager: 30 s). */
const REDISCOVERY_MS = 30_000;
/** Parallel reconciles (Kubernetes' --concurrent-gc-syncs default is 20). */
const WORKERS = 8;
/** Uids of owners known to be deleted, remembered so dependents need no lookup; uids never come back. */
const ABSENT_CACHE_SIZE = 10_000;
/** CustomResourceDefinitions, whose changes trigger discovery. */
const CRDS = 'apiextensions.k8s.io/customresourcedefinitions';
/** Pause after a CRD change before discovering, so a burst of CRD events costs one discovery. */
const CRD_SETTLE_MS = 200;
/** Longest wait for the informers' first lists before collecting with what is there (one broken resource must not stop GC). */
const SYNC_WAIT_MS = 30_000;
/** Kubernetes' GC ignores events: they never own anything and churn a lot. */
const IGNORED = new Set(['/events', 'events.k8s.io/events']);

export type GarbageCollectorOptions = { client: Client; signal: AbortSignal; log: Logger };

type Watched = { informer: Informer; stop: AbortController; resource: DiscoveredResource };

export async function runGarbageCollector(options: GarbageCollectorOptions): Promise<void> {
  const { client, signal, log } = options;
  const graph = new GcGraph();
  const queue = new WorkQueue({ signal });
  const absent = new Set<string>();
  const watched = new Map<string, Watched>();
  let resources: DiscoveredResource[] = [];

  const rememberAbsent = (uid: string) => {
    absent.add(uid);
    if (absent.size > ABSENT_CACHE_SIZE) absent.delete(absent.values().next().value as string);
  };

  // A CRD that appears or changes (becomes Established) is picked up soon, not only at the next periodic discovery.
  let wake: (() => void) | undefined;
  let wakeTimer: NodeJS.Timeout | undefined;
  const rediscoverSoon = () => {
    wakeTimer ??= setTimeout(() => {
      wakeTimer = undefined;
      wake?.();
    }, CRD_SETTLE_MS);
  };

  const observe = (obj: KubeObject, resource: DiscoveredResource) => {
    if (resourceKey(resource) === CRDS) rediscoverSoon();
    const node = nodeOf(obj, resource);
    if (!node.uid) return;
    absent.delete(node.uid);
    for (const uid of graph.upsert(node)) queue.add(uid); // owners it let go of may be waiting on it
    if (node.owners.length > 0 || node.deleting) queue.add(node.uid);
    for (const owner of node.owners) if (graph.get(owner.uid)?.deleting) queue.add(owner.uid);
  };
  const forget = (obj: KubeObject, resource: DiscoveredResource) => {
    if (resourceKey(resource) === CRDS) rediscoverSoon();
    const uid = obj.metadata.uid ?? '';
    const node = graph.remove(uid, resource);
    if (!node) return;
    rememberAbsent(uid);
    for (const owner of node.owners) queue.add(owner.uid);
    for (const dep of graph.dependentsOf(uid)) queue.add(dep.uid);
  };

  const watch = (resource: DiscoveredResource): Watched => {
    const stop = new AbortController();
    const informer = new Informer({
      source: listWatcherFor(client, resource, { metadataOnly: true }),
      signal: AbortSignal.any([signal, stop.signal]),
      log: log.child(resourceKey(resource)),
    });
    informer.addHandlers({
      onAdd: (obj) => observe(obj, resource),
      onUpdate: (_old, obj) => observe(obj, resource),
      onDelete: (obj) => forget(obj, resource),
    });
    void informer.run();
    return { informer, stop, resource };
  };

  const sync = async (): Promise<void> => {
    const found = await discoverResources(client);
    resources = found.resources;
    const wanted = new Map<string, DiscoveredResource>();
    for (const r of found.resources) {
      if (r.preferred && hasVerbs(r, ['list', 'watch', 'delete']) && !IGNORED.has(resourceKey(r))) wanted.set(resourceKey(r), r);
    }
    const failedGroups = new Set(found.failures.map((f) => f.groupVersion));
    for (const [key, w] of watched) {
      const prefix = w.resource.group ? `/apis/${w.resource.group}/` : '/api/';
      const unsure = [...failedGroups].some((gv) => gv.startsWith(prefix));
      if (wanted.has(key) || unsure) continue;
      // The resource is gone (CRD deleted): so are its objects.
      w.stop.abort();
      watched.delete(key);
      for (const obj of w.informer.list()) forget(obj, w.resource);
    }
    for (const [key, r] of wanted) if (!watched.has(key)) watched.set(key, watch(r));
    const synced = Promise.all([...watched.values()].map((w) => w.informer.hasSynced));
    if ((await Promise.race([synced.then(() => true), sleep(SYNC_WAIT_MS, signal).then(() => false)])) === false) {
      log.warn('some resources did not list in time; collecting without them for now');
    }
  };

  /** How the owner a reference points at stands, looked up live when the graph does not know it. */
  const ownerState = async (dependent: GcNode, ref: OwnerReference): Promise<OwnerState | undefined> => {
    const known = graph.get(ref.uid);
    if (known) return ownerStateOf(known);
    if (absent.has(ref.uid)) return 'dangling';
    const resource = resourceForKind(resources, ref.apiVersion, ref.kind);
    if (!resource) return undefined; // unknown kind: leave the dependent alone
    if (resource.namespaced && !dependent.namespace) return 'dangling'; // a namespaced owner cannot own a cluster object
    try {
      const owner = await client.get(resource, ref.name, { namespace: dependent.namespace, metadataOnly: true });
      if (owner.metadata.uid !== ref.uid) return 'dangling';
      return ownerStateOf(nodeOf(owner, resource));
    } catch (err) {
      if (isNotFound(err)) return 'dangling';
      throw err;
    }
  };

  const reconcile = async (uid: string): Promise<void> => {
    const node = graph.get(uid);
    if (!node) return;
    if (node.deleting) {
      if (node.finalizers.includes(ORPHAN_FINALIZER)) {
        for (const dep of graph.dependentsOf(uid)) await removeOwnerRefs(client, dep, [uid]);
        await removeFinalizer(client, node, ORPHAN_FINALIZER);
      } else if (node.finalizers.includes(FOREGROUND_FINALIZER)) {
        for (const dep of graph.dependentsOf(uid)) if (!dep.deleting) queue.add(dep.uid);
        if (blockingDependents(graph, uid).length === 0) await removeFinalizer(client, node, FOREGROUND_FINALIZER);
      }
      return;
    }
    if (node.owners.length === 0) return;
    const states = new Map<string, OwnerState>();
    for (const ref of node.owners) {
      const state = await ownerState(node, ref);
      if (state) states.set(ref.uid, state);
    }
    const action = decideForDependent(node, states, graph.dependentsOf(uid).length > 0);
    if (action.kind === 'removeOwners') {
      await removeOwnerRefs(client, node, action.uids);
    } else if (action.kind === 'delete') {
      log.debug('deleting dependent', { resource: resourceKey(node.resource), namespace: node.namespace, name: node.name, propagation: action.propagation });
      await client
        .delete(node.resource, node.name, { namespace: node.namespace, propagationPolicy: action.propagation, preconditions: { uid } })
        .catch((err) => {
          if (!isNotFound(err) && (err as { code?: number }).code !== 409) throw err;
        });
    }
  };

  await sync();
  const rediscovery = (async () => {
    while (!signal.aborted) {
      await Promise.race([sleep(REDISCOVERY_MS, signal), new Promise<void>((resolve) => (wake = resolve))]);
      if (signal.aborted) break;
      await sync().catch((err) => log.debug('rediscovery failed', { err: errorText(err) }));
    }
  })();
  log.debug('garbage collector synced', { resources: watched.size, objects: graph.size });
  await runController({ name: 'garbagecollector', queue, workers: WORKERS, reconcile, log });
  clearTimeout(wakeTimer);
  wake?.();
  await rediscovery;
}

/** JSON patch guarded by a test of the current value, so a concurrent change makes it fail and retry. */
function guardedReplace(path: string, current: unknown[], next: unknown[]): object[] {
  return [{ op: 'test', path, value: current }, next.length > 0 ? { op: 'replace', path, value: next } : { op: 'remove', path }];
}

async function removeOwnerRefs(client: Client, node: GcNode, ownerUids: string[]): Promise<void> {
  const next = node.owners.filter((o) => !ownerUids.includes(o.uid));
  if (next.length === node.owners.length) return;
  await client
    .patch(node.resource, node.name, guardedReplace('/metadata/ownerReferences', node.owners, next), { type: 'json', namespace: node.namespace })
    .catch((err) => {
      if (!isNotFound(err)) throw err;
    });
}

async function removeFinalizer(client: Client, node: GcNode, finalizer: string): Promise<void> {
  const next = node.finalizers.filter((f) => f !== finalizer);
  await client
    .patch(node.resource, node.name, guardedReplace('/metadata/finalizers', node.finalizers, next), { type: 'json', namespace: node.namespace })
    .catch((err) => {
      if (!isNotFound(err)) throw err;
    });
}
