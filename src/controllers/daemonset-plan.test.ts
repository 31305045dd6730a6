import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../api/types.ts';
import { daemonTolerations, fitsNodeAffinity, nodeShouldRunDaemonPod, pinToNode, targetNodeName, tolerates } from './daemonset-nodes.ts';
import { daemonSetStatus, type DaemonSetInput, manage, rollingUpdate, updateBounds } from './daemonset-plan.ts';
import { REVISION_HASH_LABEL } from './workload-pods.ts';

const NOW = Date.parse('2026-01-01T00:10:00Z');
const node = (name: string, extra: { labels?: Record<string, string>; taints?: unknown[]; deleting?: boolean } = {}): KubeObject => ({
  metadata: { name, labels: { 'kubernetes.io/hostname': name, ...extra.labels }, ...(extra.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}) },
  spec: extra.taints ? { taints: extra.taints } : {},
});
const ds = (podSpec: Record<string, unknown> = {}, strategy: Record<string, unknown> = { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } }): KubeObject => ({
  metadata: { name: 'agent', namespace: 'ns', uid: 'ds-uid', generation: 1 },
  spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'c', image: 'x' }], ...podSpec } }, updateStrategy: strategy },
});
let seq = 0;
const pod = (nodeName: string, opts: { hash?: string; ready?: boolean; phase?: string; bound?: boolean; terminating?: boolean } = {}): KubeObject => ({
  metadata: {
    name: `agent-${++seq}`,
    namespace: 'ns',
    creationTimestamp: `2026-01-01T00:00:${String(seq % 60).padStart(2, '0')}Z`,
    labels: { app: 'agent', [REVISION_HASH_LABEL]: opts.hash ?? 'new' },
    ...(opts.terminating ? { deletionTimestamp: '2026-01-01T00:09:00Z' } : {}),
  },
  spec: { ...(opts.bound === false ? {} : { nodeName }), affinity: pinToNode(undefined, nodeName) },
  status: {
    phase: opts.phase ?? 'Running',
    conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }],
  },
});
const input = (d: KubeObject, nodes: KubeObject[], pods: KubeObject[]): DaemonSetInput => ({ ds: d, nodes, pods, hash: 'new', now: NOW });
const names = (pods: KubeObject[]) => pods.map((p) => `${p.spec.nodeName}:${p.metadata.labels?.[REVISION_HASH_LABEL]}`).sort();

describe('node eligibility', () => {
  test('nodeSelector and required node affinity must match the node', () => {
    const n = node('a', { labels: { disk: 'ssd', zone: '3' } });
    assert.equal(fitsNodeAffinity({ nodeSelector: { disk: 'ssd' } }, n), true);
    assert.equal(fitsNodeAffinity({ nodeSelector: { disk: 'hdd' } }, n), false);
    const affinity = (expr: unknown) => ({ affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [expr] }] } } } });
    assert.equal(fitsNodeAffinity(affinity({ key: 'zone', operator: 'Gt', values: ['2'] }), n), true);
    assert.equal(fitsNodeAffinity(affinity({ key: 'zone', operator: 'In', values: ['1', '2'] }), n), false);
    assert.equal(fitsNodeAffinity(affinity({ key: 'gpu', operator: 'DoesNotExist' }), n), true);
    assert.equal(fitsNodeAffinity({ affinity: pinToNode(undefined, 'a') }, n), true);
    assert.equal(fitsNodeAffinity({ affinity: pinToNode(undefined, 'b') }, n), false);
  });

  test('tolerations: key, value, effect and Exists', () => {
    const taint = { key: 'dedicated', value: 'db', effect: 'NoSchedule' };
    assert.equal(tolerates({ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }, taint), true);
    assert.equal(tolerates({ key: 'dedicated', value: 'web' }, taint), false);
    assert.equal(tolerates({ key: 'dedicated', operator: 'Exists' }, taint), true);
    assert.equal(tolerates({ operator: 'Exists' }, taint), true);
    assert.equal(tolerates({ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }, taint), false);
  });

  test('a tainted node gets no pod without a toleration; a NoSchedule taint keeps the pods already there', () => {
    const tainted = node('a', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] });
    assert.deepEqual(nodeShouldRunDaemonPod(tainted, ds()), { shouldRun: false, shouldContinueRunning: true });
    const evicting = node('a', { taints: [{ key: 'dedicated', value: 'db', effect: 'NoExecute' }] });
    assert.deepEqual(nodeShouldRunDaemonPod(evicting, ds()), { shouldRun: false, shouldContinueRunning: false });
    assert.equal(nodeShouldRunDaemonPod(tainted, ds({ tolerations: [{ key: 'dedicated', operator: 'Exists' }] })).shouldRun, true);
  });

  test('daemon pods tolerate not-ready, unreachable, pressure and cordoned nodes automatically', () => {
    for (const [key, effect] of [
      ['node.kubernetes.io/not-ready', 'NoExecute'],
      ['node.kubernetes.io/unreachable', 'NoExecute'],
      ['node.kubernetes.io/disk-pressure', 'NoSchedule'],
      ['node.kubernetes.io/memory-pressure', 'NoSchedule'],
      ['node.kubernetes.io/pid-pressure', 'NoSchedule'],
      ['node.kubernetes.io/unschedulable', 'NoSchedule'],
    ]) {
      assert.equal(nodeShouldRunDaemonPod(node('a', { taints: [{ key, effect }] }), ds()).shouldRun, true, key);
    }
    assert.equal(nodeShouldRunDaemonPod(node('a', { taints: [{ key: 'node.kubernetes.io/network-unavailable', effect: 'NoSchedule' }] }), ds()).shouldRun, false);
    assert.equal(daemonTolerations({ hostNetwork: true }).length, 7);
    const own = [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' }];
    assert.equal(daemonTolerations({ tolerations: own }).length, 6, 'no duplicates');
  });

  test('a node being deleted gets no new pod; pods pin to their node through matchFields', () => {
    assert.deepEqual(nodeShouldRunDaemonPod(node('a', { deleting: true }), ds()), { shouldRun: false, shouldContinueRunning: true });
    const affinity = pinToNode({ nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [] }] } } }, 'n1');
    assert.deepEqual(affinity, {
      nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }] } },
    });
    assert.equal(targetNodeName({ metadata: {}, spec: { affinity } }), 'n1');
    assert.equal(targetNodeName({ metadata: {}, spec: { nodeName: 'n2', affinity } }), 'n2');
  });
});

