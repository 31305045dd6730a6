import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../api/types.ts';
import { JOB_TRACKING_FINALIZER, type JobPlanInput, planJob, podsForRemoval } from './job-plan.ts';

const NOW = new Date('2024-05-01T10:00:00Z');
const T0 = '2024-05-01T09:59:00Z';

function job(spec: Record<string, unknown> = {}, status: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'j', namespace: 'default', uid: 'job-uid', creationTimestamp: T0 },
    spec: { completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NonIndexed', template: { spec: { restartPolicy: 'Never' } }, ...spec },
    status: { startTime: T0, ...status },
  };
}

let seq = 0;
function pod(phase: string, extra: { index?: number; ready?: boolean; deleting?: boolean; finalizer?: boolean; node?: string; created?: string } = {}): KubeObject {
  seq++;
  return {
    metadata: {
      name: `p${seq}`,
      namespace: 'default',
      uid: `uid-${seq}`,
      creationTimestamp: extra.created ?? T0,
      ...(extra.finalizer === false ? {} : { finalizers: [JOB_TRACKING_FINALIZER] }),
      ...(extra.deleting ? { deletionTimestamp: NOW.toISOString() } : {}),
      ...(extra.index !== undefined ? { annotations: { 'batch.kubernetes.io/job-completion-index': String(extra.index) } } : {}),
    },
    spec: extra.node ? { nodeName: extra.node } : {},
    status: { phase, conditions: extra.ready ? [{ type: 'Ready', status: 'True' }] : [] },
  };
}

const plan = (j: KubeObject, pods: KubeObject[], extra: Partial<JobPlanInput> = {}) =>
  planJob({ job: j, pods, now: NOW, backoff: { failuresAfterLastSuccess: 0 }, expectationsSatisfied: true, ...extra });
const types = (conditions: { type: string }[] | undefined) => (conditions ?? []).map((c) => c.type);

describe('planJob: creating and deleting pods', () => {
  test('a new Job gets startTime and parallelism pods, bounded by remaining completions', () => {
    const p = plan(job({ completions: 5, parallelism: 3 }, { startTime: undefined }), []);
    assert.equal(p.create.count, 3);
    assert.equal(p.status.active, 3);
    assert.equal(p.status.startTime, '2024-05-01T10:00:00Z');
    const near = plan(job({ completions: 5, parallelism: 3 }, { succeeded: 4 }), []);
    assert.equal(near.create.count, 1);
  });

  test('no completions: parallelism pods until one succeeds, then none new', () => {
    assert.equal(plan(job({ completions: undefined, parallelism: 2 }), []).create.count, 2);
    const running = pod('Running');
    const p = plan(job({ completions: undefined, parallelism: 2 }, { succeeded: 1 }), [running]);
    assert.equal(p.create.count, 0);
    assert.deepEqual(p.delete, []);
    assert.equal(types(p.status.conditions).length, 0);
  });

  test('too many active pods: unscheduled, pending and not-ready ones go first', () => {
    const ready = pod('Running', { ready: true, node: 'n1' });
    const notReady = pod('Running', { node: 'n1' });
    const pending = pod('Pending', { node: 'n1' });
    const unscheduled = pod('Pending');
    const p = plan(job({ completions: 10, parallelism: 1 }), [ready, notReady, pending, unscheduled]);
    assert.deepEqual(p.delete.map((x) => x.metadata.name), [unscheduled, pending, notReady].map((x) => x.metadata.name));
    assert.equal(p.status.active, 1);
    assert.deepEqual(podsForRemoval([ready, unscheduled], 1), [unscheduled]);
  });

  test('nothing is created or deleted while expectations are pending', () => {
    const p = plan(job({ completions: 3, parallelism: 3 }), [], { expectationsSatisfied: false });
    assert.equal(p.create.count, 0);
    assert.equal(p.status.active, 0);
  });
});

