import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { appendRevisionHistory, MAX_REVISION_HISTORY_CHARS, newReplicaSetAnnotations, replicaSetsToCleanUp } from './deployment-history.ts';
import { maxRevision } from './deployment-replicasets.ts';
import { lastRevision, rollbackTarget } from './deployment-rollback.ts';

const tpl = (image: string, hash?: string) => ({ metadata: { labels: { app: 'web', ...(hash ? { 'pod-template-hash': hash } : {}) } }, spec: { containers: [{ name: 'c', image }] } });
const rs = (name: string, o: { revision?: number; replicas?: number; statusReplicas?: number; created?: string; annotations?: Record<string, string>; generation?: number; observed?: number; image?: string } = {}) => ({
  metadata: {
    name,
    uid: name,
    generation: o.generation ?? 1,
    creationTimestamp: o.created ?? '2024-01-01T00:00:00Z',
    annotations: { ...(o.revision !== undefined ? { 'deployment.kubernetes.io/revision': String(o.revision) } : {}), ...(o.annotations ?? {}) },
  },
  spec: { replicas: o.replicas ?? 0, template: tpl(o.image ?? `img-${name}`, name) },
  status: { replicas: o.statusReplicas ?? o.replicas ?? 0, observedGeneration: o.observed ?? 1 },
});
const deployment = (annotations: Record<string, string> = {}, extra: Record<string, unknown> = {}) => ({
  metadata: { name: 'web', annotations },
  spec: { replicas: 4, revisionHistoryLimit: 2, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }, template: tpl('img-now'), ...extra },
});

describe('revision annotations', () => {
  test('a new ReplicaSet gets max old revision + 1, the change-cause and the replica annotations, not last-applied', () => {
    const d = deployment({ 'kubernetes.io/change-cause': 'kubectl set image', 'kubectl.kubernetes.io/last-applied-configuration': '{}', 'deployment.kubernetes.io/revision': '7' });
    const olds = [rs('a', { revision: 1 }), rs('b', { revision: 3 })];
    const ann = newReplicaSetAnnotations(d, rs('new'), maxRevision(olds) + 1, { exists: false });
    assert.deepEqual(ann, {
      'kubernetes.io/change-cause': 'kubectl set image',
      'deployment.kubernetes.io/revision': '4',
      'deployment.kubernetes.io/desired-replicas': '4',
      'deployment.kubernetes.io/max-replicas': '5',
    });
  });

  test('an old ReplicaSet that becomes new again (rollback) takes the new revision and remembers its old one', () => {
    const back = rs('a', { revision: 2, annotations: { 'deployment.kubernetes.io/revision-history': '1' } });
    const ann = newReplicaSetAnnotations(deployment(), back, 5, { exists: true });
    assert.equal(ann?.['deployment.kubernetes.io/revision'], '5');
    assert.equal(ann?.['deployment.kubernetes.io/revision-history'], '1,2');
    assert.equal(newReplicaSetAnnotations(deployment(), rs('x', { revision: 5 }), 5, { exists: true }), undefined, 'nothing to change');
  });

  test('revision-history drops its oldest entries past the length limit', () => {
    assert.equal(appendRevisionHistory('', '3'), '3');
    const long = Array.from({ length: 600 }, (_, i) => String(i + 1000)).join(',');
    const out = appendRevisionHistory(long, '9999');
    assert.ok(out.length <= MAX_REVISION_HISTORY_CHARS);
    assert.ok(out.endsWith(',9999'));
    assert.ok(!out.startsWith('1000,'));
  });
});

describe('history clean-up', () => {
  test('old ReplicaSets beyond revisionHistoryLimit go, lowest revision first, only when empty and observed', () => {
    const olds = [
      rs('r3', { revision: 3 }),
      rs('r1', { revision: 1 }),
      rs('r2', { revision: 2, statusReplicas: 1 }),
      rs('r4', { revision: 4 }),
      rs('r5', { revision: 5, generation: 2, observed: 1 }),
    ];
    // 5 old, limit 2: the 3 lowest revisions are candidates; r2 still has a pod.
    assert.deepEqual(replicaSetsToCleanUp(deployment(), olds).map((r) => r.metadata.name), ['r1', 'r3']);
    assert.deepEqual(replicaSetsToCleanUp(deployment({}, { revisionHistoryLimit: 2147483647 }), olds), []);
    assert.deepEqual(replicaSetsToCleanUp(deployment({}, { revisionHistoryLimit: 0 }), [rs('z', { revision: 9, replicas: 1 })]), []);
  });
});

describe('rollbackTo', () => {
  test('revision 0 means the previous one; the template and annotations come from that ReplicaSet', () => {
    const sets = [rs('a', { revision: 1, annotations: { 'kubernetes.io/change-cause': 'first' } }), rs('b', { revision: 3 }), rs('c', { revision: 2 })];
    assert.equal(lastRevision(sets), 2);
    const d = deployment({ 'deployment.kubernetes.io/revision': '3', 'deprecated.deployment.rollback.to': '0', other: 'x' });
    const t = rollbackTarget(d, sets, 1);
    assert.equal(t.kind, 'found');
    if (t.kind !== 'found') return;
    assert.equal(t.rs.metadata.name, 'a');
    assert.deepEqual(t.annotations, {
      'deployment.kubernetes.io/revision': '3',
      'deprecated.deployment.rollback.to': '0',
      'kubernetes.io/change-cause': 'first',
    });
    assert.equal(rollbackTarget(d, sets, 0).kind, 'found');
    assert.equal(rollbackTarget(d, sets, 9).kind, 'notFound');
    assert.equal(rollbackTarget(d, [rs('only', { revision: 1 })], 0).kind, 'noLast');
    assert.equal(rollbackTarget({ ...d, spec: { ...d.spec, template: tpl('img-a') } }, sets, 1).kind, 'unchanged');
  });
});
