// CronJob controller (Kubernetes' cronjob_controllerv2): at each scheduled
// time creates a Job named <cronjob>-<minutes since epoch>, honouring suspend,
// startingDeadlineSeconds, concurrencyPolicy and time zones; tracks the Jobs
// in status.active, lastScheduleTime and lastSuccessfulTime; deletes finished
// Jobs beyond the history limits. It looks again just after the next
// scheduled time instead of polling.
import { ApiError, isNotFound } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import { type EventType, errorText, keyOf, refs, runController, WorkQueue } from '../client/index.ts';
import type { ControllerContext } from './context.ts';
import { CronSyntaxError, parseSchedule } from './cron-schedule.ts';
import {
  jobFinished,
  jobFor,
  jobNameFor,
  jobsOverHistoryLimits,
  MANY_MISSED,
  mostRecentScheduleTime,
  objectRef,
  reconcileActive,
  requeueAfterMs,
  rfc1123z,
} from './cronjob-plan.ts';

/** CronJobs synced in parallel (kube-controller-manager --concurrent-cron-job-syncs default is 5). */
const WORKERS = 5;
/** Longest wait before looking again: timers cannot exceed ~24.8 days, and a daily look at a yearly schedule is cheap. */
const MAX_REQUEUE_MS = 24 * 3600_000;

const timestamp = (t: Date) => t.toISOString().replace(/\.\d+Z$/, 'Z');

export type CronJobControllerOptions = ControllerContext & {
  /** The controller's clock; tests inject one. */
  now?: () => Date;
};

