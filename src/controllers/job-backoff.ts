// Pod failure back-off of a Job (Kubernetes' backoffRecord): after failures
// with no success since, new pods wait 10 s, 20 s, 40 s … up to 6 minutes
// after the last failure.
import type { KubeObject } from '../api/types.ts';

/** First delay after a failed pod (Kubernetes' DefaultJobPodFailureBackOff). */
export const POD_FAILURE_BACKOFF_MS = 10_000;
/** Delays stop doubling here (Kubernetes' MaxJobPodFailureBackOff, 6 minutes as documented). */
export const MAX_POD_FAILURE_BACKOFF_MS = 360_000;

export type BackoffRecord = { failuresAfterLastSuccess: number; lastFailureMs?: number };

/** When a pod finished: its containers' latest finishedAt, else the Ready condition's last change, else `fallbackMs`. */
export function finishedAtMs(pod: KubeObject, fallbackMs: number): number {
  let latest = 0;
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
  for (const s of statuses) {
    const t = Date.parse(s?.state?.terminated?.finishedAt ?? '');
    if (Number.isFinite(t) && t > latest) latest = t;
  }
  if (latest) return latest;
  const ready = (pod.status?.conditions ?? []).find((c: { type?: string }) => c.type === 'Ready');
  const t = Date.parse(ready?.status === 'False' ? (ready?.lastTransitionTime ?? '') : '');
  return Number.isFinite(t) ? t : fallbackMs;
}

/** The record after newly counted pods: a success resets it, counting only failures after the last success. */
export function nextBackoffRecord(
  record: BackoffRecord,
  newSucceeded: KubeObject[],
  newFailed: KubeObject[],
  nowMs: number,
): BackoffRecord {
  const failedTimes = newFailed.map((p) => finishedAtMs(p, nowMs)).sort((a, b) => a - b);
  if (newSucceeded.length === 0) {
    if (failedTimes.length === 0) return record;
    return { failuresAfterLastSuccess: record.failuresAfterLastSuccess + failedTimes.length, lastFailureMs: failedTimes.at(-1) };
  }
  const lastSuccess = Math.max(...newSucceeded.map((p) => finishedAtMs(p, nowMs)));
  const after = failedTimes.filter((t) => t > lastSuccess);
  return { failuresAfterLastSuccess: after.length, lastFailureMs: after.at(-1) };
}

/** How long new pods must still wait; 0 when they may be created now. */
export function remainingBackoffMs(
  record: BackoffRecord,
  nowMs: number,
  options: { baseMs?: number; maxMs?: number } = {},
): number {
  const base = options.baseMs ?? POD_FAILURE_BACKOFF_MS;
  const max = options.maxMs ?? MAX_POD_FAILURE_BACKOFF_MS;
  if (record.failuresAfterLastSuccess === 0 || record.lastFailureMs === undefined) return 0;
  const delay = Math.min(max, base * 2 ** (record.failuresAfterLastSuccess - 1));
  return Math.max(0, record.lastFailureMs + delay - nowMs);
}
