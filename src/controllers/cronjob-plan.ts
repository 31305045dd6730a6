// The CronJob controller's decisions, without I/O: which scheduled time is due,
// what the Job for it looks like, which finished Jobs fall out of the history
// limits, and how the status's active list follows the Jobs.
import type { KubeObject, OwnerReference } from '../api/types.ts';
import type { CronSchedule } from './cron-schedule.ts';

/** Kubernetes requeues this long after the next schedule time, so the clock has surely passed it. */
export const NEXT_SCHEDULE_DELTA_MS = 100;
/** More missed start times than this means a clock problem: Kubernetes warns (TooManyMissedTimes) and starts only the latest. */
export const MANY_MISSED = 100;
/** Annotation with the scheduled time on every Job a CronJob creates (CronJobsScheduledAnnotation, on since 1.30). */
export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

// biome-ignore lint/suspicious/noExplicitAny: API objects are open JSON documents
type Json = Record<string, any>;

export type MostRecent = { time?: Date; missed: number };

/**
 * The latest schedule time in (earliest, now], where earliest is the last
 * schedule time (or creation) moved up to now - startingDeadlineSeconds.
 * `missed` counts the start times passed (roughly, as Kubernetes does).
 */
export function mostRecentScheduleTime(
  cronJob: KubeObject,
  schedule: CronSchedule,
  now: Date,
  options: { useStartingDeadline: boolean },
): MostRecent {
  let earliest = new Date(cronJob.status?.lastScheduleTime ?? cronJob.metadata.creationTimestamp ?? now.toISOString());
  const deadline = cronJob.spec?.startingDeadlineSeconds;
  if (options.useStartingDeadline && typeof deadline === 'number') {
    const limit = new Date(now.getTime() - deadline * 1000);
    if (limit > earliest) earliest = limit;
  }
  const t1 = schedule.next(earliest);
  if (!t1 || t1 > now) return { missed: 0 };
  const t2 = schedule.next(t1);
  if (!t2 || t2 > now) return { time: t1, missed: 1 };
  const interval = t2.getTime() - t1.getTime();
  if (interval < 1000) throw new Error('time difference between two schedules is less than 1 second');
  const missed = Math.floor((now.getTime() - t1.getTime()) / interval) + 1;
  // Walk from a little before now; irregular schedules (nights, weekdays only) may need to look further
  // back, doubling the distance each time, never before t1.
  for (let back = 2; ; back *= 2) {
    const start = Math.max(t1.getTime() - 1, now.getTime() - back * interval);
    let latest: Date | undefined;
    for (let t = schedule.next(new Date(start)); t && t <= now; t = schedule.next(t)) latest = t;
    if (latest || start < t1.getTime()) return { time: latest, missed };
  }
}

/** When to look at the CronJob again: just after its next schedule time. */
export function requeueAfterMs(cronJob: KubeObject, schedule: CronSchedule, now: Date): number | undefined {
  const { time } = mostRecentScheduleTime(cronJob, schedule, now, { useStartingDeadline: false });
  const from = time ?? new Date(cronJob.status?.lastScheduleTime ?? cronJob.metadata.creationTimestamp ?? now.toISOString());
  const next = schedule.next(from > now ? now : from);
  if (!next) return undefined;
  return Math.max(0, next.getTime() - now.getTime()) + NEXT_SCHEDULE_DELTA_MS;
}

/** `<cronjob>-<scheduled time in minutes since the epoch>`: the name is the lock against creating a run twice. */
export function jobNameFor(cronJobName: string, scheduled: Date): string {
  return `${cronJobName}-${Math.floor(scheduled.getTime() / 60_000)}`;
}

