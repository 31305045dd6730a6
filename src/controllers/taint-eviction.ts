// Taint eviction controller (Kubernetes' taint-eviction-controller, the
// former NoExecuteTaintManager): a pod on a node with NoExecute taints is
// deleted at once if it does not tolerate one of them, else when the
// shortest tolerationSeconds it uses runs out. A pod with an owner is then
// replaced by its controller, elsewhere.
import { isNotFound } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import { keyOf, refs, runController, WorkQueue } from '../client/index.ts';
import type { ControllerContext } from './context.ts';
import { evictionTime, type Taint, taintsOf } from './node-taints.ts';

/** Event source, as in Kubernetes 1.29+. */
export const TAINT_EVICTION_COMPONENT = 'taint-eviction-controller';
/** Deletions are single requests; a few at once keeps a node's pods from waiting on each other. */
const WORKERS = 4;

const noExecute = (node: KubeObject | undefined): Taint[] => (node ? taintsOf(node).filter((t) => t.effect === 'NoExecute') : []);
const taintId = (t: Taint) => `${t.key}=${t.value ?? ''}:${t.effect}`;
const taintIds = (taints: Taint[]) =>
  taints
    .map((t) => `${t.key}=${t.value ?? ''}:${t.timeAdded ?? ''}`)
    .sort()
    .join(',');

/** Runs until ctx.signal aborts. */
export async function runTaintEvictionController(ctx: ControllerContext): Promise<void> {
  const { client, signal, log } = ctx;
  const recorder = ctx.recorder.withSource({ component: TAINT_EVICTION_COMPONENT });
  const nodes = ctx.informers.for(refs.nodes);
  const pods = ctx.informers.for(refs.pods);
  const queue = new WorkQueue({ signal });
  /** Pods by node name, so a node's taint change finds its pods without scanning every pod. */
  const podsOnNode = new Map<string, Set<string>>();
  /** Pending evictions: pod key → timer that queues it when its toleration runs out. */
  const timers = new Map<string, NodeJS.Timeout>();
  /**
   * When this controller first saw each NoExecute taint, per node: tolerations
   * count from then, as in Kubernetes (timeAdded has whole seconds only, and
   * may come from another clock).
   */
  const firstSeen = new Map<string, Map<string, number>>();
  signal.addEventListener('abort', () => {
    for (const t of timers.values()) clearTimeout(t);
  });

  const index = (pod: KubeObject, add: boolean) => {
    const nodeName: string | undefined = pod.spec?.nodeName;
    if (!nodeName) return;
    const set = podsOnNode.get(nodeName) ?? new Set<string>();
    if (add) set.add(keyOf(pod));
    else set.delete(keyOf(pod));
    if (set.size > 0) podsOnNode.set(nodeName, set);
    else podsOnNode.delete(nodeName);
  };
  pods.addHandlers({
    onAdd(pod) {
      index(pod, true);
      if (noExecute(nodes.get(pod.spec?.nodeName ?? '')).length > 0) queue.add(keyOf(pod));
    },
    onUpdate(old, pod) {
      if (old.spec?.nodeName !== pod.spec?.nodeName) index(old, false);
      index(pod, true);
      if (timers.has(keyOf(pod)) || noExecute(nodes.get(pod.spec?.nodeName ?? '')).length > 0) queue.add(keyOf(pod));
    },
    onDelete(pod) {
      index(pod, false);
      queue.add(keyOf(pod));
    },
  });
  const nodeChanged = (old: KubeObject | undefined, node: KubeObject) => {
    const seen = firstSeen.get(node.metadata.name ?? '');
    if (seen) {
      const now = new Set(noExecute(node).map(taintId));
      for (const id of seen.keys()) if (!now.has(id)) seen.delete(id);
    }
    if (taintIds(noExecute(old)) === taintIds(noExecute(node))) return;
    for (const key of podsOnNode.get(node.metadata.name ?? '') ?? []) queue.add(key);
  };
  nodes.addHandlers({
    onAdd: (n) => nodeChanged(undefined, n),
    onUpdate: nodeChanged,
    onDelete: (n) => firstSeen.delete(n.metadata.name ?? ''),
  });
  if (!(await ctx.informers.waitForSync())) return;

  const taintSince = (nodeName: string, now: number) => (taint: Taint) => {
    const seen = firstSeen.get(nodeName) ?? new Map<string, number>();
    firstSeen.set(nodeName, seen);
    const since = seen.get(taintId(taint)) ?? now;
    seen.set(taintId(taint), since);
    return since;
  };

  const cancel = (key: string, pod: KubeObject | undefined) => {
    const timer = timers.get(key);
    if (!timer) return;
    clearTimeout(timer);
    timers.delete(key);
    if (pod) void recorder.record(pod, 'Normal', 'TaintManagerEviction', `Cancelling deletion of Pod ${key}`);
  };

  const schedule = (key: string, inMs: number) => {
    clearTimeout(timers.get(key));
    const timer = setTimeout(() => queue.add(key), inMs);
    timer.unref?.();
    timers.set(key, timer);
  };

  const reconcile = async (key: string) => {
    const pod = pods.get(key);
    const nodeName: string | undefined = pod?.spec?.nodeName;
    if (!pod || !nodeName || pod.metadata.deletionTimestamp) {
      clearTimeout(timers.get(key));
      timers.delete(key);
      return;
    }
    const now = Date.now();
    const at = evictionTime(pod, noExecute(nodes.get(nodeName)), { now, taintSince: taintSince(nodeName, now) });
    if (at === undefined) return cancel(key, pod);
    if (at > now) return schedule(key, at - now);
    timers.delete(key);
    await markDisruptionTarget(pod);
    void recorder.record(pod, 'Normal', 'TaintManagerEviction', `Marking for deletion Pod ${key}`);
    try {
      await client.delete(refs.pods, pod.metadata.name ?? '', { namespace: pod.metadata.namespace, preconditions: { uid: pod.metadata.uid } });
      log.info('evicted pod from tainted node', { pod: key, node: nodeName });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  };

  /** Tells the pod's owner why it goes (the DisruptionTarget condition, as Kubernetes sets it). */
  const markDisruptionTarget = async (pod: KubeObject) => {
    const conditions: { type: string }[] = pod.status?.conditions ?? [];
    if (conditions.some((c) => c.type === 'DisruptionTarget')) return;
    const condition = {
      type: 'DisruptionTarget',
      status: 'True',
      reason: 'DeletionByTaintManager',
      message: 'Taint manager: deleting due to NoExecute taint',
      lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    };
    try {
      await client.updateStatus(refs.pods, { ...pod, status: { ...pod.status, conditions: [...conditions, condition] } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  };

  await runController({ name: 'taint-eviction', queue, workers: WORKERS, reconcile, log });
}
