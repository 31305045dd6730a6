import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createEventRecorder } from './events.ts';
import { fakeClient } from './fake-client.test-helpers.ts';
import { leaderIdentity, runLeaderElection } from './leader.ts';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));
const timing = { leaseDurationMs: 300, renewDeadlineMs: 200, retryPeriodMs: 40 };

describe('leader election', () => {
  test('one leader at a time; a shut-down leader releases the lease and another takes over at once', async () => {
    const client = fakeClient();
    const leading: string[] = [];
    const start = (id: string, signal: AbortSignal) =>
      runLeaderElection({ client, name: 'ctl', identity: id, signal, ...timing, onStartedLeading: () => void leading.push(id) });
    const a = new AbortController();
    const b = new AbortController();
    const runA = start('a', a.signal);
    await tick(20);
    const runB = start('b', b.signal);
    await tick(400); // longer than the lease: a keeps renewing, b never gets it
    assert.deepEqual(leading, ['a']);
    const lease = client.objects.get('leases/kube-system/ctl')!;
    assert.equal(lease.spec.holderIdentity, 'a');
    assert.equal(lease.spec.leaseDurationSeconds, 1);
    a.abort();
    await runA;
    assert.equal(client.objects.get('leases/kube-system/ctl')!.spec.holderIdentity, '');
    await tick(100);
    assert.deepEqual(leading, ['a', 'b']);
    assert.equal(client.objects.get('leases/kube-system/ctl')!.spec.leaseTransitions, 1);
    b.abort();
    await runB;
  });

  test('a leader that cannot renew steps down: its leading signal aborts', async () => {
    const client = fakeClient();
    const ac = new AbortController();
    let lost = false;
    let stopped = false;
    const run = runLeaderElection({
      client,
      name: 'ctl',
      identity: 'a',
      signal: ac.signal,
      ...timing,
      onStartedLeading: (leading) => leading.addEventListener('abort', () => (lost = true)),
      onStoppedLeading: () => (stopped = true),
    });
    await tick(60);
    client.failWrites = true;
    await tick(400);
    assert.equal(lost, true);
    assert.equal(stopped, true);
    ac.abort();
    await run;
  });

  test('identity is the node name with a random suffix', () => {
    const id = leaderIdentity('node-1');
    assert.match(id, /^node-1_[0-9a-f]{12}$/);
    assert.notEqual(id, leaderIdentity('node-1'));
  });
});

describe('event recorder', () => {
  test('repeats of one (object, reason, message) bump count on one Event', async () => {
    const client = fakeClient();
    const recorder = createEventRecorder({ client, component: 'test-controller', host: 'node-1' });
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x', uid: 'u1' } };
    await recorder.record(ns, 'Warning', 'Failed', 'boom');
    await recorder.record(ns, 'Warning', 'Failed', 'boom');
    await recorder.record(ns, 'Warning', 'Failed', 'other');
    const events = [...client.objects.values()];
    assert.equal(events.length, 2);
    const boom = events.find((e) => e.message === 'boom')!;
    assert.equal(boom.count, 2);
    assert.equal(boom.metadata.namespace, 'default', 'cluster-scoped objects get events in default');
    assert.deepEqual(boom.involvedObject, { apiVersion: 'v1', kind: 'Namespace', name: 'x', namespace: undefined, uid: 'u1', resourceVersion: undefined });
    assert.equal(boom.source.component, 'test-controller');
    assert.equal(boom.reportingComponent, 'test-controller');
    assert.ok(boom.firstTimestamp && boom.lastTimestamp);
  });
});
