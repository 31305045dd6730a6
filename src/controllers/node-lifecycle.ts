// Node lifecycle controller (Kubernetes' node-lifecycle-controller): watches
// nodes' heartbeats (kube-node-lease Leases and the Ready condition); a node
// silent for longer than the grace period gets its conditions set Unknown,
// its pods marked not Ready, and the unreachable taints (not-ready when the
// node itself reports Ready=False). Heartbeats coming back remove the taints.
// Pods on NoExecute-tainted nodes are evicted by taint-eviction.ts.
import { isNotFound } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import { errorText, Informer, keyOf, listWatcherFor, refs, runController, WorkQueue } from '../client/index.ts';
import type { ControllerContext } from './context.ts';
import {
  allNodesDown,
  DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS,
  DEFAULT_NODE_STARTUP_GRACE_PERIOD_MS,
  excludedFromDisruption,
  type GracePeriods,
  msUntilSilent,
  NODE_LEASE_NAMESPACE,
  type NodeHealth,
  observeNode,
  podNotReadyConditions,
  readyStatus,
  silentNodeConditions,
} from './node-health.ts';
import { applyTaints, desiredTaints, isNewNoExecuteTaint, taintsOf } from './node-taints.ts';

/** Event source, as in Kubernetes (`kubectl describe node` shows "node-controller"). */
export const NODE_CONTROLLER_COMPONENT = 'node-controller';
/** --node-eviction-rate: nodes newly given a NoExecute taint per second, so a network blip does not evict everything at once. */
export const DEFAULT_TAINT_RATE_PER_SECOND = 0.1;
/** Token bucket size for that rate (Kubernetes' evictionRateLimiterBurst): one node at once. */
const TAINT_BURST = 1;
/** Look again this long after the grace period would run out, so the deadline has surely passed. */
const DEADLINE_SLACK_MS = 50;
/**
 * One worker: whether every node is down is judged across nodes, and two
 * workers judging at once from half-written state could taint a node for a
 * moment and evict pods that should stay. Most reconciles write nothing.
 */
const WORKERS = 1;

export type NodeLifecycleOptions = {
  monitorGraceMs?: number;
  startupGraceMs?: number;
  taintsPerSecond?: number;
};

/** A token bucket: `take` succeeds while tokens last; they come back at `perSecond`. */
export class TokenBucket {
  #tokens: number;
  #last: number;
  #perSecond: number;
  #burst: number;

  constructor(options: { perSecond: number; burst: number; now: number }) {
    this.#perSecond = options.perSecond;
    this.#burst = options.burst;
    this.#tokens = options.burst;
    this.#last = options.now;
  }

