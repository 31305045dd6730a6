// The Job controller's decisions, without I/O (Kubernetes' syncJob and
// manageJob): which pods to create and delete, how finished pods are counted
// through status.uncountedTerminatedPods and the job-tracking finalizer, and
// when the Job fails (backoffLimit, activeDeadlineSeconds), succeeds or is
// suspended. The caller does the writes in order: delete, create, status,
// then finalizer removal.
import type { KubeObject } from '../api/types.ts';
import { type BackoffRecord, nextBackoffRecord, remainingBackoffMs } from './job-backoff.ts';
import { firstPendingIndexes, formatIndexes, parseIndexes, podIndex } from './job-indexes.ts';

/** Finalizer on every pod of a Job until its end is counted in the Job's status. */
export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
/** At most this many pods are created or deleted in one sync (Kubernetes' MaxPodCreateDeletePerSync). */
export const MAX_POD_CHANGES_PER_SYNC = 500;

// biome-ignore lint/suspicious/noExplicitAny: API objects are open JSON documents
type Json = Record<string, any>;
export type Condition = { type: string; status: string; reason?: string; message?: string; lastProbeTime?: string; lastTransitionTime?: string };

export const REASONS = {
  backoff: { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' },
  deadline: { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' },
  completions: { reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' },
};

export type JobPlanInput = {
  job: KubeObject;
  /** Pods the Job owns. */
  pods: KubeObject[];
  now: Date;
  backoff: BackoffRecord;
  /** False while earlier creates/deletes are not yet seen in the cache: then no pods are created or deleted. */
  expectationsSatisfied: boolean;
  backoffOptions?: { baseMs?: number; maxMs?: number };
};

export type JobPlan = {
  status: Json;
  /** Number of NonIndexed pods to create, or the indexes of Indexed ones. */
  create: { count: number; indexes?: number[] };
  delete: KubeObject[];
  /** Pods whose job-tracking finalizer goes once the status is written. */
  removeFinalizers: KubeObject[];
  backoff: BackoffRecord;
  /** Look again after this long (back-off, active deadline). */
  requeueAfterMs?: number;
  events: { type: 'Normal' | 'Warning'; reason: string; message: string }[];
};

export const jobKeyIsIndexed = (job: KubeObject) => job.spec?.completionMode === 'Indexed';
const hasFinalizer = (pod: KubeObject) => pod.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER) ?? false;
const isFinishedPhase = (pod: KubeObject) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
export const isActivePod = (pod: KubeObject) => !isFinishedPhase(pod) && !pod.metadata.deletionTimestamp;
export const isTerminatingPod = (pod: KubeObject) => !isFinishedPhase(pod) && Boolean(pod.metadata.deletionTimestamp);
const isReadyPod = (pod: KubeObject) => (pod.status?.conditions ?? []).some((c: Condition) => c.type === 'Ready' && c.status === 'True');

export function conditionOf(job: KubeObject, type: string): Condition | undefined {
  return (job.status?.conditions ?? []).find((c: Condition) => c.type === type && c.status === 'True');
}

/** Complete or Failed with status True. */
export function jobFinishedCondition(job: KubeObject): Condition | undefined {
  return conditionOf(job, 'Complete') ?? conditionOf(job, 'Failed');
}

/** Pods that only replace failed ones (podReplacementPolicy Failed) wait for terminating pods to end. */
const onlyReplaceFailed = (job: KubeObject) => job.spec?.podReplacementPolicy === 'Failed' || Boolean(job.spec?.podFailurePolicy);

/** A finished or deleted pod counted as failed (Kubernetes' isPodFailed). */
function isPodFailed(pod: KubeObject, job: KubeObject): boolean {
  if (pod.status?.phase === 'Failed') return true;
  if (onlyReplaceFailed(job)) return false;
  return Boolean(pod.metadata.deletionTimestamp) && pod.status?.phase !== 'Succeeded';
}

/** Sets a condition; returns whether anything changed. A False condition is only written over an existing one. */
function setCondition(conditions: Condition[], next: Omit<Condition, 'lastProbeTime' | 'lastTransitionTime'>, now: string): boolean {
  const i = conditions.findIndex((c) => c.type === next.type);
  if (i < 0) {
    if (next.status === 'False') return false;
    conditions.push({ ...next, lastProbeTime: now, lastTransitionTime: now });
    return true;
  }
  const old = conditions[i];
  if (old.status === next.status && old.reason === next.reason && old.message === next.message) return false;
  conditions[i] = { ...next, lastProbeTime: now, lastTransitionTime: old.status === next.status ? old.lastTransitionTime : now };
  return true;
}

/** Which active pods go first when there are too many: unscheduled, pending, not ready, newest (controller.ActivePods). */
export function podsForRemoval(pods: KubeObject[], count: number): KubeObject[] {
  const phaseRank: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };
  const rank = (p: KubeObject) => [
    p.spec?.nodeName ? 1 : 0,
    phaseRank[p.status?.phase ?? 'Pending'] ?? 0,
    isReadyPod(p) ? 1 : 0,
    -(Date.parse(p.metadata.creationTimestamp ?? '') || 0),
  ];
  const sorted = [...pods].sort((a, b) => {
    const [ra, rb] = [rank(a), rank(b)];
    for (let i = 0; i < ra.length; i++) if (ra[i] !== rb[i]) return ra[i] - rb[i];
    return 0;
  });
  return sorted.slice(0, Math.max(0, count));
}

/** Restarts of running or pending pods reach the limit (restartPolicy OnFailure: pods never fail, containers restart). */
function pastBackoffLimitOnFailure(job: KubeObject, pods: KubeObject[]): boolean {
  if (job.spec?.template?.spec?.restartPolicy !== 'OnFailure') return false;
  let restarts = 0;
  for (const p of pods) {
    if (p.status?.phase !== 'Running' && p.status?.phase !== 'Pending') continue;
    for (const s of [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]) restarts += s?.restartCount ?? 0;
  }
  const limit = job.spec?.backoffLimit ?? 6;
  return limit === 0 ? restarts > 0 : restarts >= limit;
}

export function planJob(input: JobPlanInput): JobPlan {
  const { job, pods, now, expectationsSatisfied } = input;
  const nowIso = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const spec: Json = job.spec ?? {};
  const status: Json = structuredClone(job.status ?? {});
  const conditions: Condition[] = status.conditions ?? [];
  const events: JobPlan['events'] = [];
  const suspended = spec.suspend === true;
  const indexed = jobKeyIsIndexed(job);
  const completions: number | undefined = spec.completions ?? undefined;
  const plan: JobPlan = { status, create: { count: 0 }, delete: [], removeFinalizers: [], backoff: input.backoff, events };

  if (!status.startTime && !suspended) status.startTime = nowIso;

  // --- counting finished pods: finished → uncounted (finalizer removed after the write) → counters ---
  const uncounted = { succeeded: [...(status.uncountedTerminatedPods?.succeeded ?? [])], failed: [...(status.uncountedTerminatedPods?.failed ?? [])] };
  const byUid = new Map(pods.map((p) => [p.metadata.uid ?? '', p]));
  let succeeded: number = status.succeeded ?? 0;
  let failed: number = status.failed ?? 0;
  const succeededIndexes = indexed ? parseIndexes(status.completedIndexes, completions ?? 0) : new Set<number>();
  const settled = (uid: string) => {
    const p = byUid.get(uid);
    return !p || !hasFinalizer(p);
  };
  for (const uid of uncounted.succeeded.filter(settled)) {
    const p = byUid.get(uid);
    const i = p && indexed ? podIndex(p, completions ?? 0) : undefined;
    if (i !== undefined) succeededIndexes.add(i);
    succeeded++;
  }
  failed += uncounted.failed.filter(settled).length;
  uncounted.succeeded = uncounted.succeeded.filter((u) => !settled(u));
  uncounted.failed = uncounted.failed.filter((u) => !settled(u));
  const inUncounted = new Set([...uncounted.succeeded, ...uncounted.failed]);
  const newSucceeded: KubeObject[] = [];
  const newFailed: KubeObject[] = [];
  const uncountedRemovals: KubeObject[] = [];
  for (const p of pods) {
    if (!hasFinalizer(p) || inUncounted.has(p.metadata.uid ?? '')) continue;
    // Pods stopped because the Job is suspended are not failures: release them uncounted.
    if (suspended && isTerminatingPod(p)) uncountedRemovals.push(p);
    else if (p.status?.phase === 'Succeeded') newSucceeded.push(p);
    else if (isPodFailed(p, job)) newFailed.push(p);
  }
  uncounted.succeeded.push(...newSucceeded.map((p) => p.metadata.uid ?? ''));
  uncounted.failed.push(...newFailed.map((p) => p.metadata.uid ?? ''));
  plan.backoff = nextBackoffRecord(input.backoff, newSucceeded, newFailed, now.getTime());
  // Totals as if every finished pod were already counted: the decisions below use them.
  const totalFailed = failed + uncounted.failed.length;
  const pendingSucceededIndexes = new Set(succeededIndexes);
  for (const uid of uncounted.succeeded) {
    const p = byUid.get(uid);
    const i = p ? podIndex(p, completions ?? 0) : undefined;
    if (i !== undefined) pendingSucceededIndexes.add(i);
  }
  const totalSucceeded = indexed ? pendingSucceededIndexes.size : succeeded + uncounted.succeeded.length;

  let active = pods.filter(isActivePod);
  const terminating = pods.filter(isTerminatingPod).length;

  // --- finishing: failure or success decided earlier waits for terminating pods; or decide now ---
  let finished: Omit<Condition, 'lastProbeTime' | 'lastTransitionTime'> | undefined;
  const failureTarget = conditionOf(job, 'FailureTarget');
  const successMet = conditionOf(job, 'SuccessCriteriaMet');
  if (failureTarget) finished = { type: 'Failed', status: 'True', reason: failureTarget.reason, message: failureTarget.message };
  else if (successMet) finished = { type: 'Complete', status: 'True', reason: successMet.reason, message: successMet.message };
  else {
    const deadlineMs = spec.activeDeadlineSeconds != null && status.startTime && !suspended
      ? Date.parse(status.startTime) + spec.activeDeadlineSeconds * 1000
      : undefined;
    let failure: { reason: string; message: string } | undefined;
    if (totalFailed > (spec.backoffLimit ?? 6) || pastBackoffLimitOnFailure(job, pods)) failure = REASONS.backoff;
    else if (deadlineMs !== undefined && deadlineMs <= now.getTime()) failure = REASONS.deadline;
    else if (deadlineMs !== undefined) requeueWithin(plan, deadlineMs - now.getTime());
    if (failure) {
      setCondition(conditions, { type: 'FailureTarget', status: 'True', ...failure }, nowIso);
      finished = { type: 'Failed', status: 'True', ...failure };
    }
  }

  if (finished) {
    plan.delete = active;
    active = [];
  } else if (suspended) {
    plan.delete = active;
    active = [];
    if (setCondition(conditions, { type: 'Suspended', status: 'True', reason: 'JobSuspended', message: 'Job suspended' }, nowIso)) {
      events.push({ type: 'Normal', reason: 'Suspended', message: 'Job suspended' });
    }
  } else {
    if (setCondition(conditions, { type: 'Suspended', status: 'False', reason: 'JobResumed', message: 'Job resumed' }, nowIso)) {
      events.push({ type: 'Normal', reason: 'Resumed', message: 'Job resumed' });
      // activeDeadlineSeconds counts continuous activity: resuming starts the clock again.
      status.startTime = nowIso;
    }
    if (expectationsSatisfied) {
      const backoffWaitMs = remainingBackoffMs(plan.backoff, now.getTime(), input.backoffOptions);
      active = manage(plan, { job, active, terminating, totalSucceeded, succeededIndexes: pendingSucceededIndexes, backoffWaitMs });
    }
    const done = indexed ? totalSucceeded >= (completions ?? 0) : completions == null ? totalSucceeded > 0 : totalSucceeded >= completions;
    if (done && active.length === 0 && plan.create.count === 0) {
      setCondition(conditions, { type: 'SuccessCriteriaMet', status: 'True', ...REASONS.completions }, nowIso);
      finished = { type: 'Complete', status: 'True', ...REASONS.completions };
    }
  }

  const stillTerminating = terminating + plan.delete.length;
  if (finished && uncounted.succeeded.length + uncounted.failed.length === 0 && stillTerminating === 0) {
    setCondition(conditions, finished, nowIso);
    if (finished.type === 'Complete') {
      status.completionTime = nowIso;
      events.push({ type: 'Normal', reason: 'Completed', message: 'Job completed' });
    } else {
      events.push({ type: 'Warning', reason: finished.reason ?? 'Failed', message: finished.message ?? '' });
    }
  }

  const inUncountedNow = new Set([...uncounted.succeeded, ...uncounted.failed]);
  plan.removeFinalizers = [...pods.filter((p) => hasFinalizer(p) && inUncountedNow.has(p.metadata.uid ?? '')), ...uncountedRemovals];
  status.conditions = conditions.length > 0 ? conditions : undefined;
  status.active = active.length + plan.create.count;
  status.ready = active.filter(isReadyPod).length;
  status.terminating = terminating;
  status.succeeded = indexed ? succeededIndexes.size : succeeded;
  status.failed = failed;
  status.uncountedTerminatedPods = uncounted.succeeded.length + uncounted.failed.length > 0
    ? { ...(uncounted.succeeded.length ? { succeeded: uncounted.succeeded } : {}), ...(uncounted.failed.length ? { failed: uncounted.failed } : {}) }
    : {};
  if (indexed) status.completedIndexes = formatIndexes(succeededIndexes);
  for (const k of Object.keys(status)) if (status[k] === undefined) delete status[k];
  return plan;
}

/** manageJob: creates or deletes pods towards the wanted number of active ones; returns the active pods that stay. */
function manage(
  plan: JobPlan,
  ctx: { job: KubeObject; active: KubeObject[]; terminating: number; totalSucceeded: number; succeededIndexes: Set<number>; backoffWaitMs: number },
): KubeObject[] {
  const { job, totalSucceeded } = ctx;
  const active = ctx.active;
  const spec: Json = job.spec ?? {};
  const parallelism: number = spec.parallelism ?? 1;
  const completions: number | undefined = spec.completions ?? undefined;
  const indexed = jobKeyIsIndexed(job);
  let wantActive: number;
  if (completions == null) wantActive = totalSucceeded > 0 ? active.length : parallelism;
  else wantActive = Math.max(0, Math.min(parallelism, completions - totalSucceeded));

  const toDelete: KubeObject[] = [];
  if (indexed) {
    // Pods whose index is invalid, already succeeded, or held by another pod go first.
    const held = new Set<number>();
    for (const p of [...active].sort((a, b) => Number(isReadyPod(b)) - Number(isReadyPod(a)))) {
      const i = podIndex(p, completions ?? 0);
      if (i === undefined || ctx.succeededIndexes.has(i) || held.has(i)) toDelete.push(p);
      else held.add(i);
    }
  }
  const remaining = active.filter((p) => !toDelete.includes(p));
  toDelete.push(...podsForRemoval(remaining, remaining.length - wantActive));
  if (toDelete.length > 0) {
    plan.delete = toDelete.slice(0, MAX_POD_CHANGES_PER_SYNC);
    return active.filter((p) => !plan.delete.includes(p));
  }
  const terminating = onlyReplaceFailed(job) ? ctx.terminating : 0;
  let diff = Math.min(wantActive - terminating - active.length, MAX_POD_CHANGES_PER_SYNC);
  if (diff <= 0) return active;
  if (ctx.backoffWaitMs > 0) {
    requeueWithin(plan, ctx.backoffWaitMs);
    return active;
  }
  if (indexed) {
    const taken = new Set(ctx.succeededIndexes);
    for (const p of active) {
      const i = podIndex(p, completions ?? 0);
      if (i !== undefined) taken.add(i);
    }
    const indexes = firstPendingIndexes(completions ?? 0, taken, diff);
    diff = indexes.length;
    plan.create = { count: diff, indexes };
  } else {
    plan.create = { count: diff };
  }
  return active;
}

function requeueWithin(plan: JobPlan, ms: number): void {
  plan.requeueAfterMs = plan.requeueAfterMs === undefined ? ms : Math.min(plan.requeueAfterMs, ms);
}
