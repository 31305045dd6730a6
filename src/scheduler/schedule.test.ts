import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../api/types.ts';
import { matchesNodeSelectorAndAffinity, untoleratedTaint } from './affinity.ts';
import { SchedulerCache } from './cache.ts';
import { fitErrorMessage } from './filters.ts';
import { podRequests } from './resources.ts';
import { feasibleNodesToFind, schedulePod } from './schedule.ts';
import { balancedAllocationScore, leastAllocatedScore } from './scores.ts';

const ready = [{ type: 'Ready', status: 'True' }];

function node(name: string, opts: { cpu?: string; labels?: Record<string, string>; spec?: KubeObject['spec']; notReady?: boolean } = {}): KubeObject {
  return {
    metadata: { name, labels: { 'kubernetes.io/hostname': name, ...opts.labels } },
    spec: opts.spec ?? {},
    status: {
      allocatable: { cpu: opts.cpu ?? '4', memory: '8Gi', pods: '110' },
      conditions: opts.notReady ? [{ type: 'Ready', status: 'False' }] : ready,
    },
  };
}

function pod(name: string, spec: KubeObject['spec'] = {}, meta: Partial<KubeObject['metadata']> = {}): KubeObject {
  return { metadata: { name, namespace: 'default', uid: `uid-${name}`, ...meta }, spec: { containers: [{ name: 'c' }], ...spec } };
}

const cpu = (amount: string) => ({ containers: [{ name: 'c', resources: { requests: { cpu: amount } } }] });

function cluster(...nodes: KubeObject[]): SchedulerCache {
  const cache = new SchedulerCache();
  for (const n of nodes) cache.setNode(n);
  return cache;
}

const place = (cache: SchedulerCache, p: KubeObject) => schedulePod(p, cache, { startIndex: 0, random: () => 0.5 });

describe('resources', () => {
  test('requests: containers summed, init containers maxed, sidecars added, limits stand in', () => {
    const r = podRequests(pod('p', {
      containers: [
        { name: 'a', resources: { requests: { cpu: '250m', memory: '64Mi' } } },
        { name: 'b', resources: { limits: { cpu: '500m' } } },
      ],
      initContainers: [{ name: 'i', resources: { requests: { cpu: '2' } } }],
    }));
    assert.equal(r.cpu, 2000);
    assert.equal(r.memory, 64 * 1024 * 1024);
    assert.equal(r.pods, 1);
    const sidecar = podRequests(pod('p', {
      containers: [{ name: 'a', resources: { requests: { cpu: '1' } } }],
      initContainers: [{ name: 's', restartPolicy: 'Always', resources: { requests: { cpu: '1' } } }],
    }));
    assert.equal(sidecar.cpu, 2000);
    assert.equal(podRequests(pod('p'), { nonZero: true }).cpu, 100, 'request-less containers count 100m when scoring');
  });
});

