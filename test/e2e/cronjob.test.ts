// The CronJob controller, driven by real kubectl, without waiting for the
// clock: the CronJob runs once an hour at a minute that passed two minutes
// ago, and the test makes that run due again by moving status.lastScheduleTime
// back (as if the controller had been down). Simulated pods never finish, so
// the test plays the kubelet for the Jobs' pods.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually, startServer, type TestServer } from './harness.ts';

type Job = { metadata: { name: string; uid: string; ownerReferences?: { kind: string; name: string }[]; annotations?: Record<string, string> }; status?: { conditions?: { type: string; status: string }[] } };

describe('CronJob controller', () => {
  let s: TestServer;
  /** The scheduled run: two minutes ago, whole minute; the next one is ~58 minutes away. */
  const due = new Date(Math.floor((Date.now() - 120_000) / 60_000) * 60_000);
  const schedule = `${due.getUTCMinutes()} * * * *`;
  const runName = (cj: string) => `${cj}-${due.getTime() / 60_000}`;
  const hourBefore = new Date(due.getTime() - 3600_000).toISOString().replace('.000Z', 'Z');

  const cronJob = (name: string, spec: Record<string, unknown> = {}) =>
    JSON.stringify({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name, namespace: 'default' },
      spec: {
        schedule,
        timeZone: 'Etc/UTC',
        jobTemplate: { metadata: { labels: { cron: name } }, spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } } },
        ...spec,
      },
    });
  const jobsOf = async (cj: string): Promise<Job[]> => JSON.parse(await s.k(['get', 'jobs', '-l', `cron=${cj}`, '-o', 'json'])).items;
  const cjStatus = async (name: string) => JSON.parse(await s.k(['get', 'cronjob', name, '-o', 'json'])).status;
  /** Makes the scheduled run due again, as after controller downtime. */
  const makeDue = (name: string) =>
    s.k(['patch', 'cronjob', name, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { lastScheduleTime: hourBefore } })]);
  const finishJob = async (job: string, phase: 'Succeeded' | 'Failed') => {
    const pod = await eventually(
      async () => (await s.k(['get', 'pods', '-l', `batch.kubernetes.io/job-name=${job}`, '-o', 'jsonpath={.items[0].metadata.name}'])).trim() || undefined,
      10_000,
      `a pod of ${job}`,
    );
    await s.k(['patch', 'pod', pod, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { phase } })]);
    const condition = phase === 'Succeeded' ? 'complete' : 'failed';
    await s.k(['wait', `--for=condition=${condition}`, `job/${job}`, '--timeout=15s']);
  };
  const events = async (name: string) =>
    s.k(['get', 'events', '--field-selector', `involvedObject.name=${name},involvedObject.kind=CronJob`, '-o', 'jsonpath={range .items[*]}{.reason}:{.message}{"\\n"}{end}']);

  before(async () => {
    s = await startServer(['--simulated-nodes', '1']);
  });
  after(async () => {
    await s?.stop();
  });

  test('a due run creates <cronjob>-<minutes since epoch>, tracked in status until it completes', async () => {
    await s.k(['create', '-f', '-'], cronJob('tick'));
    const row = (await s.k(['get', 'cronjob', 'tick', '--no-headers'])).trim().split(/\s+/);
    assert.deepEqual(row.slice(0, 3), ['tick', due.getUTCMinutes().toString(), '*']);
    assert.equal(row[6], 'Etc/UTC');
    assert.equal((await jobsOf('tick')).length, 0, 'created after the run time: nothing due yet');

    await makeDue('tick');
    const [job] = await eventually(async () => {
      const jobs = await jobsOf('tick');
      return jobs.length === 1 ? jobs : undefined;
    }, 10_000, 'the scheduled job');
    assert.equal(job.metadata.name, runName('tick'));
    assert.equal(job.metadata.ownerReferences?.[0].kind, 'CronJob');
    assert.equal(job.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'], due.toISOString().replace('.000Z', 'Z'));
    const st = await eventually(async () => {
      const st = await cjStatus('tick');
      return st.active?.length === 1 ? st : undefined;
    }, 10_000, 'status.active');
    assert.equal(st.active[0].name, job.metadata.name);
    assert.equal(st.lastScheduleTime, due.toISOString().replace('.000Z', 'Z'));
    assert.match(await events('tick'), new RegExp(`SuccessfulCreate:Created job ${runName('tick')}`));

    await finishJob(job.metadata.name, 'Succeeded');
    const done = await eventually(async () => {
      const st = await cjStatus('tick');
      return !st.active && st.lastSuccessfulTime ? st : undefined;
    }, 10_000, 'lastSuccessfulTime');
    assert.ok(done.lastSuccessfulTime);
    assert.match(await events('tick'), new RegExp(`SawCompletedJob:Saw completed job: ${runName('tick')}, condition: Complete`));
  });

  test('concurrencyPolicy Forbid skips a run while one is active; Replace deletes it and starts anew', async () => {
    await s.k(['create', '-f', '-'], cronJob('lock', { concurrencyPolicy: 'Forbid' }));
    await makeDue('lock');
    await eventually(async () => (await cjStatus('lock')).active?.length === 1, 10_000, 'first run active');
    // The run is still going when it is due again.
    await s.k(['delete', 'job', runName('lock'), '--cascade=orphan']);
    await s.k(['create', 'job', '--from=cronjob/lock', 'manual']);
    const manual = JSON.parse(await s.k(['get', 'job', 'manual', '-o', 'json']));
    await s.k(['patch', 'cronjob', 'lock', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { active: [{ apiVersion: 'batch/v1', kind: 'Job', namespace: 'default', name: 'manual', uid: manual.metadata.uid }], lastScheduleTime: hourBefore } })]);
    await eventually(async () => /JobAlreadyActive:Not starting job because prior execution is running and concurrency policy is Forbid/.test(await events('lock')), 10_000, 'JobAlreadyActive');
    assert.deepEqual((await jobsOf('lock')).map((j) => j.metadata.name), ['manual']);

    await s.k(['patch', 'cronjob', 'lock', '--type=merge', '-p', '{"spec":{"concurrencyPolicy":"Replace"}}']);
    await makeDue('lock');
    await eventually(async () => {
      const names = (await jobsOf('lock')).map((j) => j.metadata.name);
      return names.length === 1 && names[0] === runName('lock');
    }, 10_000, 'manual replaced by the scheduled run');
    assert.match(await events('lock'), /SuccessfulDelete:Deleted job manual/);
    const st = await cjStatus('lock');
    assert.deepEqual(st.active.map((a: { name: string }) => a.name), [runName('lock')]);
  });

  test('history limits keep the newest successful and failed Jobs', async () => {
    await s.k(['create', '-f', '-'], cronJob('hist', { successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1, suspend: true }));
    for (const [name, phase] of [['ok-1', 'Succeeded'], ['ok-2', 'Succeeded'], ['bad-1', 'Failed'], ['bad-2', 'Failed']] as const) {
      await s.k(['create', 'job', '--from=cronjob/hist', name]);
      await finishJob(name, phase);
    }
    await eventually(async () => {
      const names = (await jobsOf('hist')).map((j) => j.metadata.name).sort();
      return names.join() === 'bad-2,ok-2';
    }, 10_000, 'only ok-2 and bad-2 left');
    const ev = await events('hist');
    assert.match(ev, /SuccessfulDelete:Deleted job ok-1/);
    assert.match(ev, /SuccessfulDelete:Deleted job bad-1/);
    // Suspended: a due run is not started.
    await makeDue('hist');
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok(!(await jobsOf('hist')).some((j) => j.metadata.name === runName('hist')));
  });
});
