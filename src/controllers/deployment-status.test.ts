import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  calculateStatus,
  getCondition,
  pausedConditionUpdate,
  progressRecheckMs,
  rolloutStatus,
  setCondition,
  statusDiffers,
  type DeploymentStatus,
} from './deployment-status.ts';

const T0 = new Date('2025-01-01T00:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const rs = (name: string, replicas: number, ready: number, available: number, conditions: object[] = []) => ({
  metadata: { name, uid: name },
  spec: { replicas },
  status: { replicas, readyReplicas: ready, availableReplicas: available, conditions },
});
const deployment = (status: DeploymentStatus = {}, spec: Record<string, unknown> = {}) => ({
  metadata: { name: 'web', generation: 2 },
  spec: { replicas: 3, progressDeadlineSeconds: 10, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }, ...spec },
  status,
});

describe('deployment status', () => {
  test('counts come from the ReplicaSets; Available follows minimum availability', () => {
    const newRS = rs('new', 1, 0, 0);
    const s = calculateStatus(deployment(), [rs('old', 3, 3, 3), newRS], newRS, T0);
    assert.deepEqual(
      { ...s, conditions: undefined },
      { observedGeneration: 2, replicas: 4, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3, unavailableReplicas: 1, conditions: undefined },
    );
    assert.equal(getCondition(s, 'Available')?.reason, 'MinimumReplicasAvailable');
    const down = calculateStatus(deployment(), [rs('old', 3, 2, 2)], undefined, T0);
    assert.equal(getCondition(down, 'Available')?.status, 'False');
    assert.equal(getCondition(down, 'Available')?.reason, 'MinimumReplicasUnavailable');
  });

  test('setCondition keeps lastTransitionTime while the status stays and ignores same reason', () => {
    const s: DeploymentStatus = {};
    setCondition(s, { type: 'Available', status: 'True', reason: 'A', lastTransitionTime: 't0', lastUpdateTime: 't0' });
    setCondition(s, { type: 'Available', status: 'True', reason: 'A', lastTransitionTime: 't1', lastUpdateTime: 't1' });
    assert.equal(s.conditions?.[0].lastUpdateTime, 't0');
    setCondition(s, { type: 'Available', status: 'True', reason: 'B', lastTransitionTime: 't2', lastUpdateTime: 't2' });
    assert.deepEqual([s.conditions?.[0].reason, s.conditions?.[0].lastTransitionTime, s.conditions?.[0].lastUpdateTime], ['B', 't0', 't2']);
  });

  test('progress refreshes Progressing; complete rollouts say NewReplicaSetAvailable', () => {
    const started = deployment({ replicas: 3, updatedReplicas: 0, availableReplicas: 3, conditions: [] });
    const created = { type: 'Progressing', status: 'True' as const, reason: 'NewReplicaSetCreated', lastUpdateTime: T0.toISOString(), lastTransitionTime: T0.toISOString() };
    started.status.conditions = [created];
    const newRS = rs('new', 1, 1, 1);
    const progressing = rolloutStatus(started, [rs('old', 3, 3, 3), newRS], newRS, at(5));
    const p = getCondition(progressing, 'Progressing');
    assert.equal(p?.reason, 'ReplicaSetUpdated');
    assert.equal(p?.message, 'ReplicaSet "new" is progressing.');
    assert.equal(p?.lastTransitionTime, created.lastTransitionTime, 'still True: transition time kept');
    assert.equal(p?.lastUpdateTime, '2025-01-01T00:00:05Z');

    const done = rs('new', 3, 3, 3);
    const complete = rolloutStatus(deployment(progressing), [rs('old', 0, 0, 0), done], done, at(8));
    assert.equal(getCondition(complete, 'Progressing')?.reason, 'NewReplicaSetAvailable');
    assert.equal(getCondition(complete, 'Progressing')?.message, 'ReplicaSet "new" has successfully progressed.');
  });

  test('no progress for progressDeadlineSeconds: ProgressDeadlineExceeded, with a recheck planned before', () => {
    const cond = { type: 'Progressing', status: 'True' as const, reason: 'ReplicaSetUpdated', lastUpdateTime: T0.toISOString(), lastTransitionTime: T0.toISOString() };
    const stuckRS = rs('new', 1, 0, 0);
    const sets = [rs('old', 3, 3, 3), stuckRS];
    const d = deployment({ observedGeneration: 2, replicas: 4, updatedReplicas: 1, readyReplicas: 3, availableReplicas: 3, conditions: [cond] });
    const early = rolloutStatus(d, sets, stuckRS, at(4));
    assert.equal(getCondition(early, 'Progressing')?.reason, 'ReplicaSetUpdated');
    assert.equal(progressRecheckMs(d, early, at(4)), 6000);
    const late = rolloutStatus(d, sets, stuckRS, at(11));
    const c = getCondition(late, 'Progressing');
    assert.deepEqual([c?.status, c?.reason, c?.message], ['False', 'ProgressDeadlineExceeded', 'ReplicaSet "new" has timed out progressing.']);
    assert.equal(getCondition(late, 'Available')?.status, 'True', 'the old pods keep serving');
    assert.equal(progressRecheckMs(deployment(late), late, at(12)), undefined, 'no more checks once timed out');
  });

  test('ReplicaFailure is copied from the new ReplicaSet and removed when it clears', () => {
    const failing = rs('new', 2, 0, 0, [{ type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'quota', lastTransitionTime: 't' }]);
    const s = rolloutStatus(deployment(), [failing], failing, T0);
    assert.deepEqual(getCondition(s, 'ReplicaFailure'), { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message: 'quota', lastUpdateTime: 't', lastTransitionTime: 't' });
    const healed = rolloutStatus(deployment(s), [rs('new', 2, 0, 0)], rs('new', 2, 0, 0), T0);
    assert.equal(getCondition(healed, 'ReplicaFailure'), undefined);
  });

  test('pause and resume show as Progressing Unknown; a timeout is not overwritten', () => {
    const paused = pausedConditionUpdate(deployment({}, { paused: true }), T0);
    assert.deepEqual([getCondition(paused, 'Progressing')?.status, getCondition(paused, 'Progressing')?.reason], ['Unknown', 'DeploymentPaused']);
    assert.equal(pausedConditionUpdate(deployment(paused, { paused: true }), T0), undefined);
    const resumed = pausedConditionUpdate(deployment(paused), T0);
    assert.equal(getCondition(resumed, 'Progressing')?.reason, 'DeploymentResumed');
    const timedOut = { conditions: [{ type: 'Progressing', status: 'False' as const, reason: 'ProgressDeadlineExceeded' }] };
    assert.equal(pausedConditionUpdate(deployment(timedOut, { paused: true }), T0), undefined);
    assert.equal(pausedConditionUpdate(deployment({}, { paused: true, progressDeadlineSeconds: 2147483647 }), T0), undefined);
  });

  test('status writes only when something changed (zero counts equal absent ones)', () => {
    assert.ok(!statusDiffers({ replicas: 3, unavailableReplicas: 0, conditions: [] }, { replicas: 3 }));
    assert.ok(statusDiffers({ replicas: 3 }, { replicas: 2 }));
    assert.ok(statusDiffers({ conditions: [{ type: 'A', status: 'True' }] }, { conditions: [{ type: 'A', status: 'False' }] }));
  });
});
