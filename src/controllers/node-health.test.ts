import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../api/types.ts';
import {
  allNodesDown,
  msUntilSilent,
  observeNode,
  parseDuration,
  podNotReadyConditions,
  silentNodeConditions,
} from './node-health.ts';
import { TokenBucket } from './node-lifecycle.ts';
import { missingServiceAccounts } from './serviceaccount.ts';

const grace = { monitorGraceMs: 40_000, startupGraceMs: 60_000 };
const T0 = Date.parse('2025-01-01T00:00:00Z');

function node(ready?: { status: string; heartbeat: string }, extra: Record<string, unknown>[] = []): KubeObject {
  const conditions = [
    ...extra,
    ...(ready ? [{ type: 'Ready', status: ready.status, reason: 'KubeletReady', lastHeartbeatTime: ready.heartbeat, lastTransitionTime: ready.heartbeat }] : []),
  ];
  return { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', creationTimestamp: '2025-01-01T00:00:00Z' }, status: { conditions } };
}
const lease = (renewTime: string): KubeObject => ({ metadata: { name: 'n1', namespace: 'kube-node-lease' }, spec: { renewTime } });

describe('node health', () => {
  test('lease renewals and Ready heartbeats are signs of life, timed by our clock', () => {
    const n = node({ status: 'True', heartbeat: '2020-01-01T00:00:00Z' }); // the node's clock is far off: irrelevant
    let h = observeNode(undefined, n, lease('2025-01-01T00:00:00.000000Z'), T0);
    assert.equal(h.probeTimestamp, T0);
    h = observeNode(h, n, lease('2025-01-01T00:00:00.000000Z'), T0 + 30_000);
    assert.equal(h.probeTimestamp, T0, 'nothing new: the probe time stays');
    assert.equal(msUntilSilent(h, n, grace, T0 + 30_000), 10_000);
    h = observeNode(h, n, lease('2025-01-01T00:00:10.000000Z'), T0 + 35_000);
    assert.equal(h.probeTimestamp, T0 + 35_000, 'a renewed lease counts');
    const beat = node({ status: 'True', heartbeat: '2020-01-01T00:01:00Z' });
    h = observeNode(h, beat, lease('2025-01-01T00:00:10.000000Z'), T0 + 50_000);
    assert.equal(h.probeTimestamp, T0 + 50_000, 'a new lastHeartbeatTime counts');
    assert.ok(msUntilSilent(h, beat, grace, T0 + 90_001) < 0);
  });

  test('a node that never posted status gets the startup grace period from its creation', () => {
    const n = node();
    const h = observeNode(undefined, n, undefined, T0 + 5000);
    assert.equal(h.probeTimestamp, T0);
    assert.equal(msUntilSilent(h, n, grace, T0 + 5000), 55_000);
  });

  test('a silent node: Ready and pressure conditions Unknown, missing ones added as never updated', () => {
    const n = node({ status: 'True', heartbeat: '2025-01-01T00:00:00Z' }, [{ type: 'MemoryPressure', status: 'False' }]);
    const now = new Date(T0 + 60_000);
    const conditions = silentNodeConditions(n, now)!;
    const ready = conditions.find((c) => c.type === 'Ready')!;
    assert.deepEqual(
      { status: ready.status, reason: ready.reason, message: ready.message },
      { status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' },
    );
    assert.equal(ready.lastHeartbeatTime, '2025-01-01T00:00:00Z', 'the last heartbeat stays as the node posted it');
    assert.equal(ready.lastTransitionTime, '2025-01-01T00:01:00Z');
    assert.equal(conditions.find((c) => c.type === 'MemoryPressure')?.status, 'Unknown');
    assert.equal(conditions.find((c) => c.type === 'DiskPressure')?.reason, 'NodeStatusNeverUpdated');
    assert.deepEqual(conditions.map((c) => c.type).sort(), ['DiskPressure', 'MemoryPressure', 'PIDPressure', 'Ready']);
    assert.equal(silentNodeConditions({ ...n, status: { conditions } }, now), undefined, 'already Unknown: nothing to write');
  });

  test('every node down means evict nothing; excluded nodes do not count', () => {
    const up = node({ status: 'True', heartbeat: 'x' });
    const down = node({ status: 'Unknown', heartbeat: 'x' });
    assert.equal(allNodesDown([down, down]), true);
    assert.equal(allNodesDown([down, up]), false);
    assert.equal(allNodesDown([]), false);
    const excluded = { ...up, metadata: { ...up.metadata, labels: { 'node.kubernetes.io/exclude-disruption': '' } } };
    assert.equal(allNodesDown([down, excluded]), true);
  });

  test('pods on a node that is not ready turn Ready=False once', () => {
    const pod: KubeObject = {
      metadata: { name: 'p' },
      status: { conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'True' }] },
    };
    const conditions = podNotReadyConditions(pod, new Date(T0))!;
    assert.deepEqual(conditions[1], { type: 'Ready', status: 'False', lastTransitionTime: '2025-01-01T00:00:00Z' });
    assert.equal(conditions[0].status, 'True');
    assert.equal(podNotReadyConditions({ ...pod, status: { conditions } }, new Date(T0)), undefined);
  });

  test('durations as Kubernetes flags take them', () => {
    assert.equal(parseDuration('40s'), 40_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.throws(() => parseDuration('40'), /not a duration/);
    assert.throws(() => parseDuration('4x0s'), /not a duration/);
  });

  test('tainting is rate limited by a token bucket', () => {
    const bucket = new TokenBucket({ perSecond: 0.1, burst: 1, now: T0 });
    assert.equal(bucket.take(T0), true);
    assert.equal(bucket.take(T0 + 1000), false);
    assert.equal(bucket.msUntilToken(T0 + 1000), 9000);
    assert.equal(bucket.take(T0 + 10_000), true);
  });

  test('service accounts: default in every active namespace, none while it terminates', () => {
    const ns: KubeObject = { metadata: { name: 'x' }, status: { phase: 'Active' } };
    assert.deepEqual(missingServiceAccounts(ns, () => false), ['default']);
    assert.deepEqual(missingServiceAccounts(ns, (n) => n === 'default'), []);
    assert.deepEqual(missingServiceAccounts({ ...ns, status: { phase: 'Terminating' } }, () => false), []);
    assert.deepEqual(missingServiceAccounts(undefined, () => false), []);
  });
});

test('a Ready condition without lastHeartbeatTime is no heartbeat on every look', () => {
  const n: KubeObject = { metadata: { name: 'n1' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } };
  const h = observeNode(undefined, n, undefined, T0);
  assert.equal(observeNode(h, n, undefined, T0 + 50_000).probeTimestamp, T0);
});