describe('filters', () => {
  test('insufficient cpu gives the kube-scheduler message', () => {
    const result = place(cluster(node('n1')), pod('big', cpu('8')));
    assert.equal(result.node, undefined);
    assert.equal(
      'message' in result && result.message,
      '0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.',
    );
  });

  test('mixed reasons are counted and sorted; unresolvable ones are not helped by preemption', () => {
    const cache = cluster(
      node('a', { spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] } }),
      node('b', { spec: { taints: [{ key: 'dedicated', value: 'db', effect: 'NoSchedule' }] } }),
      node('c'),
    );
    const result = place(cache, pod('p', { nodeSelector: { disk: 'ssd' } }));
    assert.equal(
      'message' in result && result.message,
      "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 node(s) had untolerated taint {dedicated: db}. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    );
  });

  test('cordoned and not-ready nodes are skipped unless tolerated', () => {
    const cache = cluster(node('cordoned', { spec: { unschedulable: true } }), node('down', { notReady: true }));
    const result = place(cache, pod('p'));
    assert.equal(
      'message' in result && result.message,
      "0/2 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, 1 node(s) were unschedulable. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
    );
    const tolerant = pod('t', { tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] });
    assert.equal(place(cache, tolerant).node, 'cordoned');
  });

  test('tolerations: Equal, Exists, empty key', () => {
    const tainted = node('n', { spec: { taints: [{ key: 'gpu', value: 'yes', effect: 'NoExecute' }] } });
    assert.ok(untoleratedTaint(pod('p'), tainted));
    assert.equal(untoleratedTaint(pod('p', { tolerations: [{ key: 'gpu', value: 'yes', effect: 'NoExecute' }] }), tainted), undefined);
    assert.ok(untoleratedTaint(pod('p', { tolerations: [{ key: 'gpu', value: 'no' }] }), tainted));
    assert.equal(untoleratedTaint(pod('p', { tolerations: [{ key: 'gpu', operator: 'Exists' }] }), tainted), undefined);
    assert.equal(untoleratedTaint(pod('p', { tolerations: [{ operator: 'Exists' }] }), tainted), undefined);
  });

  test('node affinity operators', () => {
    const n = node('n', { labels: { zone: 'a', cores: '8' } });
    const affinity = (expr: object) => pod('p', {
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [expr] }] } } },
    });
    assert.ok(matchesNodeSelectorAndAffinity(affinity({ key: 'zone', operator: 'In', values: ['a', 'b'] }), n));
    assert.ok(!matchesNodeSelectorAndAffinity(affinity({ key: 'zone', operator: 'NotIn', values: ['a'] }), n));
    assert.ok(matchesNodeSelectorAndAffinity(affinity({ key: 'zone', operator: 'Exists' }), n));
    assert.ok(matchesNodeSelectorAndAffinity(affinity({ key: 'gpu', operator: 'DoesNotExist' }), n));
    assert.ok(matchesNodeSelectorAndAffinity(affinity({ key: 'cores', operator: 'Gt', values: ['4'] }), n));
    assert.ok(!matchesNodeSelectorAndAffinity(affinity({ key: 'cores', operator: 'Lt', values: ['4'] }), n));
  });

  test('host ports conflict on the same node', () => {
    const cache = cluster(node('a'), node('b'));
    const web = (name: string) => pod(name, { containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort: 8080 }] }] });
    const first = place(cache, web('w1'));
    assert.ok(first.node);
    cache.assume(web('w1'), first.node);
    const second = place(cache, web('w2'));
    assert.ok(second.node && second.node !== first.node);
    cache.assume(web('w2'), second.node);
    const third = place(cache, web('w3'));
    assert.match('message' in third ? third.message : '', /2 node\(s\) didn't have free ports for the requested pod ports/);
  });

  test('pod anti-affinity on hostname keeps replicas apart; affinity brings them together', () => {
    const cache = cluster(node('a'), node('b'));
    const anti = (name: string) => pod(name, {
      affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'kubernetes.io/hostname' }] } },
    }, { labels: { app: 'db' } });
    const one = place(cache, anti('db-1'));
    cache.assume(anti('db-1'), one.node!);
    const two = place(cache, anti('db-2'));
    assert.ok(two.node && two.node !== one.node);
    cache.assume(anti('db-2'), two.node);
    const three = place(cache, anti('db-3'));
    assert.match('message' in three ? three.message : '', /2 node\(s\) didn't match pod anti-affinity rules/);
    // A plain pod with the label is refused too: the existing pods' anti-affinity forbids it.
    const plain = place(cache, pod('x', {}, { labels: { app: 'db' } }));
    assert.match('message' in plain ? plain.message : '', /didn't satisfy existing pods anti-affinity rules/);
    const near = pod('cache', {
      affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'kubernetes.io/hostname' }] } },
    });
    assert.ok([one.node, two.node].includes(place(cache, near).node));
  });

  test('resources fill up: assumed pods are counted', () => {
    const cache = cluster(node('a', { cpu: '2' }));
    const p1 = pod('p1', cpu('1500m'));
    assert.equal(place(cache, p1).node, 'a');
    cache.assume(p1, 'a');
    assert.equal(place(cache, pod('p2', cpu('1'))).node, undefined);
    cache.forget('default/p1');
    assert.equal(place(cache, pod('p2', cpu('1'))).node, 'a');
  });
});

describe('scores', () => {
  test('least allocated and balanced prefer the emptier, evener node', () => {
    const cache = cluster(node('busy'), node('idle'));
    cache.assume(pod('x', cpu('3')), 'busy');
    const req = podRequests(pod('p'), { nonZero: true });
    assert.ok(leastAllocatedScore(req, cache.node('idle')!) > leastAllocatedScore(req, cache.node('busy')!));
    assert.ok(balancedAllocationScore(req, cache.node('idle')!) > balancedAllocationScore(req, cache.node('busy')!));
    assert.equal(place(cache, pod('p')).node, 'idle');
  });

  test('replicas of one owner spread across nodes', () => {
    const cache = cluster(node('a'), node('b'), node('c'));
    const owner = [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'rs-1', controller: true }];
    const counts = new Map<string, number>();
    for (let i = 0; i < 6; i++) {
      const p = pod(`web-${i}`, {}, { ownerReferences: owner });
      const result = place(cache, p);
      cache.assume(p, result.node!);
      counts.set(result.node!, (counts.get(result.node!) ?? 0) + 1);
    }
    assert.deepEqual([...counts.values()], [2, 2, 2]);
  });

  test('preferred node affinity and PreferNoSchedule taints steer the choice', () => {
    const cache = cluster(node('plain'), node('ssd', { labels: { disk: 'ssd' } }));
    const prefers = pod('p', {
      affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [{ weight: 50, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } }] } },
    });
    assert.equal(place(cache, prefers).node, 'ssd');
    const soft = cluster(node('tainted', { spec: { taints: [{ key: 'x', effect: 'PreferNoSchedule' }] } }), node('clean'));
    assert.equal(place(soft, pod('q')).node, 'clean');
  });
});

describe('large clusters', () => {
  test('feasible nodes to find follows the adaptive percentage', () => {
    assert.equal(feasibleNodesToFind(50), 50);
    assert.equal(feasibleNodesToFind(100), 100);
    assert.equal(feasibleNodesToFind(1000), 420);
    assert.equal(feasibleNodesToFind(5000), 500);
    assert.equal(feasibleNodesToFind(20000), 1000);
  });

  test('no nodes at all', () => {
    assert.equal(fitErrorMessage(pod('p'), 0, []), '0/0 nodes are available.');
    assert.match(fitErrorMessage(pod('p', { preemptionPolicy: 'Never' }), 1, [{ reasons: ['Insufficient cpu'], resolvable: true }]), /preemption: not eligible due to preemptionPolicy=Never\.$/);
  });
});
