// Job controller (Kubernetes' pkg/controller/job): runs pods until enough
// succeed (completions, parallelism, NonIndexed and Indexed), retries failures
// with back-off up to backoffLimit, enforces activeDeadlineSeconds, suspends
// and resumes. Decisions come from planJob; this file reads the caches and
// writes in a safe order: delete pods, create pods, write status, then drop
// the job-tracking finalizer of pods the status now accounts for.
import { ApiError, isNotFound } from '../api/errors.ts';
import { deepEqual } from '../api/field-errors.ts';
import { labelSelectorToRequirements, matchesSelector } from '../api/labels.ts';
import type { KubeObject } from '../api/types.ts';
import { type Client, errorText, keyOf, refs, runController, WorkQueue } from '../client/index.ts';
import type { ControllerContext } from './context.ts';
import { claimObjects, controllerOf, newControllerRef, recheckOwner } from './controller-ref.ts';
import { Expectations } from './expectations.ts';
import type { BackoffRecord } from './job-backoff.ts';
import { jobPod } from './job-pod.ts';
import { JOB_TRACKING_FINALIZER, jobFinishedCondition, planJob } from './job-plan.ts';

/** Jobs synced in parallel (kube-controller-manager --concurrent-job-syncs default is 5). */
const WORKERS = 5;
/** Pod creations start with one and double per batch, so a broken template fails once, not 500 times (SlowStartInitialBatchSize). */
const SLOW_START_INITIAL_BATCH = 1;
/** Longest wait before looking again (timers cannot exceed ~24.8 days; a long activeDeadlineSeconds is re-checked daily). */
const MAX_REQUEUE_MS = 24 * 3600_000;
/** After this many failed syncs of one Job a Warning Event tells the user. */
const EVENT_AFTER_RETRIES = 5;

export type JobControllerOptions = ControllerContext & {
  now?: () => Date;
  /** Pod failure back-off (tests shorten it); Kubernetes' 10 s doubling to 6 min by default. */
  backoff?: { baseMs?: number; maxMs?: number };
};

const hasTrackingFinalizer = (pod: KubeObject) => pod.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER) ?? false;
const jobRefOf = (pod: KubeObject) => {
  const ref = controllerOf(pod);
  return ref?.kind === 'Job' && ref.apiVersion.startsWith('batch/') ? ref : undefined;
};

/** Removes the job-tracking finalizer; guarded by resourceVersion so a concurrent change wins and we look again. */
export async function removeTrackingFinalizer(client: Client, pod: KubeObject): Promise<void> {
  if (!hasTrackingFinalizer(pod)) return;
  const finalizers = (pod.metadata.finalizers ?? []).filter((f) => f !== JOB_TRACKING_FINALIZER);
  try {
    await client.patch(
      refs.pods,
      pod.metadata.name ?? '',
      { metadata: { finalizers: finalizers.length ? finalizers : null, resourceVersion: pod.metadata.resourceVersion } },
      { type: 'merge', namespace: pod.metadata.namespace },
    );
  } catch (err) {
    if (isNotFound(err)) return;
    throw err;
  }
}