describe('planJob: counting finished pods', () => {
  test('finished pods go to uncountedTerminatedPods first and lose their finalizer after', () => {
    const done = pod('Succeeded');
    const p = plan(job({ completions: 2, parallelism: 2 }), [done, pod('Running')]);
    assert.deepEqual(p.status.uncountedTerminatedPods, { succeeded: [done.metadata.uid] });
    assert.equal(p.status.succeeded ?? 0, 0);
    assert.deepEqual(p.removeFinalizers, [done]);
    assert.equal(p.create.count, 0, 'the success already counts towards completions');
  });

  test('uncounted pods whose finalizer is gone move to the counters, once', () => {
    const done = pod('Succeeded', { finalizer: false });
    const failed = pod('Failed', { finalizer: false });
    const j = job({ completions: 3, parallelism: 1 }, { succeeded: 1, uncountedTerminatedPods: { succeeded: [done.metadata.uid], failed: [failed.metadata.uid, 'gone-uid'] } });
    const p = plan(j, [done, failed]);
    assert.equal(p.status.succeeded, 2);
    assert.equal(p.status.failed, 2);
    assert.deepEqual(p.status.uncountedTerminatedPods, {});
    // A finished pod without the finalizer and not listed is already counted.
    const again = plan(job({ completions: 3 }, p.status), [done, failed]);
    assert.equal(again.status.succeeded, 2);
    assert.equal(again.status.failed, 2);
  });

  test('a pod being deleted counts as failed; with podReplacementPolicy Failed only a Failed phase does', () => {
    const deleting = pod('Running', { deleting: true });
    const p = plan(job({ completions: 2 }), [deleting]);
    assert.deepEqual(p.status.uncountedTerminatedPods, { failed: [deleting.metadata.uid] });
    assert.equal(p.status.terminating, 1);
    const q = plan(job({ completions: 2, podReplacementPolicy: 'Failed' }), [deleting]);
    assert.deepEqual(q.status.uncountedTerminatedPods, {});
    assert.equal(q.create.count, 0, 'waits for the terminating pod to end');
  });

  test('pods stopped by suspension are released without counting', () => {
    const deleting = pod('Running', { deleting: true });
    const p = plan(job({ suspend: true }), [deleting]);
    assert.deepEqual(p.status.uncountedTerminatedPods, {});
    assert.deepEqual(p.removeFinalizers, [deleting]);
  });
});

describe('planJob: success and failure', () => {
  test('enough successes: SuccessCriteriaMet, then Complete with completionTime once everything is counted', () => {
    const done = pod('Succeeded');
    const first = plan(job(), [done]);
    assert.deepEqual(types(first.status.conditions), ['SuccessCriteriaMet']);
    assert.equal(first.status.completionTime, undefined);
    const settled = { ...done, metadata: { ...done.metadata, finalizers: undefined } };
    const second = plan(job({}, first.status), [settled]);
    assert.deepEqual(types(second.status.conditions), ['SuccessCriteriaMet', 'Complete']);
    assert.equal(second.status.conditions.at(-1).reason, 'CompletionsReached');
    assert.equal(second.status.completionTime, '2024-05-01T10:00:00Z');
    assert.equal(second.status.succeeded, 1);
    assert.deepEqual(second.events, [{ type: 'Normal', reason: 'Completed', message: 'Job completed' }]);
  });

  test('more failures than backoffLimit: FailureTarget, active pods deleted, Failed once they are gone', () => {
    const failed = pod('Failed');
    const running = pod('Running');
    const p = plan(job({ completions: 2, parallelism: 2, backoffLimit: 0 }), [failed, running]);
    assert.deepEqual(types(p.status.conditions), ['FailureTarget']);
    assert.equal(p.status.conditions[0].reason, 'BackoffLimitExceeded');
    assert.equal(p.status.conditions[0].message, 'Job has reached the specified backoff limit');
    assert.deepEqual(p.delete, [running]);
    assert.equal(p.status.active, 0);
    const later = plan(job({ completions: 2, backoffLimit: 0 }, { ...p.status, failed: 2, uncountedTerminatedPods: {} }), []);
    assert.deepEqual(types(later.status.conditions), ['FailureTarget', 'Failed']);
    assert.equal(later.status.completionTime, undefined);
    assert.deepEqual(later.events.map((e) => e.reason), ['BackoffLimitExceeded']);
  });

  test('backoffLimit counts failures strictly above the limit', () => {
    const p = plan(job({ backoffLimit: 2 }, { failed: 2 }), []);
    assert.equal(types(p.status.conditions).length, 0);
    assert.equal(p.create.count, 1);
  });

  test('restartPolicy OnFailure: container restarts count against the limit', () => {
    const restarting = pod('Running');
    restarting.status.containerStatuses = [{ name: 'c', restartCount: 3 }];
    const j = job({ backoffLimit: 3, template: { spec: { restartPolicy: 'OnFailure' } } });
    assert.deepEqual(types(plan(j, [restarting]).status.conditions), ['FailureTarget']);
  });

  test('activeDeadlineSeconds: DeadlineExceeded when passed, else a requeue at the deadline', () => {
    const running = pod('Running');
    const p = plan(job({ activeDeadlineSeconds: 30 }), [running]);
    assert.equal(p.status.conditions[0].reason, 'DeadlineExceeded');
    assert.equal(p.status.conditions[0].message, 'Job was active longer than specified deadline');
    assert.deepEqual(p.delete, [running]);
    const q = plan(job({ activeDeadlineSeconds: 90 }), [running]);
    assert.equal(types(q.status.conditions).length, 0);
    assert.equal(q.requeueAfterMs, 30_000);
  });
});

