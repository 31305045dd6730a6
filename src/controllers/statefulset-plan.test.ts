import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../api/types.ts';
import {
  applyIdentity,
  computeStatus,
  identityMatches,
  parentAndOrdinal,
  type PlanInput,
  planStatefulSet,
  POD_INDEX_LABEL,
  POD_NAME_LABEL,
  revisionForNewPod,
  slotPods,
} from './statefulset-plan.ts';
import { REVISION_HASH_LABEL } from './workload-pods.ts';

const NOW = Date.parse('2026-01-01T00:10:00Z');
const set = (spec: Record<string, unknown> = {}, status: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name: 'web', namespace: 'ns', uid: 'set-uid', generation: 2 },
  spec: { replicas: 3, serviceName: 'web', podManagementPolicy: 'OrderedReady', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }, ...spec },
  status,
});

type PodState = 'ready' | 'pending' | 'terminating' | 'failed';
const pod = (ordinal: number, state: PodState = 'ready', revision = 'web-new'): KubeObject => {
  const p: KubeObject = {
    metadata: { name: `web-${ordinal}`, namespace: 'ns', uid: `uid-${ordinal}`, labels: { [REVISION_HASH_LABEL]: revision } },
    spec: {},
    status: { phase: state === 'ready' || state === 'terminating' ? 'Running' : state === 'failed' ? 'Failed' : 'Pending' },
  };
  applyIdentity(set(), p, ordinal);
  if (state === 'ready' || state === 'terminating') p.status.conditions = [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }];
  if (state === 'terminating') p.metadata.deletionTimestamp = '2026-01-01T00:09:00Z';
  return p;
};
const input = (s: KubeObject, pods: KubeObject[]): PlanInput => ({ set: s, pods, currentRevision: 'web-old', updateRevision: 'web-new', collisionCount: 0, now: NOW });
const summary = (s: KubeObject, pods: KubeObject[]) =>
  planStatefulSet(input(s, pods)).actions.map((a) => (a.type === 'create' ? `create ${a.ordinal}/${a.revision}` : `${a.type} ${a.pod.metadata.name}`));

describe('statefulset identity', () => {
  test('names parse into parent and ordinal; names without one are not members', () => {
    assert.deepEqual(parentAndOrdinal('web-12'), { parent: 'web', ordinal: 12 });
    assert.deepEqual(parentAndOrdinal('my-db-0'), { parent: 'my-db', ordinal: 0 });
    assert.equal(parentAndOrdinal('web').ordinal, -1);
    assert.equal(parentAndOrdinal('web-x').ordinal, -1);
  });

  test('a pod gets hostname, subdomain (serviceName) and the pod-name and pod-index labels', () => {
    const p = applyIdentity(set(), { metadata: { labels: { app: 'web' } }, spec: {} }, 4);
    assert.equal(p.metadata.name, 'web-4');
    assert.equal(p.spec.hostname, 'web-4');
    assert.equal(p.spec.subdomain, 'web');
    assert.deepEqual(p.metadata.labels, { app: 'web', [POD_NAME_LABEL]: 'web-4', [POD_INDEX_LABEL]: '4' });
    assert.equal(identityMatches(set(), p), true);
    p.metadata.labels = { app: 'web' };
    assert.equal(identityMatches(set(), p), false);
  });

  test('pods split into kept ordinals and condemned ones, highest first; ordinals.start shifts the range', () => {
    const { replicas, condemned } = slotPods(set(), [pod(4), pod(0), pod(3), pod(1)]);
    assert.deepEqual(replicas.map((p) => p?.metadata.name), ['web-0', 'web-1', undefined]);
    assert.deepEqual(condemned.map((p) => p.metadata.name), ['web-4', 'web-3']);
    const shifted = slotPods(set({ ordinals: { start: 1 } }), [pod(0), pod(1), pod(3)]);
    assert.deepEqual(shifted.replicas.map((p) => p?.metadata.name), ['web-1', undefined, 'web-3']);
    assert.deepEqual(shifted.condemned.map((p) => p.metadata.name), ['web-0']);
  });
});

