import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  findActiveOrLatest,
  isScalingEvent,
  maxSurge,
  maxUnavailable,
  newReplicaSetReplicas,
  oldReplicaSetsScaleDown,
  resolveFenceposts,
  scaledValue,
  scalePlan,
} from './deployment-rolling.ts';

type Opts = { replicas: number; available?: number; created?: string; desired?: number; max?: number };
const rs = (name: string, o: Opts) => ({
  metadata: {
    name,
    uid: name,
    creationTimestamp: o.created ?? '2024-01-01T00:00:00Z',
    annotations: {
      ...(o.desired !== undefined ? { 'deployment.kubernetes.io/desired-replicas': String(o.desired) } : {}),
      ...(o.max !== undefined ? { 'deployment.kubernetes.io/max-replicas': String(o.max) } : {}),
    },
  },
  spec: { replicas: o.replicas },
  status: { replicas: o.replicas, availableReplicas: o.available ?? o.replicas },
});
const deployment = (replicas: number, maxSurge: number | string = '25%', maxUnavailable: number | string = '25%', type = 'RollingUpdate') => ({
  metadata: { name: 'd', generation: 1 },
  spec: { replicas, strategy: { type, rollingUpdate: { maxSurge, maxUnavailable } } },
  status: {},
});

describe('surge and unavailability bounds', () => {
  test('percentages: surge rounds up, unavailable rounds down', () => {
    assert.deepEqual(resolveFenceposts('25%', '25%', 10), { surge: 3, unavailable: 2 });
    assert.deepEqual(resolveFenceposts('25%', '25%', 4), { surge: 1, unavailable: 1 });
    assert.deepEqual(resolveFenceposts('10%', '90%', 3), { surge: 1, unavailable: 2 });
    assert.deepEqual(resolveFenceposts(2, 0, 3), { surge: 2, unavailable: 0 });
    assert.equal(scaledValue('50%', 5, true), 3);
    assert.equal(scaledValue('50%', 5, false), 2);
    assert.throws(() => scaledValue('5', 10, true), /not a percentage/);
  });

  test('when both resolve to 0 unavailable becomes 1 so the rollout can move', () => {
    assert.deepEqual(resolveFenceposts('0%', '1%', 10), { surge: 0, unavailable: 1 });
    assert.deepEqual(resolveFenceposts(0, 0, 3), { surge: 0, unavailable: 1 });
  });

  test('maxUnavailable never exceeds replicas; Recreate and 0 replicas have no bounds', () => {
    assert.equal(maxUnavailable(deployment(3, 1, 5)), 3);
    assert.equal(maxUnavailable(deployment(0, 1, 1)), 0);
    assert.equal(maxUnavailable(deployment(3, 1, 1, 'Recreate')), 0);
    assert.equal(maxSurge(deployment(3, 1, 1, 'Recreate')), 0);
    assert.equal(maxSurge(deployment(10)), 3);
  });
});