export async function runJobController(options: JobControllerOptions): Promise<void> {
  const { client, informers, signal, log } = options;
  const recorder = options.recorder.withSource({ component: 'job-controller' });
  const now = options.now ?? (() => new Date());
  const jobs = informers.for(refs.jobs);
  const pods = informers.for(refs.pods);
  const queue = new WorkQueue({ signal });
  const orphans = new WorkQueue({ signal });
  const expectations = new Expectations();
  const backoffs = new Map<string, BackoffRecord>();

  /** The Job's selector matches the pod (an empty or broken selector matches nothing). */
  const selects = (job: KubeObject, pod: KubeObject) => {
    try {
      const sel = labelSelectorToRequirements(job.spec?.selector);
      return sel !== undefined && sel.length > 0 && matchesSelector(sel, pod.metadata.labels);
    } catch {
      return false;
    }
  };

  jobs.addHandlers({
    onAdd: (job) => queue.add(keyOf(job)),
    onUpdate: (_old, job) => queue.add(keyOf(job)),
    onDelete: (job) => {
      queue.add(keyOf(job));
      // Its pods' finalizers must go, or they stay Terminating for ever once the GC deletes them.
      for (const pod of pods.list({ namespace: job.metadata.namespace })) {
        if (jobRefOf(pod)?.uid === job.metadata.uid && hasTrackingFinalizer(pod)) orphans.add(keyOf(pod));
      }
    },
  });
  const jobKeyFor = (pod: KubeObject) => {
    const ref = jobRefOf(pod);
    return ref ? `${pod.metadata.namespace}/${ref.name}` : undefined;
  };
  const onPod = (pod: KubeObject) => {
    const key = jobKeyFor(pod);
    if (key) {
      const job = jobs.get(key);
      if (job?.metadata.uid === jobRefOf(pod)?.uid) queue.add(key);
      else if (hasTrackingFinalizer(pod)) orphans.add(keyOf(pod));
      return;
    }
    // An orphan: a Job whose selector matches may adopt it.
    if (pod.metadata.deletionTimestamp) return;
    for (const job of jobs.list({ namespace: pod.metadata.namespace })) {
      if (selects(job, pod)) queue.add(keyOf(job));
    }
  };
  pods.addHandlers({
    onAdd: (pod) => {
      const key = jobKeyFor(pod);
      if (key) expectations.creationObserved(key);
      if (key && pod.metadata.deletionTimestamp) expectations.deletionObserved(key, keyOf(pod));
      onPod(pod);
    },
    onUpdate: (old, pod) => {
      const key = jobKeyFor(pod);
      if (key && pod.metadata.deletionTimestamp && !old.metadata.deletionTimestamp) expectations.deletionObserved(key, keyOf(pod));
      onPod(pod);
      const oldKey = jobKeyFor(old);
      if (oldKey && oldKey !== key) queue.add(oldKey);
    },
    onDelete: (pod) => {
      const key = jobKeyFor(pod);
      if (key) {
        expectations.deletionObserved(key, keyOf(pod));
        queue.add(key);
      }
    },
  });
  if (!(await informers.waitForSync())) return;

  const reconcile = async (key: string) => {
    const job = jobs.get(key);
    if (!job) {
      expectations.delete(key);
      for (const k of [...backoffs.keys()]) if (k.startsWith(`${key}\u0000`)) backoffs.delete(k);
      return;
    }
    const backoffKey = `${key}\u0000${job.metadata.uid}`;
    const candidates = pods.list({ namespace: job.metadata.namespace }).filter((p) => jobRefOf(p)?.uid === job.metadata.uid || (!controllerOf(p) && selects(job, p)));
    const owned = await claimObjects({
      client,
      resource: refs.pods,
      owner: job,
      matches: (p) => selects(job, p),
      controllerRef: newControllerRef(job, { apiVersion: 'batch/v1', kind: 'Job' }),
      objects: candidates,
      canAdopt: recheckOwner(client, refs.jobs, job),
    });
    if (job.metadata.deletionTimestamp || jobFinishedCondition(job)) {
      // Nothing left to count: release every pod still held by the finalizer.
      await Promise.all(owned.filter(hasTrackingFinalizer).map((p) => removeTrackingFinalizer(client, p)));
      if (jobFinishedCondition(job)) backoffs.delete(backoffKey);
      return;
    }
    const plan = planJob({
      job,
      pods: owned,
      now: now(),
      backoff: backoffs.get(backoffKey) ?? { failuresAfterLastSuccess: 0 },
      expectationsSatisfied: expectations.satisfied(key),
      backoffOptions: options.backoff,
    });

    // Deletions (excess, suspended, finished): pods keep their finalizer until counted.
    if (plan.delete.length > 0) {
      expectations.expectDeletions(key, plan.delete.map(keyOf));
      const failures: unknown[] = [];
      await Promise.all(
        plan.delete.map(async (pod) => {
          try {
            await client.delete(refs.pods, pod.metadata.name ?? '', { namespace: pod.metadata.namespace, preconditions: { uid: pod.metadata.uid } });
            void recorder.record(job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
          } catch (err) {
            expectations.deletionObserved(key, keyOf(pod));
            if (isNotFound(err)) return;
            void recorder.record(job, 'Warning', 'FailedDelete', `Error deleting: ${errorText(err)}`);
            failures.push(err);
          }
        }),
      );
      if (failures.length > 0) throw failures[0];
    }

    // Creations, in slow-start batches.
    let notCreated = 0;
    let createError: unknown;
    if (plan.create.count > 0) {
      const templates = plan.create.indexes ? plan.create.indexes.map((i) => jobPod(job, i)) : Array.from({ length: plan.create.count }, () => jobPod(job));
      expectations.expectCreations(key, templates.length);
      let next = 0;
      for (let batch = SLOW_START_INITIAL_BATCH; next < templates.length && !createError; batch *= 2) {
        const chunk = templates.slice(next, next + batch);
        next += chunk.length;
        await Promise.all(
          chunk.map(async (pod) => {
            try {
              const created = await client.create(refs.pods, pod);
              void recorder.record(job, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
            } catch (err) {
              expectations.creationObserved(key);
              notCreated++;
              createError ??= err;
              void recorder.record(job, 'Warning', 'FailedCreate', `Error creating: ${errorText(err)}`);
            }
          }),
        );
      }
      for (; next < templates.length; next++) {
        expectations.creationObserved(key);
        notCreated++;
      }
    }

    const status = { ...plan.status, active: plan.status.active - notCreated };
    if (!deepEqual(status, job.status ?? {})) {
      await client.updateStatus(refs.jobs, { ...job, status });
    }
    backoffs.set(backoffKey, plan.backoff);
    for (const e of plan.events) void recorder.record(job, e.type, e.reason, e.message);
    // The status now lists these pods as uncounted: their finalizers may go; the next sync counts them.
    await Promise.all(plan.removeFinalizers.map((p) => removeTrackingFinalizer(client, p)));
    if (createError) throw createError;
    return plan.requeueAfterMs === undefined ? undefined : { requeueAfterMs: Math.min(plan.requeueAfterMs, MAX_REQUEUE_MS) };
  };

  /** A pod whose Job is gone (or replaced by a namesake) loses its finalizer. */
  const releaseOrphan = async (podKey: string) => {
    const pod = pods.get(podKey);
    const ref = pod && jobRefOf(pod);
    if (!pod || !ref || !hasTrackingFinalizer(pod)) return;
    try {
      const live = await client.get(refs.jobs, ref.name, { namespace: pod.metadata.namespace });
      if (live.metadata.uid === ref.uid && !live.metadata.deletionTimestamp) return; // its Job exists: the Job sync handles it
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    await removeTrackingFinalizer(client, pod);
  };

  await Promise.all([
    runController({
      name: 'job',
      queue,
      workers: WORKERS,
      reconcile,
      log,
      onError(key, err, retries) {
        const job = jobs.get(key);
        const conflict = err instanceof ApiError && err.code === 409;
        if (job && !conflict && retries >= EVENT_AFTER_RETRIES) void recorder.record(job, 'Warning', 'SyncFailed', `Failed to sync job: ${errorText(err)}`);
      },
    }),
    runController({ name: 'job-orphan-pods', queue: orphans, workers: 1, reconcile: releaseOrphan, log }),
  ]);
}
