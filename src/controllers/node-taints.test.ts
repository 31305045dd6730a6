import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../api/types.ts';
import { applyTaints, desiredTaints, evictionTime, isNewNoExecuteTaint, type Taint, tolerates } from './node-taints.ts';

const T0 = Date.parse('2025-01-01T00:00:00Z');
const nodeWith = (ready: string, spec: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name: 'n1' },
  spec,
  status: { conditions: [{ type: 'Ready', status: ready }] },
});
const ids = (taints: Taint[]) => taints.map((t) => `${t.key}:${t.effect}`).sort();
const unreachable: Taint = { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2025-01-01T00:00:00Z' };

describe('node taints', () => {
  test('Ready Unknown → unreachable, Ready False → not-ready, NoExecute and NoSchedule; cordon → unschedulable', () => {
    assert.deepEqual(ids(desiredTaints(nodeWith('Unknown'), { noExecute: true })), [
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/unreachable:NoSchedule',
    ]);
    assert.deepEqual(ids(desiredTaints(nodeWith('False', { unschedulable: true }), { noExecute: true })), [
      'node.kubernetes.io/not-ready:NoExecute',
      'node.kubernetes.io/not-ready:NoSchedule',
      'node.kubernetes.io/unschedulable:NoSchedule',
    ]);
    assert.deepEqual(ids(desiredTaints(nodeWith('Unknown'), { noExecute: false })), ['node.kubernetes.io/unreachable:NoSchedule']);
    assert.deepEqual(desiredTaints(nodeWith('True'), { noExecute: true }), []);
  });

  test('applying keeps the user\'s taints and the timeAdded of kept ones; removes ours when healthy', () => {
    const user: Taint = { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' };
    const now = new Date(T0 + 5000);
    const tainted = applyTaints([user, unreachable], desiredTaints(nodeWith('Unknown'), { noExecute: true }), now)!;
    assert.deepEqual(tainted[0], user);
    assert.deepEqual(tainted[1], unreachable, 'kept with its original timeAdded');
    assert.deepEqual(tainted[2], { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule', timeAdded: '2025-01-01T00:00:05Z' });
    assert.equal(applyTaints(tainted, desiredTaints(nodeWith('Unknown'), { noExecute: true }), now), undefined, 'no change');
    assert.deepEqual(applyTaints(tainted, desiredTaints(nodeWith('True'), { noExecute: true }), now), [user]);
  });

  test('a new NoExecute taint is rate limited; swapping not-ready for unreachable is not', () => {
    const want = desiredTaints(nodeWith('Unknown'), { noExecute: true });
    assert.equal(isNewNoExecuteTaint([], want), true);
    assert.equal(isNewNoExecuteTaint([{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }], want), false);
    assert.equal(isNewNoExecuteTaint([], desiredTaints(nodeWith('True'), { noExecute: true })), false);
  });

  test('tolerations match as v1 ToleratesTaint does', () => {
    const taint: Taint = { key: 'k', value: 'v', effect: 'NoExecute' };
    assert.equal(tolerates({ operator: 'Exists' }, taint), true);
    assert.equal(tolerates({ key: 'k', operator: 'Exists', effect: 'NoSchedule' }, taint), false);
    assert.equal(tolerates({ key: 'k', value: 'v' }, taint), true);
    assert.equal(tolerates({ key: 'k', operator: 'Equal', value: 'w' }, taint), false);
    assert.equal(tolerates({ key: 'other', operator: 'Exists' }, taint), false);
  });

  test('eviction: at once without a toleration, after the shortest tolerationSeconds, never without seconds', () => {
    const since = () => T0;
    const now = T0 + 1000;
    const pod = (tolerations: unknown[], scheduledAt?: string): KubeObject => ({
      metadata: { name: 'p', creationTimestamp: '2024-12-31T00:00:00Z' },
      spec: { tolerations },
      status: scheduledAt ? { conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: scheduledAt }] } : {},
    });
    assert.equal(evictionTime(pod([]), [unreachable], { now, taintSince: since }), now);
    const defaults = [
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 2 },
    ];
    assert.equal(evictionTime(pod(defaults), [unreachable], { now, taintSince: since }), T0 + 2000);
    assert.equal(evictionTime(pod([{ operator: 'Exists' }]), [unreachable], { now, taintSince: since }), undefined, 'tolerated forever');
    assert.equal(evictionTime(pod(defaults), [{ ...unreachable, effect: 'NoSchedule' }], { now, taintSince: since }), undefined);
    assert.equal(
      evictionTime(pod(defaults, '2025-01-01T00:00:10Z'), [unreachable], { now, taintSince: since }),
      T0 + 12_000,
      'a pod that arrived after the taint counts from its arrival',
    );
    const two = [unreachable, { key: 'custom', effect: 'NoExecute' }];
    assert.equal(evictionTime(pod(defaults), two, { now, taintSince: since }), now, 'one untolerated taint is enough');
  });
});
