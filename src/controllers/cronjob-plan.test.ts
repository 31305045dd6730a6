import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../api/types.ts';
import { parseSchedule } from './cron-schedule.ts';
import {
  jobFor,
  jobNameFor,
  jobsOverHistoryLimits,
  mostRecentScheduleTime,
  reconcileActive,
  requeueAfterMs,
  rfc1123z,
  rfc3339InZone,
  SCHEDULED_TIMESTAMP_ANNOTATION,
} from './cronjob-plan.ts';

const everyMinute = parseSchedule('* * * * *', { timeZone: 'UTC' });
const hourly = parseSchedule('0 * * * *', { timeZone: 'UTC' });

function cronJob(spec: Record<string, unknown> = {}, status: Record<string, unknown> = {}, created = '2024-05-01T10:00:30Z'): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'cj', namespace: 'default', uid: 'cj-uid', creationTimestamp: created },
    spec: { schedule: '* * * * *', concurrencyPolicy: 'Allow', successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1, jobTemplate: { metadata: { labels: { a: 'b' } }, spec: { template: { spec: {} } } }, ...spec },
    status,
  };
}

function job(name: string, state?: 'Complete' | 'Failed', start = '2024-05-01T10:00:00Z', completion?: string): KubeObject {
  return {
    metadata: { name, namespace: 'default', uid: `${name}-uid`, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'cj', uid: 'cj-uid', controller: true }] },
    status: { startTime: start, ...(completion ? { completionTime: completion } : {}), conditions: state ? [{ type: state, status: 'True' }] : [] },
  };
}

describe('mostRecentScheduleTime', () => {
  test('nothing due before the first schedule time after creation', () => {
    assert.deepEqual(mostRecentScheduleTime(cronJob(), everyMinute, new Date('2024-05-01T10:00:59Z'), { useStartingDeadline: true }), { missed: 0 });
  });

  test('the due time once it passes, then nothing until the next one', () => {
    const due = mostRecentScheduleTime(cronJob(), everyMinute, new Date('2024-05-01T10:01:05Z'), { useStartingDeadline: true });
    assert.equal(due.time?.toISOString(), '2024-05-01T10:01:00.000Z');
    const after = cronJob({}, { lastScheduleTime: '2024-05-01T10:01:00Z' });
    assert.equal(mostRecentScheduleTime(after, everyMinute, new Date('2024-05-01T10:01:30Z'), { useStartingDeadline: true }).time, undefined);
  });

  test('after missed runs only the latest is started, and missed runs are counted', () => {
    const cj = cronJob({}, { lastScheduleTime: '2024-05-01T10:00:00Z' });
    const due = mostRecentScheduleTime(cj, everyMinute, new Date('2024-05-01T12:30:10Z'), { useStartingDeadline: true });
    assert.equal(due.time?.toISOString(), '2024-05-01T12:30:00.000Z');
    assert.equal(due.missed, 150);
    const irregular = parseSchedule('30 6-16/4 * * 1-5', { timeZone: 'UTC' });
    const weekly = mostRecentScheduleTime(cronJob({}, {}, '2024-04-01T00:00:00Z'), irregular, new Date('2024-05-04T12:00:00Z'), { useStartingDeadline: false });
    assert.equal(weekly.time?.toISOString(), '2024-05-03T14:30:00.000Z'); // Friday's last run
  });

  test('startingDeadlineSeconds: runs older than the deadline are not started', () => {
    const cj = cronJob({ startingDeadlineSeconds: 30 }, { lastScheduleTime: '2024-05-01T09:00:00Z' });
    assert.equal(mostRecentScheduleTime(cj, hourly, new Date('2024-05-01T10:00:20Z'), { useStartingDeadline: true }).time?.toISOString(), '2024-05-01T10:00:00.000Z');
    assert.equal(mostRecentScheduleTime(cj, hourly, new Date('2024-05-01T10:00:40Z'), { useStartingDeadline: true }).time, undefined);
  });

  test('requeue lands just after the next schedule time', () => {
    assert.equal(requeueAfterMs(cronJob(), everyMinute, new Date('2024-05-01T10:00:45Z')), 15_000 + 100);
    const cj = cronJob({}, { lastScheduleTime: '2024-05-01T10:00:00Z' }, '2024-05-01T09:00:00Z');
    assert.equal(requeueAfterMs(cj, hourly, new Date('2024-05-01T10:59:59.500Z')), 600);
  });
});

describe('jobs of a CronJob', () => {
  test('named by scheduled minutes since the epoch, with template, owner and scheduled-timestamp annotation', () => {
    const t = new Date('2024-05-01T10:01:00Z');
    assert.equal(jobNameFor('cj', t), `cj-${t.getTime() / 60_000}`);
    const j = jobFor(cronJob({ timeZone: 'Europe/Berlin' }), t);
    assert.equal(j.metadata.name, 'cj-28575961');
    assert.deepEqual(j.metadata.labels, { a: 'b' });
    assert.equal(j.metadata.annotations?.[SCHEDULED_TIMESTAMP_ANNOTATION], '2024-05-01T12:01:00+02:00');
    assert.equal(j.metadata.ownerReferences?.[0].uid, 'cj-uid');
    assert.equal(j.metadata.ownerReferences?.[0].controller, true);
    assert.equal(rfc3339InZone(t, undefined), '2024-05-01T10:01:00Z');
    assert.equal(rfc1123z(t), 'Wed, 01 May 2024 10:01:00 +0000');
  });

  test('active list follows the Jobs: finished ones leave with SawCompletedJob, lastSuccessfulTime advances', () => {
    const running = job('r');
    const done = job('d', 'Complete', '2024-05-01T10:00:00Z', '2024-05-01T10:00:09Z');
    const cj = cronJob({}, { active: [{ name: 'r', uid: 'r-uid' }, { name: 'd', uid: 'd-uid' }, { name: 'x', uid: 'x-uid' }] });
    const out = reconcileActive(cj, [running, done]);
    assert.deepEqual(out.active.map((a) => a.name), ['r', 'x']);
    assert.deepEqual(out.missing.map((a) => a.name), ['x']);
    assert.equal(out.lastSuccessfulTime, '2024-05-01T10:00:09Z');
    assert.deepEqual(out.notices, [{ type: 'Normal', reason: 'SawCompletedJob', message: 'Saw completed job: d, condition: Complete' }]);
    const stray = reconcileActive(cronJob(), [job('manual')]);
    assert.equal(stray.notices[0].reason, 'UnexpectedJob');
  });

  test('history limits delete the oldest finished Jobs beyond each limit', () => {
    const jobs = [
      job('s1', 'Complete', '2024-05-01T10:01:00Z'),
      job('s2', 'Complete', '2024-05-01T10:02:00Z'),
      job('s3', 'Complete', '2024-05-01T10:03:00Z'),
      job('f1', 'Failed', '2024-05-01T10:01:30Z'),
      job('f2', 'Failed', '2024-05-01T10:02:30Z'),
      job('running'),
    ];
    const over = jobsOverHistoryLimits(cronJob({ successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1 }), jobs);
    assert.deepEqual(over.map((j) => j.metadata.name), ['s1', 's2', 'f1']);
    assert.deepEqual(jobsOverHistoryLimits(cronJob({ successfulJobsHistoryLimit: 0, failedJobsHistoryLimit: undefined }), jobs).map((j) => j.metadata.name), ['s1', 's2', 's3']);
  });
});