describe('manage', () => {
  test('one pod per eligible node: creates where missing, removes extras (keeping the oldest) and misplaced ones', () => {
    const nodes = [node('a'), node('b', { labels: { role: 'db' } }), node('c')];
    const extraOld = pod('a');
    const extraNew = pod('a');
    const onC = pod('c');
    const changes = manage(input(ds({ nodeSelector: { 'kubernetes.io/hostname': 'a' } }), nodes, [extraOld, extraNew, onC]));
    assert.deepEqual(changes.createOn, []);
    assert.deepEqual(changes.deletePods.map((p) => p.metadata.name), [extraNew.metadata.name, onC.metadata.name]);
    const fresh = manage(input(ds(), nodes, [pod('b')]));
    assert.deepEqual(fresh.createOn, ['a', 'c']);
  });

  test('failed pods are reported for deletion; pods of nodes that are gone are deleted', () => {
    const failed = pod('a', { phase: 'Failed' });
    const orphan = pod('gone');
    const changes = manage(input(ds(), [node('a')], [failed, orphan]));
    assert.deepEqual(changes.failedPods, [failed]);
    assert.deepEqual(changes.deletePods, [orphan]);
    assert.deepEqual(changes.createOn, []);
  });

  test('an unscheduled pod counts for the node it is pinned to', () => {
    assert.deepEqual(manage(input(ds(), [node('a')], [pod('a', { bound: false })])).createOn, []);
  });
});

describe('rolling update', () => {
  const nodes = ['a', 'b', 'c', 'd'].map((n) => node(n));

  test('bounds: percentages round up, and both zero means one unavailable', () => {
    const d = (ru: unknown) => ds({}, { type: 'RollingUpdate', rollingUpdate: ru });
    assert.deepEqual(updateBounds(d({ maxUnavailable: '25%', maxSurge: 0 }), 10), { maxSurge: 0, maxUnavailable: 3 });
    assert.deepEqual(updateBounds(d({ maxUnavailable: 0, maxSurge: 0 }), 10), { maxSurge: 0, maxUnavailable: 1 });
    assert.deepEqual(updateBounds(d({ maxUnavailable: 0, maxSurge: '10%' }), 5), { maxSurge: 1, maxUnavailable: 0 });
  });

  test('maxUnavailable: deletes that many old pods, counting new pods that are not ready yet', () => {
    const d = ds({}, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 2, maxSurge: 0 } });
    const old = nodes.map((n) => pod(n.metadata.name ?? '', { hash: 'old' }));
    assert.equal(rollingUpdate(input(d, nodes, old)).deletePods.length, 2);
    const mid = [pod('a', { ready: false }), pod('b', { hash: 'old' }), pod('c', { hash: 'old' }), pod('d', { hash: 'old' })];
    assert.equal(rollingUpdate(input(d, nodes, mid)).deletePods.length, 1);
    const unavailableOld = [pod('a', { ready: false }), pod('b', { ready: false }), pod('c', { hash: 'old', ready: false }), pod('d', { hash: 'old' })];
    assert.deepEqual(names(rollingUpdate(input(d, nodes, unavailableOld)).deletePods), ['c:old'], 'an unavailable old pod is replaced regardless');
  });

  test('maxSurge: starts new pods next to available old ones, and deletes an old one once its replacement is available', () => {
    const d = ds({}, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
    const old = nodes.map((n) => pod(n.metadata.name ?? '', { hash: 'old' }));
    assert.deepEqual(rollingUpdate(input(d, nodes, old)).createOn, ['a']);
    const surged = [...old, pod('a', { ready: false })];
    assert.deepEqual(rollingUpdate(input(d, nodes, surged)), { createOn: [], deletePods: [], failedPods: [] });
    const replaced = [...old, pod('a')];
    const next = rollingUpdate(input(d, nodes, replaced));
    assert.deepEqual(names(next.deletePods), ['a:old']);
    assert.deepEqual(next.createOn, ['b']);
  });
});

describe('status', () => {
  test('desired, current, ready, available, updated, misscheduled and unavailable', () => {
    const nodes = [node('a'), node('b'), node('c'), node('x', { taints: [{ key: 'k', effect: 'NoSchedule' }] })];
    const pods = [pod('a'), pod('b', { hash: 'old' }), pod('x')];
    const { status } = daemonSetStatus({ ...input(ds(), nodes, pods), collisionCount: 0 });
    assert.deepEqual(status, {
      observedGeneration: 1,
      desiredNumberScheduled: 3,
      currentNumberScheduled: 2,
      numberMisscheduled: 1,
      numberReady: 2,
      numberAvailable: 2,
      updatedNumberScheduled: 1,
      numberUnavailable: 1,
      collisionCount: 0,
    });
  });
});
