import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contentConditions, mergeConditions } from './namespace-status.ts';

test('conditions say what remains and which finalizers hold it, like Kubernetes', () => {
  const conditions = contentConditions({
    discoveryFailures: [],
    deleteFailures: ['widgets.example.com: boom'],
    remaining: [{ resource: 'configmaps', count: 2, finalizers: new Map([['example.com/hold', 2]]) }],
  });
  const byType = Object.fromEntries(conditions.map((c) => [c.type, c]));
  assert.equal(byType.NamespaceDeletionDiscoveryFailure.status, 'False');
  assert.equal(byType.NamespaceDeletionContentFailure.status, 'True');
  assert.equal(byType.NamespaceDeletionContentFailure.reason, 'ContentDeletionFailed');
  assert.match(byType.NamespaceContentRemaining.message, /configmaps has 2 resource instances/);
  assert.match(byType.NamespaceFinalizersRemaining.message, /example.com\/hold in 2 resource instances/);
});

test('merging keeps lastTransitionTime while the status holds and reports whether anything changed', () => {
  const t1 = new Date('2025-01-01T00:00:00Z');
  const t2 = new Date('2025-01-01T00:01:00Z');
  const first = contentConditions({ discoveryFailures: [], deleteFailures: [], remaining: [{ resource: 'pods', count: 1, finalizers: new Map() }] });
  const a = mergeConditions([], first, t1);
  assert.equal(a.changed, true);
  assert.equal(mergeConditions(a.conditions, first, t2).changed, false);
  const second = contentConditions({ discoveryFailures: [], deleteFailures: [], remaining: [] });
  const b = mergeConditions(a.conditions, second, t2);
  assert.equal(b.changed, true);
  const remaining = b.conditions.find((c) => c.type === 'NamespaceContentRemaining')!;
  assert.equal(remaining.status, 'False');
  assert.equal(remaining.lastTransitionTime, '2025-01-01T00:01:00Z');
  const discovery = b.conditions.find((c) => c.type === 'NamespaceDeletionDiscoveryFailure')!;
  assert.equal(discovery.lastTransitionTime, '2025-01-01T00:00:00Z', 'unchanged condition keeps its time');
});