/** RFC 3339 in the schedule's zone, as Kubernetes writes the scheduled-timestamp annotation. */
export function rfc3339InZone(time: Date, timeZone: string | undefined): string {
  if (!timeZone) return time.toISOString().replace(/\.\d+Z$/, 'Z');
  const parts: Record<string, string> = {};
  const f = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
  for (const p of f.formatToParts(time)) parts[p.type] = p.value;
  const wall = Date.UTC(+parts.year, +parts.month - 1, +parts.day, +parts.hour, +parts.minute, +parts.second);
  const offsetMin = Math.round((wall - (time.getTime() - (time.getTime() % 1000))) / 60_000);
  const local = `${parts.year}-${parts.month}-${parts.day}T${parts.hour}:${parts.minute}:${parts.second}`;
  if (offsetMin === 0) return `${local}Z`;
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

export function controllerRefTo(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion ?? '',
    kind: owner.kind ?? '',
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** The Job a CronJob creates for one scheduled time (Kubernetes' getJobFromTemplate2). */
export function jobFor(cronJob: KubeObject, scheduled: Date): KubeObject {
  const template: Json = cronJob.spec?.jobTemplate ?? {};
  const annotations: Record<string, string> = { ...(template.metadata?.annotations ?? {}) };
  annotations[SCHEDULED_TIMESTAMP_ANNOTATION] = rfc3339InZone(scheduled, cronJob.spec?.timeZone ?? undefined);
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobNameFor(cronJob.metadata.name ?? '', scheduled),
      namespace: cronJob.metadata.namespace,
      labels: { ...(template.metadata?.labels ?? {}) },
      annotations,
      ownerReferences: [controllerRefTo(cronJob)],
    },
    spec: structuredClone(template.spec ?? {}),
  };
}

export type JobState = 'Complete' | 'Failed' | undefined;

/** Finished is a Complete or Failed condition with status True (Kubernetes' IsJobFinished). */
export function jobFinished(job: KubeObject): JobState {
  for (const c of job.status?.conditions ?? []) {
    if ((c.type === 'Complete' || c.type === 'Failed') && c.status === 'True') return c.type;
  }
  return undefined;
}

export type ObjectRef = { apiVersion?: string; kind?: string; name?: string; namespace?: string; uid?: string; resourceVersion?: string };

export function objectRef(job: KubeObject): ObjectRef {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    name: job.metadata.name,
    namespace: job.metadata.namespace,
    uid: job.metadata.uid,
    resourceVersion: job.metadata.resourceVersion,
  };
}

export type Notice = { type: 'Normal' | 'Warning'; reason: string; message: string };

/**
 * Status.active and lastSuccessfulTime brought in line with the Jobs the CronJob
 * owns. Active entries whose Job is not in `jobs` are returned as `missing`:
 * the caller confirms with the API before dropping them (the cache may lag).
 */
export function reconcileActive(
  cronJob: KubeObject,
  jobs: KubeObject[],
): { active: ObjectRef[]; lastSuccessfulTime?: string; notices: Notice[]; missing: ObjectRef[] } {
  const active: ObjectRef[] = [...(cronJob.status?.active ?? [])];
  let lastSuccessfulTime: string | undefined = cronJob.status?.lastSuccessfulTime;
  const notices: Notice[] = [];
  const owned = new Set<string>();
  for (const job of jobs) {
    const uid = job.metadata.uid ?? '';
    owned.add(uid);
    const i = active.findIndex((a) => a.uid === uid);
    const state = jobFinished(job);
    if (i < 0 && !state) {
      notices.push({ type: 'Warning', reason: 'UnexpectedJob', message: `Saw a job that the controller did not create or forgot: ${job.metadata.name}` });
    } else if (i >= 0 && state) {
      active.splice(i, 1);
      notices.push({ type: 'Normal', reason: 'SawCompletedJob', message: `Saw completed job: ${job.metadata.name}, condition: ${state}` });
    }
    const completed = job.status?.completionTime;
    if (state === 'Complete' && completed && (!lastSuccessfulTime || Date.parse(completed) > Date.parse(lastSuccessfulTime))) {
      lastSuccessfulTime = completed;
    }
  }
  const missing = active.filter((a) => !owned.has(a.uid ?? ''));
  return { active, lastSuccessfulTime, notices, missing };
}

/** Finished Jobs beyond the history limits, oldest first (by start time, as Kubernetes sorts them). */
export function jobsOverHistoryLimits(cronJob: KubeObject, jobs: KubeObject[]): KubeObject[] {
  const spec = cronJob.spec ?? {};
  const byStart = (a: KubeObject, b: KubeObject) => startOf(a) - startOf(b) || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
  const over = (state: JobState, limit: unknown) => {
    if (typeof limit !== 'number') return [];
    const finished = jobs.filter((j) => jobFinished(j) === state && !j.metadata.deletionTimestamp).sort(byStart);
    return finished.slice(0, Math.max(0, finished.length - limit));
  };
  return [...over('Complete', spec.successfulJobsHistoryLimit), ...over('Failed', spec.failedJobsHistoryLimit)];
}

function startOf(job: KubeObject): number {
  const s = job.status?.startTime ?? job.metadata.creationTimestamp;
  return s ? Date.parse(s) : 0;
}

/** Go's RFC1123Z, as the MissSchedule event prints the missed time. */
export function rfc1123z(time: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return `${days[time.getUTCDay()]}, ${p(time.getUTCDate())} ${months[time.getUTCMonth()]} ${time.getUTCFullYear()} ${p(time.getUTCHours())}:${p(time.getUTCMinutes())}:${p(time.getUTCSeconds())} +0000`;
}
