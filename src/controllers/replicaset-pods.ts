// The ReplicaSet controller's decisions, pure: how many pods to create or
// delete, which pods to delete first (Kubernetes' ActivePodsWithRanks), the
// pod a template makes, slow-start batches and the status to report.
import { matchesSelector, selectorFromSet } from '../api/labels.ts';
import type { KubeObject, OwnerReference } from '../api/types.ts';
import { controllerOf } from './controller-ref.ts';
import { isPodActive, isPodAvailable, isPodReady, maxContainerRestarts, podReadySince } from './pod-conditions.ts';

/**
 * At most this many pods are created or deleted per sync (Kubernetes'
 * BurstReplicas): a huge scale-up proceeds in steps, each confirmed by the
 * informer before the next, instead of one flood the server must absorb.
 */
export const BURST_REPLICAS = 500;
/** The first create batch (Kubernetes' SlowStartInitialBatchSize): one failing create costs one request, not hundreds. */
export const SLOW_START_INITIAL_BATCH = 1;
/** Pods with a lower value of this annotation are deleted first (Kubernetes' PodDeletionCost, on by default). */
export const POD_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';

export type ScaleDecision = { create: number; delete: number };

/** Pods to create or delete to reach spec.replicas from `active` owned pods, capped at the burst. */
export function scaleDecision(replicas: number, active: number, burst = BURST_REPLICAS): ScaleDecision {
  const diff = active - replicas;
  if (diff < 0) return { create: Math.min(-diff, burst), delete: 0 };
  return { create: 0, delete: Math.min(diff, burst) };
}

/** Batch sizes of a slow start: 1, 2, 4, … until `count` is reached. */
export function slowStartBatches(count: number, initial = SLOW_START_INITIAL_BATCH): number[] {
  const batches: number[] = [];
  let remaining = count;
  let size = Math.min(remaining, initial);
  while (size > 0) {
    batches.push(size);
    remaining -= size;
    size = Math.min(2 * size, remaining);
  }
  return batches;
}

/**
 * Runs `fn` count times in slow-start batches (each batch in parallel); stops
 * after the first batch with a failure. Returns how many calls succeeded and
 * the first error, if any.
 */
export async function slowStartBatch(
  count: number,
  initial: number,
  fn: () => Promise<void>,
): Promise<{ succeeded: number; error: unknown }> {
  let succeeded = 0;
  for (const size of slowStartBatches(count, initial)) {
    const results = await Promise.allSettled(Array.from({ length: size }, () => fn()));
    let error: unknown;
    for (const r of results) {
      if (r.status === 'fulfilled') succeeded++;
      else error ??= r.reason;
    }
    if (error !== undefined) return { succeeded, error };
  }
  return { succeeded, error: undefined };
}

/** The pod a ReplicaSet's template makes: `<rs>-<random>` via generateName, owned by the ReplicaSet. */
export function podFromTemplate(rs: KubeObject, controllerRef: OwnerReference): KubeObject {
  const template = rs.spec?.template ?? {};
  const meta = template.metadata ?? {};
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      generateName: `${rs.metadata.name}-`,
      namespace: rs.metadata.namespace,
      labels: { ...(meta.labels ?? {}) },
      ...(meta.annotations ? { annotations: { ...meta.annotations } } : {}),
      ...(meta.finalizers ? { finalizers: [...meta.finalizers] } : {}),
      ownerReferences: [controllerRef],
    },
    spec: structuredClone(template.spec ?? {}),
  };
}

/**
 * Pods whose node crowding counts for the ranking: those of every ReplicaSet
 * with the same controller (e.g. all ReplicaSets of one Deployment), or just
 * the ReplicaSet's own when it has no controller.
 */
export function relatedPods(rs: KubeObject, replicaSets: KubeObject[], pods: KubeObject[]): KubeObject[] {
  const owner = controllerOf(rs);
  const uids = new Set([rs.metadata.uid]);
  if (owner) for (const other of replicaSets) if (controllerOf(other)?.uid === owner.uid) uids.add(other.metadata.uid);
  return pods.filter((p) => uids.has(controllerOf(p)?.uid));
}

const PHASE_ORDER: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };
const phaseOrder = (pod: KubeObject) => PHASE_ORDER[pod.status?.phase ?? ''] ?? 0;

function deletionCost(pod: KubeObject): number {
  const raw = pod.metadata.annotations?.[POD_DELETION_COST];
  if (raw === undefined || !/^[-+]?\d+$/.test(raw)) return 0;
  const n = Number(raw);
  return n >= -(2 ** 31) && n < 2 ** 31 ? n : 0;
}

/** Kubernetes' logarithmic bucket of an age: floor(log2(nanoseconds)), -1 for none. */
function logBucket(timeMs: number, nowMs: number): number {
  const ns = (nowMs - timeMs) * 1e6;
  return ns > 0 ? Math.floor(Math.log2(ns)) : -1;
}

/**
 * Orders two timestamps newest first (a missing one first of all), comparing
 * logarithmic age buckets as Kubernetes' LogarithmicScaleDown does so that
 * pods of similar age are picked pseudo-randomly (by uid) rather than strictly
 * by age. Returns 0 when they are equal.
 */