describe('rolling update steps', () => {
  test('the new ReplicaSet grows up to replicas + maxSurge pods in total, never beyond replicas', () => {
    const d = deployment(10);
    const newRS = rs('new', { replicas: 0 });
    assert.equal(newReplicaSetReplicas(d, [rs('old', { replicas: 10 }), newRS], newRS), 3);
    const grown = rs('new', { replicas: 3 });
    assert.equal(newReplicaSetReplicas(d, [rs('old', { replicas: 10 }), grown], grown), 3, 'at the surge limit');
    const almost = rs('new', { replicas: 9 });
    assert.equal(newReplicaSetReplicas(d, [rs('old', { replicas: 1 }), almost], almost), 10);
    assert.equal(newReplicaSetReplicas(deployment(4, 1, 1, 'Recreate'), [], rs('new', { replicas: 0 })), 4);
  });

  test('maxUnavailable 0: old pods go only once new ones are available', () => {
    const d = deployment(3, 1, 0);
    const old = rs('old', { replicas: 3 });
    const pending = rs('new', { replicas: 1, available: 0 });
    assert.deepEqual(oldReplicaSetsScaleDown(d, [old, pending], [old], pending), []);
    const ready = rs('new', { replicas: 1, available: 1 });
    const steps = oldReplicaSetsScaleDown(d, [old, ready], [old], ready);
    assert.deepEqual(steps.map((s) => [s.rs.metadata.name, s.replicas]), [['old', 2]]);
  });

  test('unavailable old replicas are removed first, within the budget', () => {
    const d = deployment(3, 0, 1);
    const sick = rs('old', { replicas: 3, available: 1 });
    const newRS = rs('new', { replicas: 0 });
    const steps = oldReplicaSetsScaleDown(d, [sick, newRS], [sick], newRS);
    assert.deepEqual(steps.map((s) => [s.rs.metadata.name, s.replicas]), [['old', 2]]);
  });

  test('older ReplicaSets shrink first', () => {
    const d = deployment(4, 0, 2);
    const oldest = rs('a', { replicas: 2, created: '2024-01-01T00:00:00Z' });
    const older = rs('b', { replicas: 2, created: '2024-01-02T00:00:00Z' });
    const newRS = rs('new', { replicas: 0, created: '2024-01-03T00:00:00Z' });
    const steps = oldReplicaSetsScaleDown(d, [older, oldest, newRS], [older, oldest], newRS);
    assert.deepEqual(steps.map((s) => [s.rs.metadata.name, s.replicas]), [['a', 0]]);
  });
});

describe('scaling', () => {
  test('a single active ReplicaSet takes the whole size', () => {
    const d = deployment(5);
    const only = rs('only', { replicas: 3 });
    assert.equal(findActiveOrLatest(only, [rs('old', { replicas: 0 })]), only);
    assert.deepEqual(scalePlan(d, only, [rs('old', { replicas: 0 })]).map((s) => [s.rs.metadata.name, s.replicas, s.operation]), [['only', 5, 'up']]);
  });

  test('a resize mid-rollout is spread in proportion over the active ReplicaSets', () => {
    // 10 → 20 replicas with 25% surge: allowed 25; the two sets had 13 pods for a max of 13.
    const d = deployment(20);
    const old = rs('old', { replicas: 8, created: '2024-01-01T00:00:00Z', desired: 10, max: 13 });
    const newRS = rs('new', { replicas: 5, available: 0, created: '2024-01-02T00:00:00Z', desired: 10, max: 13 });
    assert.ok(isScalingEvent(d, [old, newRS]));
    const plan = scalePlan(d, newRS, [old]);
    assert.deepEqual(plan.map((s) => [s.rs.metadata.name, s.replicas, s.operation]), [['old', 15], ['new', 10]].map(([n, r]) => [n, r, 'up']));
  });

  test('scaling down proportionally, leftovers to the largest, never below 0', () => {
    const d = deployment(2, 1, 0);
    const old = rs('old', { replicas: 6, created: '2024-01-01T00:00:00Z', desired: 10, max: 11 });
    const newRS = rs('new', { replicas: 5, available: 0, created: '2024-01-02T00:00:00Z', desired: 10, max: 11 });
    const plan = scalePlan(d, newRS, [old]);
    const total = plan.reduce((n, s) => n + s.replicas, 0);
    assert.equal(total, 3, 'replicas + maxSurge');
    assert.ok(plan.every((s) => s.replicas >= 0 && s.operation === 'down'));
    assert.deepEqual(scalePlan(deployment(0), newRS, [old]).map((s) => s.replicas), [0, 0]);
  });

  test('a saturated new ReplicaSet scales the old ones to 0', () => {
    const d = deployment(3);
    const newRS = rs('new', { replicas: 3, available: 3, desired: 3 });
    const plan = scalePlan(d, newRS, [rs('old', { replicas: 1 })]);
    assert.deepEqual(plan.map((s) => [s.rs.metadata.name, s.replicas]), [['old', 0]]);
    assert.ok(!isScalingEvent(d, [newRS]));
  });
});
