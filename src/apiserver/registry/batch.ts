// batch/v1 Jobs and CronJobs.
import { randomUUID } from 'node:crypto';
import { deepEqual, fieldErrors, goLabelSelector, goQuote, validateNonnegative } from '../../api/field-errors.ts';
import { labelSelectorToRequirements, matchesSelector } from '../../api/labels.ts';
import { maxLenError } from '../../api/names.ts';
import { humanDuration, timeSince } from '../../api/time.ts';
import type { KubeObject, StatusCause } from '../../api/types.ts';
import { validateSelectorAndTemplate } from './apps-validation.ts';
import { MAX_INT32 } from './apps-versions.ts';
import {
  age,
  ageColumn,
  col,
  containerCells,
  containersColumn,
  copyJson,
  ensure,
  imagesColumn,
  int,
  type Json,
  keepStatus,
  selectorCell,
  selectorColumn,
  setDefault,
} from './helpers.ts';
import { defaultPodTemplate } from './pod-defaults.ts';
import { validatePodTemplate } from './pod-validation.ts';
import type { ResourceDef } from './types.ts';

/** Pods of a Job are retried this often before the Job fails (DefaultBackoffLimit). */
const DEFAULT_BACKOFF_LIMIT = 6;
const SUCCESSFUL_JOBS_HISTORY = 3;
const FAILED_JOBS_HISTORY = 1;
/** CronJob names leave room for the 11-character suffix of the Jobs they create. */
const CRONJOB_NAME_MAX = 52;

export const JOB_LABELS = {
  controllerUid: 'batch.kubernetes.io/controller-uid',
  jobName: 'batch.kubernetes.io/job-name',
  legacyControllerUid: 'controller-uid',
  legacyJobName: 'job-name',
};
const JOB_RESTART_POLICIES = ['OnFailure', 'Never'];
const COMPLETION_MODES = ['NonIndexed', 'Indexed'];
const CONCURRENCY_POLICIES = ['Allow', 'Forbid', 'Replace'];

function defaultJob(obj: KubeObject): void {
  const spec: Json = ensure(obj, 'spec');
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  setDefault(spec, 'parallelism', 1);
  setDefault(spec, 'backoffLimit', spec.backoffLimitPerIndex !== undefined ? MAX_INT32 : DEFAULT_BACKOFF_LIMIT);
  setDefault(spec, 'completionMode', 'NonIndexed');
  setDefault(spec, 'suspend', false);
  setDefault(spec, 'podReplacementPolicy', spec.podFailurePolicy ? 'Failed' : 'TerminatingOrFailed');
  const labels = spec.template?.metadata?.labels;
  if (labels && (!obj.metadata.labels || Object.keys(obj.metadata.labels).length === 0)) obj.metadata.labels = copyJson(labels);
  defaultPodTemplate(spec.template);
}

/**
 * Kubernetes' generateSelector: pods get job-name and controller-uid labels and the selector
 * picks the uid. Object labels copied from the template (an aliased map in Go) get them too.
 */
function generateSelector(obj: KubeObject): void {
  const spec: Json = ensure(obj, 'spec');
  const template: Json = ensure(spec, 'template');
  const meta: Json = ensure(template, 'metadata');
  const before = copyJson(meta.labels ?? {});
  meta.labels ??= {};
  const labels: Record<string, string> = meta.labels;
  obj.metadata.uid ??= randomUUID();
  const uid = obj.metadata.uid as string;
  for (const k of [JOB_LABELS.legacyJobName, JOB_LABELS.jobName]) labels[k] ??= obj.metadata.name ?? '';
  for (const k of [JOB_LABELS.legacyControllerUid, JOB_LABELS.controllerUid]) labels[k] ??= uid;
  spec.selector ??= {};
  spec.selector.matchLabels ??= {};
  spec.selector.matchLabels[JOB_LABELS.controllerUid] ??= uid;
  if (obj.metadata.labels && deepEqual(obj.metadata.labels, before)) obj.metadata.labels = copyJson(labels);
}

function validateJobSpec(spec: Json, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  for (const f of ['parallelism', 'completions', 'backoffLimit', 'activeDeadlineSeconds', 'ttlSecondsAfterFinished']) {
    causes.push(...validateNonnegative(spec?.[f], `${path}.${f}`));
  }
  if (spec?.completionMode && !COMPLETION_MODES.includes(spec.completionMode)) {
    causes.push(fieldErrors.notSupported(`${path}.completionMode`, spec.completionMode, COMPLETION_MODES));
  }
  return causes;
}