function newerFirst(
  a: KubeObject,
  ta: number | undefined,
  b: KubeObject,
  tb: number | undefined,
  nowMs: number,
): number {
  if (ta === tb) return 0;
  if (ta === undefined || tb === undefined) return ta === undefined ? -1 : 1;
  const diff = logBucket(ta, nowMs) - logBucket(tb, nowMs);
  if (diff !== 0) return diff;
  const ua = a.metadata.uid ?? '';
  const ub = b.metadata.uid ?? '';
  return ua < ub ? -1 : ua > ub ? 1 : 0;
}

const created = (pod: KubeObject) => {
  const t = Date.parse(pod.metadata.creationTimestamp ?? '');
  return Number.isNaN(t) ? undefined : t;
};

/**
 * Negative when pod `a` should be deleted before `b` (ActivePodsWithRanks):
 * unassigned first, Pending < Unknown < Running, not ready first, lower
 * deletion cost first, more crowded node first (rank), more recently ready
 * first, more restarts first, newer first.
 */
export function compareForDeletion(a: KubeObject, rankA: number, b: KubeObject, rankB: number, nowMs: number): number {
  const nodeA = a.spec?.nodeName ?? '';
  const nodeB = b.spec?.nodeName ?? '';
  if (nodeA !== nodeB && (nodeA === '' || nodeB === '')) return nodeA === '' ? -1 : 1;
  if (phaseOrder(a) !== phaseOrder(b)) return phaseOrder(a) - phaseOrder(b);
  const readyA = isPodReady(a);
  const readyB = isPodReady(b);
  if (readyA !== readyB) return readyA ? 1 : -1;
  if (deletionCost(a) !== deletionCost(b)) return deletionCost(a) - deletionCost(b);
  if (rankA !== rankB) return rankB - rankA;
  if (readyA && readyB) {
    const byReady = newerFirst(a, podReadySince(a), b, podReadySince(b), nowMs);
    if (byReady !== 0) return byReady;
  }
  if (maxContainerRestarts(a) !== maxContainerRestarts(b)) return maxContainerRestarts(b) - maxContainerRestarts(a);
  return newerFirst(a, created(a), b, created(b), nowMs);
}

/**
 * The `count` pods to delete first (getPodsToDelete). A pod's rank is how
 * many active related pods share its node.
 */
export function podsToDelete(pods: KubeObject[], related: KubeObject[], count: number, nowMs: number): KubeObject[] {
  if (count >= pods.length) return [...pods];
  const onNode = new Map<string, number>();
  for (const p of related) {
    if (!isPodActive(p)) continue;
    const node = p.spec?.nodeName ?? '';
    onNode.set(node, (onNode.get(node) ?? 0) + 1);
  }
  const ranked = pods.map((pod) => ({ pod, rank: onNode.get(pod.spec?.nodeName ?? '') ?? 0 }));
  ranked.sort((x, y) => compareForDeletion(x.pod, x.rank, y.pod, y.rank, nowMs));
  return ranked.slice(0, count).map((r) => r.pod);
}

export type ReplicaFailure = { reason: 'FailedCreate' | 'FailedDelete'; message: string };

type Condition = { type: string; status: string; lastTransitionTime?: string; reason?: string; message?: string };

/**
 * The status a ReplicaSet reports for its active owned pods (calculateStatus).
 * ReplicaFailure is set when creating or deleting failed and cleared once a
 * sync goes through; other conditions are kept.
 */
export function replicaSetStatus(
  rs: KubeObject,
  pods: KubeObject[],
  options: { failure?: ReplicaFailure; nowMs: number },
): Record<string, unknown> {
  const templateLabels = rs.spec?.template?.metadata?.labels ?? {};
  const templateSelector = selectorFromSet(templateLabels);
  const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
  let fullyLabeled = 0;
  let ready = 0;
  let available = 0;
  for (const pod of pods) {
    if (matchesSelector(templateSelector, pod.metadata.labels)) fullyLabeled++;
    if (isPodReady(pod)) {
      ready++;
      if (isPodAvailable(pod, minReadySeconds, options.nowMs)) available++;
    }
  }
  let conditions: Condition[] = [...((rs.status?.conditions as Condition[] | undefined) ?? [])];
  const existing = conditions.find((c) => c.type === 'ReplicaFailure');
  if (options.failure && !existing) {
    const now = new Date(options.nowMs).toISOString().replace(/\.\d+Z$/, 'Z');
    conditions.push({ type: 'ReplicaFailure', status: 'True', lastTransitionTime: now, ...options.failure });
  } else if (!options.failure && existing) {
    conditions = conditions.filter((c) => c !== existing);
  }
  // Zero counts are left out, as Kubernetes' omitempty does; replicas is always there.
  return {
    replicas: pods.length,
    ...(fullyLabeled ? { fullyLabeledReplicas: fullyLabeled } : {}),
    ...(ready ? { readyReplicas: ready } : {}),
    ...(available ? { availableReplicas: available } : {}),
    ...(rs.metadata.generation ? { observedGeneration: rs.metadata.generation } : {}),
    ...(conditions.length ? { conditions } : {}),
  };
}

const STATUS_COUNTS = ['replicas', 'fullyLabeledReplicas', 'readyReplicas', 'availableReplicas', 'observedGeneration'];

/** Whether `next` differs from what the ReplicaSet reports now (so a write is needed). */
export function statusChanged(rs: KubeObject, next: Record<string, unknown>): boolean {
  const current = rs.status ?? {};
  for (const field of STATUS_COUNTS) if ((current[field] ?? 0) !== (next[field] ?? 0)) return true;
  return JSON.stringify(current.conditions ?? []) !== JSON.stringify(next.conditions ?? []);
}
