import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../api/types.ts';
import { planPodGc } from './podgc.ts';

const pod = (name: string, extra: { node?: string; phase?: string; deleting?: boolean; created?: string } = {}): KubeObject => ({
  metadata: {
    name,
    namespace: 'default',
    creationTimestamp: extra.created ?? '2026-01-01T00:00:00Z',
    ...(extra.deleting ? { deletionTimestamp: '2026-01-01T00:01:00Z' } : {}),
  },
  spec: extra.node ? { nodeName: extra.node } : {},
  status: extra.phase ? { phase: extra.phase } : {},
});

test('pods on nodes gone past the quarantine are orphaned; recently missing ones wait', () => {
  const pods = [pod('a', { node: 'gone' }), pod('b', { node: 'late' }), pod('c', { node: 'here' })];
  const since = (name: string) => (name === 'gone' ? 0 : 100_000);
  const plan = planPodGc(pods, (n) => n === 'here', since, 120_000);
  assert.deepEqual(plan.orphaned.map((p) => p.metadata.name), ['a']);
});

test('terminating pods that were never scheduled go at once', () => {
  const plan = planPodGc([pod('x', { deleting: true }), pod('y')], () => true, () => 0, 0);
  assert.deepEqual(plan.unscheduledTerminating.map((p) => p.metadata.name), ['x']);
});

test('finished pods beyond the threshold go oldest first', () => {
  const pods = [
    pod('new', { node: 'n', phase: 'Succeeded', created: '2026-01-03T00:00:00Z' }),
    pod('old', { node: 'n', phase: 'Failed', created: '2026-01-01T00:00:00Z' }),
    pod('mid', { node: 'n', phase: 'Succeeded', created: '2026-01-02T00:00:00Z' }),
    pod('running', { node: 'n', phase: 'Running' }),
  ];
  const plan = planPodGc(pods, () => true, () => 0, 0, 1);
  assert.deepEqual(plan.excessFinished.map((p) => p.metadata.name), ['old', 'mid']);
});