function validateJob(obj: KubeObject, old: KubeObject | undefined): StatusCause[] {
  const spec: Json = obj.spec ?? {};
  const causes = [...validateJobSpec(spec, 'spec'), ...validateSelectorAndTemplate(spec, 'job', { restartPolicies: JOB_RESTART_POLICIES })];
  if (spec.manualSelector !== true && obj.metadata.uid && spec.selector) {
    try {
      const reqs = labelSelectorToRequirements(spec.selector) ?? [];
      if (!matchesSelector(reqs, { [JOB_LABELS.controllerUid]: obj.metadata.uid })) {
        causes.push(fieldErrors.invalid('spec.selector', goLabelSelector(spec.selector), '`selector` not auto-generated'));
      }
    } catch {
      // reported by validateSelectorAndTemplate
    }
  }
  if (old) {
    if (!deepEqual(spec.selector, old.spec?.selector)) causes.push(fieldErrors.invalid('spec.selector', goLabelSelector(spec.selector), 'field is immutable'));
    if (!deepEqual(spec.completionMode, old.spec?.completionMode)) {
      causes.push(fieldErrors.invalid('spec.completionMode', spec.completionMode ?? '', 'field is immutable'));
    }
    if (spec.completionMode !== 'Indexed' && !deepEqual(spec.completions, old.spec?.completions)) {
      causes.push(fieldErrors.invalid('spec.completions', spec.completions ?? null, 'field is immutable'));
    }
    const suspended = old.spec?.suspend === true && !old.status?.startTime;
    if (!suspended && !deepEqual(spec.template, old.spec?.template)) {
      causes.push(fieldErrors.invalid('spec.template', { goLiteral: 'core.PodTemplateSpec{...}' }, 'field is immutable'));
    }
  }
  return causes;
}

const hasCondition = (obj: KubeObject, type: string) =>
  (obj.status?.conditions ?? []).some((c: Json) => c.type === type && c.status === 'True');

function jobCells(obj: KubeObject, now: Date): unknown[] {
  const spec: Json = obj.spec ?? {};
  const status: Json = obj.status ?? {};
  const succeeded = int(status.succeeded);
  let completions: string;
  if (spec.completions !== undefined && spec.completions !== null) completions = `${succeeded}/${spec.completions}`;
  else completions = int(spec.parallelism) > 1 ? `${succeeded}/1 of ${spec.parallelism}` : `${succeeded}/1`;
  let duration = '';
  if (status.startTime) {
    const start = Date.parse(status.startTime);
    duration = humanDuration((status.completionTime ? Date.parse(status.completionTime) : now.getTime()) - start);
  }
  let state = 'Running';
  if (hasCondition(obj, 'Complete')) state = 'Complete';
  else if (hasCondition(obj, 'Failed')) state = 'Failed';
  else if (obj.metadata.deletionTimestamp) state = 'Terminating';
  else if (hasCondition(obj, 'Suspended')) state = 'Suspended';
  else if (hasCondition(obj, 'FailureTarget')) state = 'FailureTarget';
  else if (hasCondition(obj, 'SuccessCriteriaMet')) state = 'SuccessCriteriaMet';
  const [names, images] = containerCells(spec.template?.spec?.containers);
  return [state, completions, duration, age(obj, now), names, images, selectorCell(spec.selector)];
}

export const jobs: ResourceDef = {
  group: 'batch',
  kind: 'Job',
  listKind: 'JobList',
  plural: 'jobs',
  singular: 'job',
  namespaced: true,
  categories: ['all'],
  versions: ['v1'],
  storageVersion: 'v1',
  subresources: { status: true },
  strategy: {
    defaults: defaultJob,
    validate: validateJob,
    prepareForCreate(obj) {
      obj.status = {};
      if (obj.spec?.manualSelector !== true) generateSelector(obj);
    },
    prepareForUpdate: keepStatus,
    columns: [
      col('Status', 'Status of the job.'),
      col('Completions', 'The number of pods which reached phase Succeeded.'),
      col('Duration', 'Time required to complete the job.'),
      ageColumn(),
      containersColumn(),
      imagesColumn(),
      selectorColumn('A label query over pods that should match the pod count.'),
    ],
    cells: jobCells,
    fields: (obj) => ({ 'status.successful': String(int(obj.status?.succeeded)) }),
  },
};

/** Cron descriptors robfig/cron accepts besides five fields. */
const CRON_DESCRIPTORS = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];
const CRON_FIELD_RE = /^[0-9A-Za-z*?/,-]+$/;