  #refill(now: number): void {
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#perSecond);
    this.#last = now;
  }

  take(now: number): boolean {
    this.#refill(now);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Milliseconds until `take` can succeed. */
  msUntilToken(now: number): number {
    this.#refill(now);
    if (this.#tokens >= 1) return 0;
    return this.#perSecond > 0 ? Math.ceil(((1 - this.#tokens) / this.#perSecond) * 1000) : Number.POSITIVE_INFINITY;
  }
}

/** The node as allNodesDown should judge it: with the Ready status we know to be newer than the cache's. */
function withReady(node: KubeObject, ready: string | undefined): KubeObject {
  if (ready === undefined || ready === readyStatus(node)) return node;
  return { ...node, status: { ...node.status, conditions: [{ type: 'Ready', status: ready }] } };
}

/** Runs until ctx.signal aborts. */
export async function runNodeLifecycleController(ctx: ControllerContext, options: NodeLifecycleOptions = {}): Promise<void> {
  const { client, signal, log } = ctx;
  const recorder = ctx.recorder.withSource({ component: NODE_CONTROLLER_COMPONENT });
  const grace: GracePeriods = {
    monitorGraceMs: options.monitorGraceMs ?? ctx.settings?.nodeMonitorGracePeriodMs ?? DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS,
    startupGraceMs: options.startupGraceMs ?? DEFAULT_NODE_STARTUP_GRACE_PERIOD_MS,
  };
  const limiter = new TokenBucket({ perSecond: options.taintsPerSecond ?? DEFAULT_TAINT_RATE_PER_SECOND, burst: TAINT_BURST, now: Date.now() });
  const nodes = ctx.informers.for(refs.nodes);
  const pods = ctx.informers.for(refs.pods);
  // Only node Leases matter here, not every Lease in the cluster.
  const leases = new Informer({ source: listWatcherFor(client, refs.leases, { namespace: NODE_LEASE_NAMESPACE }), signal, log });
  const queue = new WorkQueue({ signal });
  const health = new Map<string, NodeHealth>();
  const lastReady = new Map<string, string>();
  let lastAllDown: boolean | undefined;

  nodes.addHandlers({
    onAdd: (n) => queue.add(n.metadata.name ?? ''),
    onUpdate: (_o, n) => queue.add(n.metadata.name ?? ''),
    onDelete: (n) => queue.add(n.metadata.name ?? ''),
  });
  leases.addHandlers({ onAdd: (l) => queue.add(l.metadata.name ?? ''), onUpdate: (_o, l) => queue.add(l.metadata.name ?? '') });
  // A Ready pod showing up on a node that is not Ready is marked not Ready too.
  const checkPod = (pod: KubeObject) => {
    const nodeName: string | undefined = pod.spec?.nodeName;
    const node = nodeName ? nodes.get(nodeName) : undefined;
    if (node && readyStatus(node) !== 'True' && podNotReadyConditions(pod, new Date())) queue.add(nodeName ?? '');
  };
  pods.addHandlers({ onAdd: checkPod, onUpdate: (_o, p) => checkPod(p) });
  const informing = leases.run();
  if (!(await ctx.informers.waitForSync()) || !(await leases.waitForSync())) return;

  const markPodsNotReady = async (nodeName: string) => {
    const failures: string[] = [];
    for (const pod of pods.list()) {
      if (pod.spec?.nodeName !== nodeName) continue;
      const conditions = podNotReadyConditions(pod, new Date());
      if (!conditions) continue;
      try {
        await client.updateStatus(refs.pods, { ...pod, status: { ...pod.status, conditions } });
        void recorder.record(pod, 'Warning', 'NodeNotReady', 'Node is not ready');
      } catch (err) {
        if (!isNotFound(err)) failures.push(`${keyOf(pod)}: ${errorText(err)}`);
      }
    }
    if (failures.length > 0) throw new Error(`marking pods not ready: ${failures.join('; ')}`);
  };

  const reconcile = async (name: string) => {
    const node = nodes.get(name);
    if (!node) {
      health.delete(name);
      lastReady.delete(name);
      return;
    }
    const now = Date.now();
    const observed = observeNode(health.get(name), node, leases.get(`${NODE_LEASE_NAMESPACE}/${name}`), now);
    health.set(name, observed);
    let current = node;
    if (msUntilSilent(observed, node, grace, now) <= 0) {
      const conditions = silentNodeConditions(node, new Date(now));
      if (conditions) {
        current = await client.updateStatus(refs.nodes, { ...node, status: { ...node.status, conditions } });
        log.info('node stopped posting status', { node: name, silentMs: now - observed.probeTimestamp });
      }
    }
    const ready = readyStatus(current);
    if (lastReady.get(name) === 'True' && ready !== 'True') void recorder.record(current, 'Normal', 'NodeNotReady', `Node ${name} status is now: NodeNotReady`);
    lastReady.set(name, ready);

    // Every node down at once means this side lost touch, not the nodes: evict nothing (master disruption mode).
    // Readiness as this controller last wrote or saw it: the cache may not show other workers' writes yet.
    // A Ready node settles it at once; only otherwise look at every node.
    const allDown = (ready !== 'True' || excludedFromDisruption(current)) && allNodesDown(nodes.list().map((n) => withReady(n, lastReady.get(n.metadata.name ?? ''))));
    if (lastAllDown !== undefined && allDown !== lastAllDown) {
      log.info(allDown ? 'every node is not Ready: no NoExecute taints until one is back' : 'a node is Ready: NoExecute tainting resumes');
      // Leaving that mode, every node gets a fresh grace period (its heartbeats may not have reached us).
      if (!allDown) for (const h of health.values()) h.probeTimestamp = now;
      for (const n of nodes.list()) if (n.metadata.name !== name) queue.add(n.metadata.name ?? '');
    }
    lastAllDown = allDown;

    let retryAfter: number | undefined;
    let desired = desiredTaints(current, { noExecute: !allDown });
    if (isNewNoExecuteTaint(taintsOf(current), desired) && !limiter.take(now)) {
      desired = desired.filter((t) => t.effect !== 'NoExecute');
      retryAfter = limiter.msUntilToken(now);
    }
    const taints = applyTaints(taintsOf(current), desired, new Date(now));
    if (taints) {
      const { taints: _old, ...spec } = current.spec ?? {};
      // No taints left: the field goes, as Kubernetes omits an empty list.
      current = await client.update(refs.nodes, { ...current, spec: taints.length > 0 ? { ...spec, taints } : spec });
      log.debug('node taints updated', { node: name, taints: taints.map((t) => `${t.key}:${t.effect}`) });
    }
    if (ready !== 'True') await markPodsNotReady(name);

    const untilSilent = msUntilSilent(observed, current, grace, Date.now());
    const next = [untilSilent > 0 ? untilSilent + DEADLINE_SLACK_MS : undefined, retryAfter].filter((v) => v !== undefined);
    return next.length > 0 ? { requeueAfterMs: Math.min(...next) } : undefined;
  };

  await runController({
    name: 'node-lifecycle',
    queue,
    workers: WORKERS,
    log,
    async reconcile(name) {
      try {
        return await reconcile(name);
      } catch (err) {
        if (isNotFound(err)) return; // the node went away meanwhile
        throw err; // conflicts included: the retry reads the newer node from the cache
      }
    },
  });
  await informing;
}
