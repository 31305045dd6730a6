// The Job controller on simulated nodes, driven by real kubectl. Simulated
// pods run for ever, so the test plays the kubelet: it sets a pod's phase to
// Succeeded or Failed through the status subresource.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually, startServer, type TestServer } from './harness.ts';

const FINALIZER = 'batch.kubernetes.io/job-tracking';

function job(name: string, spec: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: 'default' },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } }, ...spec },
  });
}

type Pod = { metadata: { name: string; finalizers?: string[]; labels?: Record<string, string>; annotations?: Record<string, string>; deletionTimestamp?: string }; status?: { phase?: string }; spec: { hostname?: string; containers: { env?: { name: string }[] }[] } };

describe('Job controller', () => {
  let s: TestServer;
  const podsOf = async (name: string): Promise<Pod[]> =>
    JSON.parse(await s.k(['get', 'pods', '-l', `batch.kubernetes.io/job-name=${name}`, '-o', 'json'])).items;
  const activePods = async (name: string) => (await podsOf(name)).filter((p) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp);
  const finish = (pod: string, phase: 'Succeeded' | 'Failed') =>
    s.k(['patch', 'pod', pod, '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { phase } })]);
  const status = async (name: string) => JSON.parse(await s.k(['get', 'job', name, '-o', 'json'])).status;
  const row = async (name: string) => (await s.k(['get', 'job', name, '--no-headers'])).trim().split(/\s+/);
  const waitActive = (name: string, n: number) =>
    eventually(async () => {
      const pods = await activePods(name);
      return pods.length === n ? pods : undefined;
    }, 10_000, `${n} running pods of ${name}`);

  before(async () => {
    s = await startServer(['--simulated-nodes', '2']);
  });
  after(async () => {
    await s?.stop();
  });

  test('completions 3, parallelism 2: pods run two at a time until three succeed; kubectl wait sees Complete', async () => {
    await s.k(['create', '-f', '-'], job('work', { completions: 3, parallelism: 2 }));
    const first = await waitActive('work', 2);
    for (const p of first) {
      assert.match(p.metadata.name, /^work-[a-z0-9]{5}$/);
      assert.ok(p.metadata.finalizers?.includes(FINALIZER));
      assert.ok(p.metadata.labels?.['controller-uid']);
    }
    assert.deepEqual((await row('work')).slice(0, 2), ['work', 'Running']);
    await finish(first[0].metadata.name, 'Succeeded');
    const second = await eventually(async () => {
      const pods = await activePods('work');
      return pods.length === 2 && !pods.some((p) => p.metadata.name === first[0].metadata.name) ? pods : undefined;
    }, 10_000, 'a replacement pod');
    await Promise.all(second.map((p) => finish(p.metadata.name, 'Succeeded')));
    const waited = await s.k(['wait', '--for=condition=complete', 'job/work', '--timeout=15s']);
    assert.match(waited, /job.batch\/work condition met/);
    const st = await status('work');
    assert.equal(st.succeeded, 3);
    assert.equal(st.active ?? 0, 0);
    assert.ok(st.completionTime);
    assert.deepEqual(st.conditions.map((c: { type: string }) => c.type), ['SuccessCriteriaMet', 'Complete']);
    assert.deepEqual((await row('work')).slice(1, 3), ['Complete', '3/3']);
    assert.equal((await podsOf('work')).length, 3);
    for (const p of await podsOf('work')) assert.ok(!p.metadata.finalizers?.includes(FINALIZER), `${p.metadata.name} keeps the finalizer`);
    const events = await s.k(['get', 'events', '--field-selector', 'involvedObject.name=work', '-o', 'jsonpath={range .items[*]}{.reason}:{.message}{"\\n"}{end}']);
    assert.match(events, /SuccessfulCreate:Created pod: work-/);
    assert.match(events, /Completed:Job completed/);
  });

  test('backoffLimit 0: the first failed pod fails the Job (BackoffLimitExceeded)', async () => {
    await s.k(['create', '-f', '-'], job('doomed', { backoffLimit: 0 }));
    const [p] = await waitActive('doomed', 1);
    await finish(p.metadata.name, 'Failed');
    await s.k(['wait', '--for=condition=failed', 'job/doomed', '--timeout=15s']);
    const st = await status('doomed');
    const failed = st.conditions.find((c: { type: string }) => c.type === 'Failed');
    assert.equal(failed.reason, 'BackoffLimitExceeded');
    assert.equal(failed.message, 'Job has reached the specified backoff limit');
    assert.equal(st.failed, 1);
    assert.deepEqual((await row('doomed')).slice(1, 3), ['Failed', '0/1']);
    assert.match(await s.k(['describe', 'job', 'doomed']), /BackoffLimitExceeded\s+\S+\s+job-controller\s+Job has reached the specified backoff limit/);
  });

  test('activeDeadlineSeconds: running pods are terminated and the Job fails with DeadlineExceeded', async () => {
    await s.k(['create', '-f', '-'], job('slow', { activeDeadlineSeconds: 2, parallelism: 2, completions: 4 }));
    await waitActive('slow', 2);
    await s.k(['wait', '--for=condition=failed', 'job/slow', '--timeout=15s']);
    const st = await status('slow');
    assert.equal(st.conditions.find((c: { type: string }) => c.type === 'Failed').reason, 'DeadlineExceeded');
    assert.equal(st.active ?? 0, 0);
    await eventually(async () => (await podsOf('slow')).length === 0, 10_000, 'pods of slow gone');
  });

  test('Indexed: one pod per index with its index label, hostname and env; completedIndexes', async () => {
    await s.k(['create', '-f', '-'], job('idx', { completionMode: 'Indexed', completions: 3, parallelism: 3 }));
    const pods = await waitActive('idx', 3);
    const byIndex = new Map(pods.map((p) => [p.metadata.labels?.['batch.kubernetes.io/job-completion-index'], p]));
    assert.deepEqual([...byIndex.keys()].sort(), ['0', '1', '2']);
    const p1 = byIndex.get('1') as Pod;
    assert.match(p1.metadata.name, /^idx-1-[a-z0-9]{5}$/);
    assert.equal(p1.metadata.annotations?.['batch.kubernetes.io/job-completion-index'], '1');
    assert.equal(p1.spec.hostname, 'idx-1');
    assert.ok(p1.spec.containers[0].env?.some((e) => e.name === 'JOB_COMPLETION_INDEX'));
    await finish(p1.metadata.name, 'Succeeded');
    await finish((byIndex.get('2') as Pod).metadata.name, 'Succeeded');
    await eventually(async () => (await status('idx')).completedIndexes === '1-2', 10_000, 'completedIndexes 1-2');
    await finish((byIndex.get('0') as Pod).metadata.name, 'Succeeded');
    await s.k(['wait', '--for=condition=complete', 'job/idx', '--timeout=15s']);
    assert.equal((await status('idx')).completedIndexes, '0-2');
  });

  test('suspend: no pods while suspended (STATUS Suspended); resuming starts them', async () => {
    await s.k(['create', '-f', '-'], job('later', { suspend: true, parallelism: 2, completions: 2 }));
    await eventually(async () => (await row('later'))[1] === 'Suspended', 10_000, 'Suspended');
    assert.equal((await podsOf('later')).length, 0);
    await s.k(['patch', 'job', 'later', '--type=merge', '-p', '{"spec":{"suspend":false}}']);
    await waitActive('later', 2);
    assert.equal((await row('later'))[1], 'Running');
    await s.k(['patch', 'job', 'later', '--type=merge', '-p', '{"spec":{"suspend":true}}']);
    await eventually(async () => (await podsOf('later')).length === 0, 10_000, 'pods of a suspended job gone');
    assert.equal((await status('later')).failed ?? 0, 0, 'suspension is not failure');
  });

  test('ttlSecondsAfterFinished deletes a finished Job and its pods; deleting a Job frees its pods', async () => {
    await s.k(['create', '-f', '-'], job('brief', { ttlSecondsAfterFinished: 1 }));
    const [p] = await waitActive('brief', 1);
    await finish(p.metadata.name, 'Succeeded');
    await eventually(async () => (await s.kubectl(['get', 'job', 'brief'])).code !== 0, 10_000, 'job deleted after its TTL');
    await eventually(async () => (await podsOf('brief')).length === 0, 10_000, 'pods of brief gone');

    await s.k(['create', '-f', '-'], job('dropped'));
    await waitActive('dropped', 1);
    await s.k(['delete', 'job', 'dropped', '--timeout=15s']);
    await eventually(async () => (await podsOf('dropped')).length === 0, 10_000, 'pods of a deleted job gone');
  });
});
