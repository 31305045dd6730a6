// How workload controllers read a pod's state (Kubernetes' podutil and
// controller.IsPodActive): active, ready, available, restarts. Pure.
import type { KubeObject } from '../api/types.ts';

type Condition = { type?: string; status?: string; lastTransitionTime?: string };

/** Not finished (Succeeded/Failed) and not being deleted: the pod still counts as a replica. */
export function isPodActive(pod: KubeObject): boolean {
  const phase = pod.status?.phase;
  return phase !== 'Succeeded' && phase !== 'Failed' && !pod.metadata.deletionTimestamp;
}

function readyCondition(pod: KubeObject): Condition | undefined {
  return (pod.status?.conditions as Condition[] | undefined)?.find((c) => c.type === 'Ready');
}

export function isPodReady(pod: KubeObject): boolean {
  return readyCondition(pod)?.status === 'True';
}

/** When the pod last became ready (ms since epoch); undefined when not ready or unknown. */
export function podReadySince(pod: KubeObject): number | undefined {
  const c = readyCondition(pod);
  if (c?.status !== 'True' || !c.lastTransitionTime) return undefined;
  const t = Date.parse(c.lastTransitionTime);
  return Number.isNaN(t) ? undefined : t;
}

/** Ready for at least minReadySeconds (podutil.IsPodAvailable). */
export function isPodAvailable(pod: KubeObject, minReadySeconds: number, nowMs: number): boolean {
  if (!isPodReady(pod)) return false;
  if (!minReadySeconds) return true;
  const since = podReadySince(pod);
  return since !== undefined && since + minReadySeconds * 1000 < nowMs;
}

/** The highest restart count among the pod's containers. */
export function maxContainerRestarts(pod: KubeObject): number {
  let max = 0;
  for (const c of (pod.status?.containerStatuses as { restartCount?: number }[] | undefined) ?? [])
    max = Math.max(max, c.restartCount ?? 0);
  return max;
}