describe('OrderedReady', () => {
  test('creates ordinal 0 first, then waits for it to be Running and Ready before 1', () => {
    assert.deepEqual(summary(set(), []), ['create 0/update']);
    assert.deepEqual(summary(set(), [pod(0, 'pending')]), []);
    assert.deepEqual(summary(set(), [pod(0)]), ['create 1/update']);
    assert.deepEqual(summary(set(), [pod(0), pod(1)]), ['create 2/update']);
  });

  test('a lower ordinal that goes missing is recreated before anything else', () => {
    assert.deepEqual(summary(set(), [pod(1), pod(2)]), ['create 0/update']);
  });

  test('minReadySeconds: waits until the pod has been ready long enough, and says when to look again', () => {
    const s = set({ minReadySeconds: 3600 });
    const plan = planStatefulSet(input(s, [pod(0)]));
    assert.deepEqual(plan.actions, []);
    assert.ok(plan.requeueAfterMs && plan.requeueAfterMs > 0 && plan.requeueAfterMs <= 3_000_001);
  });

  test('scales down from the highest ordinal, one at a time, waiting for termination', () => {
    const s = set({ replicas: 1 });
    assert.deepEqual(summary(s, [pod(0), pod(1), pod(2)]), ['delete web-2']);
    assert.deepEqual(summary(s, [pod(0), pod(1), pod(2, 'terminating')]), []);
    assert.deepEqual(summary(s, [pod(0), pod(1)]), ['delete web-1']);
  });

  test('scale down waits while a kept pod is unhealthy, but an unhealthy condemned pod is the first to go', () => {
    const s = set({ replicas: 1 });
    assert.deepEqual(summary(s, [pod(0, 'pending'), pod(1)]), []);
    assert.deepEqual(summary(s, [pod(0), pod(1), pod(2, 'pending')]), ['delete web-2']);
  });

  test('a failed pod is deleted so it can be recreated', () => {
    assert.deepEqual(summary(set(), [pod(0), pod(1, 'failed'), pod(2)]), ['delete web-1']);
  });
});

describe('Parallel', () => {
  test('creates every missing pod and deletes every condemned one at once', () => {
    const s = set({ podManagementPolicy: 'Parallel', replicas: 3 });
    assert.deepEqual(summary(s, [pod(1, 'pending')]), ['create 0/update', 'create 2/update']);
    assert.deepEqual(summary(set({ podManagementPolicy: 'Parallel', replicas: 1 }), [pod(0), pod(1, 'pending'), pod(2)]), ['delete web-2', 'delete web-1']);
  });
});

describe('updates', () => {
  const old = (i: number, state: PodState = 'ready') => pod(i, state, 'web-old');

  test('RollingUpdate replaces the highest ordinal first, one at a time, waiting for each to be healthy', () => {
    assert.deepEqual(summary(set(), [old(0), old(1), old(2)]), ['delete web-2']);
    assert.deepEqual(summary(set(), [old(0), old(1), old(2, 'terminating')]), []);
    assert.deepEqual(summary(set(), [old(0), old(1), pod(2, 'pending')]), []);
    assert.deepEqual(summary(set(), [old(0), old(1), pod(2)]), ['delete web-1']);
  });

  test('partition: ordinals below it keep the old revision, also when recreated', () => {
    const s = set({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 2 } } });
    assert.deepEqual(summary(s, [old(0), old(1), pod(2)]), []);
    assert.equal(revisionForNewPod(s, 1), 'current');
    assert.equal(revisionForNewPod(s, 2), 'update');
    assert.deepEqual(summary(s, [old(0), old(2)]), ['create 1/current']);
  });

  test('maxUnavailable lets several pods be replaced at once, counting pods already down', () => {
    const s = set({ replicas: 4, updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0, maxUnavailable: 2 } } });
    assert.deepEqual(summary(s, [old(0), old(1), old(2), old(3)]), ['delete web-3', 'delete web-2']);
    assert.deepEqual(summary({ ...s, spec: { ...s.spec, podManagementPolicy: 'Parallel' } }, [old(0), old(1), old(2), pod(3, 'pending')]), ['delete web-2']);
  });

  test('OnDelete never deletes pods for an update; a deleted pod comes back at the update revision', () => {
    const s = set({ updateStrategy: { type: 'OnDelete' } });
    assert.deepEqual(summary(s, [old(0), old(1), old(2)]), []);
    assert.deepEqual(summary(s, [old(0), old(2)]), ['create 1/update']);
  });
});

describe('status', () => {
  test('counts replicas, ready, current and updated pods, and the generation seen', () => {
    const s = set({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1 } } });
    const status = computeStatus(input(s, []), [pod(0, 'ready', 'web-old'), pod(1, 'pending'), pod(2)]);
    assert.deepEqual(status, {
      observedGeneration: 2,
      replicas: 3,
      readyReplicas: 2,
      currentReplicas: 1,
      updatedReplicas: 2,
      availableReplicas: 2,
      currentRevision: 'web-old',
      updateRevision: 'web-new',
      collisionCount: 0,
    });
  });

  test('a finished rolling update makes the update revision current', () => {
    const status = computeStatus(input(set(), []), [pod(0), pod(1), pod(2)]);
    assert.equal(status.currentRevision, 'web-new');
    assert.equal(status.currentReplicas, 3);
  });
});
