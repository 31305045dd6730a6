// Pod garbage collector (Kubernetes' podgc controller): pods bound to a node
// that no longer exists, and terminating pods that were never scheduled,
// are deleted at once — no node agent is left to finish them — and finished
// pods beyond a threshold are removed, oldest first.
import { isNotFound } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import { refs } from '../client/index.ts';
import type { ControllerContext } from './context.ts';

/** How often the collector looks (Kubernetes' gcCheckPeriod is 20 s). */
const GC_INTERVAL_MS = 20_000;
/** A node missing for this long really is gone, not just late in our cache (Kubernetes waits 40 s, "quarantine"). */
const ORPHAN_QUARANTINE_MS = 40_000;
/** Finished pods kept cluster-wide before the oldest go (kube-controller-manager's terminated-pod-gc-threshold). */
const TERMINATED_POD_THRESHOLD = 12_500;

export type PodGcPlan = { orphaned: KubeObject[]; unscheduledTerminating: KubeObject[]; excessFinished: KubeObject[] };

/** Which pods to delete, given the pods, the nodes that exist and how long each missing node has been missing. */
export function planPodGc(
  pods: KubeObject[],
  nodeExists: (name: string) => boolean,
  missingSinceMs: (name: string) => number,
  nowMs: number,
  threshold = TERMINATED_POD_THRESHOLD,
): PodGcPlan {
  const orphaned: KubeObject[] = [];
  const unscheduledTerminating: KubeObject[] = [];
  const finished: KubeObject[] = [];
  for (const pod of pods) {
    const node = pod.spec?.nodeName as string | undefined;
    if (node && !nodeExists(node) && nowMs - missingSinceMs(node) >= ORPHAN_QUARANTINE_MS) orphaned.push(pod);
    else if (!node && pod.metadata.deletionTimestamp) unscheduledTerminating.push(pod);
    else if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') finished.push(pod);
  }
  finished.sort((a, b) => Date.parse(a.metadata.creationTimestamp ?? '') - Date.parse(b.metadata.creationTimestamp ?? ''));
  const excessFinished = finished.length > threshold ? finished.slice(0, finished.length - threshold) : [];
  return { orphaned, unscheduledTerminating, excessFinished };
}

export async function runPodGcController(ctx: ControllerContext): Promise<void> {
  const { client, signal, log } = ctx;
  const pods = ctx.informers.for(refs.pods);
  const nodes = ctx.informers.for(refs.nodes);
  if (!(await ctx.informers.waitForSync())) return;
  const firstMissing = new Map<string, number>();
  const missingSince = (name: string) => {
    if (!firstMissing.has(name)) firstMissing.set(name, Date.now());
    return firstMissing.get(name)!;
  };
  while (!signal.aborted) {
    const plan = planPodGc(pods.list(), (name) => nodes.get(name) !== undefined, missingSince, Date.now());
    for (const name of firstMissing.keys()) if (nodes.get(name)) firstMissing.delete(name);
    for (const pod of [...plan.orphaned, ...plan.unscheduledTerminating, ...plan.excessFinished]) {
      const { namespace, name, uid } = pod.metadata;
      try {
        await client.delete(refs.pods, name!, { namespace, gracePeriodSeconds: 0, preconditions: { uid } });
        log.debug('collected pod', { namespace, name, node: pod.spec?.nodeName });
      } catch (err) {
        if (!isNotFound(err)) log.warn('pod garbage collection failed', { namespace, name, err });
      }
    }
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, GC_INTERVAL_MS);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve(undefined);
      }, { once: true });
    });
  }
}