export function validateSchedule(schedule: string): string[] {
  const trimmed = schedule.trim();
  if (/(^|\s)(CRON_)?TZ=/.test(trimmed)) return ['cannot use TZ or CRON_TZ in schedule, use timeZone field instead'];
  if (trimmed.startsWith('@')) {
    if (CRON_DESCRIPTORS.includes(trimmed) || /^@every\s+\S+$/.test(trimmed)) return [];
    return [`unrecognized descriptor: ${trimmed}`];
  }
  const fields = trimmed.split(/\s+/).filter(Boolean);
  if (fields.length !== 5) return [`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`];
  const bad = fields.find((f) => !CRON_FIELD_RE.test(f));
  return bad ? [`failed to parse int from ${bad}: strconv.Atoi: parsing ${goQuote(bad)}: invalid syntax`] : [];
}

function validTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function validateCronJob(obj: KubeObject): StatusCause[] {
  const spec: Json = obj.spec ?? {};
  const causes: StatusCause[] = [];
  const name = obj.metadata.name ?? '';
  if (name.length > CRONJOB_NAME_MAX) causes.push(fieldErrors.invalid('metadata.name', name, maxLenError(CRONJOB_NAME_MAX)));
  if (!spec.schedule) causes.push(fieldErrors.required('spec.schedule'));
  else for (const msg of validateSchedule(spec.schedule)) causes.push(fieldErrors.invalid('spec.schedule', spec.schedule, msg));
  if (spec.timeZone !== undefined && spec.timeZone !== null && !validTimeZone(spec.timeZone)) {
    causes.push(fieldErrors.invalid('spec.timeZone', spec.timeZone, `unknown time zone ${spec.timeZone}`));
  }
  if (!spec.concurrencyPolicy) causes.push(fieldErrors.required('spec.concurrencyPolicy'));
  else if (!CONCURRENCY_POLICIES.includes(spec.concurrencyPolicy)) {
    causes.push(fieldErrors.notSupported('spec.concurrencyPolicy', spec.concurrencyPolicy, CONCURRENCY_POLICIES));
  }
  for (const f of ['startingDeadlineSeconds', 'successfulJobsHistoryLimit', 'failedJobsHistoryLimit']) {
    causes.push(...validateNonnegative(spec[f], `spec.${f}`));
  }
  const jobSpec: Json = spec.jobTemplate?.spec ?? {};
  causes.push(...validateJobSpec(jobSpec, 'spec.jobTemplate.spec'));
  causes.push(
    ...validatePodTemplate(jobSpec.template, 'spec.jobTemplate.spec.template', { restartPolicies: JOB_RESTART_POLICIES }),
  );
  return causes;
}

export const cronJobs: ResourceDef = {
  group: 'batch',
  kind: 'CronJob',
  listKind: 'CronJobList',
  plural: 'cronjobs',
  singular: 'cronjob',
  namespaced: true,
  shortNames: ['cj'],
  categories: ['all'],
  versions: ['v1'],
  storageVersion: 'v1',
  subresources: { status: true },
  strategy: {
    defaults(obj) {
      const spec: Json = ensure(obj, 'spec');
      setDefault(spec, 'concurrencyPolicy', 'Allow');
      setDefault(spec, 'suspend', false);
      setDefault(spec, 'successfulJobsHistoryLimit', SUCCESSFUL_JOBS_HISTORY);
      setDefault(spec, 'failedJobsHistoryLimit', FAILED_JOBS_HISTORY);
      defaultPodTemplate(spec.jobTemplate?.spec?.template);
    },
    validate: validateCronJob,
    prepareForCreate(obj) {
      obj.status = {};
    },
    prepareForUpdate: keepStatus,
    columns: [
      col('Schedule', 'The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.'),
      col('Timezone', 'The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones.'),
      col('Suspend', 'This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.', { type: 'boolean' }),
      col('Active', 'A list of pointers to currently running jobs.', { type: 'integer' }),
      col('Last Schedule', 'Information when was the last time the job was successfully scheduled.'),
      ageColumn(),
      containersColumn(),
      imagesColumn(),
      selectorColumn('A label query over pods that should match the pod count.'),
    ],
    cells(obj, now) {
      const spec: Json = obj.spec ?? {};
      const jobSpec: Json = spec.jobTemplate?.spec ?? {};
      const [names, images] = containerCells(jobSpec.template?.spec?.containers);
      const suspend = spec.suspend === undefined || spec.suspend === null ? '<unset>' : spec.suspend ? 'True' : 'False';
      return [
        spec.schedule ?? '',
        spec.timeZone ?? '<none>',
        suspend,
        (obj.status?.active ?? []).length,
        obj.status?.lastScheduleTime ? timeSince(obj.status.lastScheduleTime, now) : '<none>',
        age(obj, now),
        names,
        images,
        selectorCell(jobSpec.selector),
      ];
    },
  },
};