describe('planJob: suspend and back-off', () => {
  test('suspending deletes active pods and says so; resuming restarts the deadline clock', () => {
    const running = pod('Running');
    const p = plan(job({ suspend: true }), [running]);
    assert.deepEqual(p.delete, [running]);
    assert.equal(p.status.conditions[0].type, 'Suspended');
    assert.equal(p.status.conditions[0].status, 'True');
    assert.deepEqual(p.events.map((e) => e.reason), ['Suspended']);
    const r = plan(job({ suspend: false }, p.status), []);
    assert.equal(r.status.conditions[0].status, 'False');
    assert.equal(r.status.conditions[0].reason, 'JobResumed');
    assert.equal(r.status.startTime, '2024-05-01T10:00:00Z');
    assert.equal(r.create.count, 1);
    // Created suspended: no startTime, no Suspended=False condition before ever running.
    const fresh = plan(job({ suspend: true }, { startTime: undefined }), []);
    assert.equal(fresh.status.startTime, undefined);
  });

  test('a new failure delays replacement pods by the back-off', () => {
    const failed = pod('Failed');
    const p = plan(job({ completions: 1 }), [failed]);
    assert.equal(p.backoff.failuresAfterLastSuccess, 1);
    assert.equal(p.create.count, 0);
    assert.equal(p.requeueAfterMs, 10_000);
    const later = new Date(NOW.getTime() + 10_000);
    const q = planJob({ job: job({ completions: 1 }, p.status), pods: [], now: later, backoff: p.backoff, expectationsSatisfied: true });
    assert.equal(q.create.count, 1);
  });
});

describe('planJob: Indexed', () => {
  test('creates the lowest free indexes and tracks completedIndexes', () => {
    const j = job({ completionMode: 'Indexed', completions: 5, parallelism: 3 }, { completedIndexes: '0', succeeded: 1 });
    const p = plan(j, [pod('Running', { index: 2 }), pod('Succeeded', { index: 4, finalizer: false })]);
    assert.deepEqual(p.create.indexes, [1, 3]);
    assert.equal(p.status.completedIndexes, '0');
  });

  test('duplicate, out-of-range and already-succeeded indexes are deleted', () => {
    const j = job({ completionMode: 'Indexed', completions: 3, parallelism: 3 }, { completedIndexes: '0', succeeded: 1 });
    const keep = pod('Running', { index: 1, ready: true });
    const dup = pod('Running', { index: 1 });
    const out = pod('Running', { index: 7 });
    const done = pod('Running', { index: 0 });
    const p = plan(j, [keep, dup, out, done]);
    assert.deepEqual(new Set(p.delete), new Set([dup, out, done]));
  });

  test('completes when every index succeeded; succeeded counts indexes', () => {
    const j = job({ completionMode: 'Indexed', completions: 3, parallelism: 3 }, { completedIndexes: '0-1', succeeded: 2 });
    const last = pod('Succeeded', { index: 2, finalizer: false });
    const p = plan({ ...j, status: { ...j.status, uncountedTerminatedPods: { succeeded: [last.metadata.uid] } } }, [last]);
    assert.equal(p.status.completedIndexes, '0-2');
    assert.equal(p.status.succeeded, 3);
    assert.deepEqual(types(p.status.conditions), ['SuccessCriteriaMet', 'Complete']);
  });
});