export async function runCronJobController(options: CronJobControllerOptions): Promise<void> {
  const { client, informers, signal, log } = options;
  const recorder = options.recorder.withSource({ component: 'cronjob-controller' });
  const now = options.now ?? (() => new Date());
  const cronJobs = informers.for(refs.cronjobs);
  const jobs = informers.for(refs.jobs);
  const queue = new WorkQueue({ signal });
  const enqueue = (obj: KubeObject) => queue.add(keyOf(obj));
  cronJobs.addHandlers({ onAdd: enqueue, onUpdate: (_o, n) => enqueue(n), onDelete: enqueue });
  const enqueueOwner = (job: KubeObject) => {
    const ref = job.metadata.ownerReferences?.find((r) => r.controller && r.kind === 'CronJob' && r.apiVersion.startsWith('batch/'));
    if (ref) queue.add(`${job.metadata.namespace}/${ref.name}`);
  };
  jobs.addHandlers({
    onAdd: enqueueOwner,
    onUpdate: (old, job) => {
      enqueueOwner(job);
      if (old.metadata.ownerReferences !== job.metadata.ownerReferences) enqueueOwner(old);
    },
    onDelete: enqueueOwner,
  });
  if (!(await informers.waitForSync())) return;

  const event = (cj: KubeObject, type: EventType, reason: string, message: string) => void recorder.record(cj, type, reason, message);

  const ownedJobs = (cj: KubeObject) =>
    jobs
      .list({ namespace: cj.metadata.namespace })
      .filter((j) => j.metadata.ownerReferences?.some((r) => r.controller && r.uid === cj.metadata.uid));

  const reconcile = async (key: string) => {
    const cached = cronJobs.get(key);
    if (!cached || cached.metadata.deletionTimestamp) return;
    const cj: KubeObject = structuredClone(cached);
    cj.status ??= {};
    const children = ownedJobs(cj);
    const before = JSON.stringify(cj.status);

    const synced = reconcileActive(cj, children);
    if (synced.notices.some((n) => n.reason === 'UnexpectedJob')) {
      // Our own status write may just not be in the cache yet: if the live object is newer, wait for it.
      const live = await client.get(refs.cronjobs, cj.metadata.name ?? '', { namespace: cj.metadata.namespace });
      if (live.metadata.resourceVersion !== cj.metadata.resourceVersion) return;
    }
    for (const n of synced.notices) event(cj, n.type, n.reason, n.message);
    for (const gone of synced.missing) {
      // The cache may lag behind our own create: ask the API before forgetting a Job.
      try {
        await client.get(refs.jobs, gone.name ?? '', { namespace: cj.metadata.namespace });
      } catch (err) {
        if (!isNotFound(err)) throw err;
        event(cj, 'Normal', 'MissingJob', `Active job went missing: ${gone.name}`);
        synced.active.splice(synced.active.indexOf(gone), 1);
      }
    }
    cj.status.active = synced.active;
    if (synced.lastSuccessfulTime) cj.status.lastSuccessfulTime = synced.lastSuccessfulTime;

    const requeue = await schedule(cj);
    if (JSON.stringify(cj.status) !== before) {
      if (cj.status.active.length === 0) delete cj.status.active;
      await client.updateStatus(refs.cronjobs, cj);
    }
    await cleanUpHistory(cj, ownedJobs(cj));
    return requeue === undefined ? undefined : { requeueAfterMs: Math.min(requeue, MAX_REQUEUE_MS) };
  };

  /** Creates the due Job if any; changes cj.status; returns when to look again. */
  const schedule = async (cj: KubeObject): Promise<number | undefined> => {
    if (cj.spec?.suspend) return undefined;
    let sched: ReturnType<typeof parseSchedule>;
    try {
      sched = parseSchedule(cj.spec?.schedule ?? '', { timeZone: cj.spec?.timeZone ?? undefined });
    } catch (err) {
      if (err instanceof CronSyntaxError) event(cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: ${JSON.stringify(cj.spec?.schedule)} : ${err.message}`);
      else event(cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: ${JSON.stringify(cj.spec?.timeZone)}: ${errorText(err)}`);
      return undefined;
    }
    const at = now();
    let due: ReturnType<typeof mostRecentScheduleTime>;
    try {
      due = mostRecentScheduleTime(cj, sched, at, { useStartingDeadline: true });
    } catch (err) {
      event(cj, 'Warning', 'InvalidSchedule', `invalid schedule: ${cj.spec?.schedule} : ${errorText(err)}`);
      return undefined;
    }
    const next = () => requeueAfterMs(cj, sched, now());
    if (due.missed > MANY_MISSED) {
      event(cj, 'Warning', 'TooManyMissedTimes', `too many missed start times: ${due.missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`);
    }
    const scheduled = due.time;
    if (!scheduled) return next();
    const deadline = cj.spec?.startingDeadlineSeconds;
    if (typeof deadline === 'number' && scheduled.getTime() + deadline * 1000 < at.getTime()) {
      event(cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc1123z(scheduled)}`);
      return next();
    }
    const name = jobNameFor(cj.metadata.name ?? '', scheduled);
    const active: KubeObject['status'] = cj.status.active;
    if (active.some((a: { name?: string }) => a.name === name) || (cj.status.lastScheduleTime && Date.parse(cj.status.lastScheduleTime) === scheduled.getTime())) {
      return next();
    }
    const policy = cj.spec?.concurrencyPolicy ?? 'Allow';
    if (policy === 'Forbid' && active.length > 0) {
      event(cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
      return next();
    }
    if (policy === 'Replace') {
      for (const ref of [...active]) {
        try {
          await client.delete(refs.jobs, ref.name, { namespace: cj.metadata.namespace, propagationPolicy: 'Background' });
        } catch (err) {
          if (!isNotFound(err)) {
            event(cj, 'Warning', 'FailedDelete', `Deleted job: ${errorText(err)}`);
            throw err;
          }
        }
        event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${ref.name}`);
        active.splice(active.indexOf(ref), 1);
      }
    }
    let created: KubeObject;
    let fresh = true;
    try {
      created = await client.create(refs.jobs, jobFor(cj, scheduled));
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) {
        event(cj, 'Warning', 'FailedCreate', `Error creating job: ${errorText(err)}`);
        throw err;
      }
      // The name is the lock: an earlier attempt of ours (whose status write was lost) or someone else made it.
      const existing = await client.get(refs.jobs, name, { namespace: cj.metadata.namespace });
      log.info('job already exists', { cronjob: keyOf(cj), job: name });
      if (!existing.metadata.ownerReferences?.some((r) => r.controller && r.uid === cj.metadata.uid)) return next();
      created = existing;
      fresh = false;
      if (jobFinished(existing)) {
        // This run already happened (names are per minute: "@every 10s" runs at most once a minute).
        cj.status.lastScheduleTime = timestamp(scheduled);
        return next();
      }
    }
    if (fresh) event(cj, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata.name}`);
    if (!active.some((a: { uid?: string }) => a.uid === created.metadata.uid)) active.push(objectRef(created));
    cj.status.lastScheduleTime = timestamp(scheduled);
    return next();
  };

  const cleanUpHistory = async (cj: KubeObject, children: KubeObject[]) => {
    for (const job of jobsOverHistoryLimits(cj, children)) {
      try {
        await client.delete(refs.jobs, job.metadata.name ?? '', {
          namespace: job.metadata.namespace,
          propagationPolicy: 'Background',
          preconditions: { uid: job.metadata.uid },
        });
        event(cj, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`);
      } catch (err) {
        if (!isNotFound(err)) log.warn('could not delete old job', { job: keyOf(job), err: errorText(err) });
      }
    }
  };

  await runController({ name: 'cronjob', queue, workers: WORKERS, reconcile, log });
}
