import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DiscoveredResource } from '../client/index.ts';
import { blockingDependents, decideForDependent, GcGraph, type GcNode, type OwnerState, ownerStateOf } from './gc-graph.ts';

const cm: DiscoveredResource = { group: '', version: 'v1', resource: 'configmaps', namespaced: true, kind: 'ConfigMap', verbs: [], preferred: true };
const deployApps: DiscoveredResource = { group: 'apps', version: 'v1', resource: 'deployments', namespaced: true, kind: 'Deployment', verbs: [], preferred: true };
const deployExt: DiscoveredResource = { ...deployApps, group: 'extensions', version: 'v1beta1' };

const node = (uid: string, owners: { uid: string; block?: boolean }[] = [], extra: Partial<GcNode> = {}): GcNode => ({
  uid,
  namespace: 'ns',
  name: uid,
  resource: cm,
  owners: owners.map((o) => ({ apiVersion: 'apps/v1', kind: 'Deployment', name: o.uid, uid: o.uid, blockOwnerDeletion: o.block })),
  finalizers: [],
  deleting: false,
  ...extra,
});

describe('GcGraph', () => {
  test('tracks dependents by owner uid through updates and removals', () => {
    const g = new GcGraph();
    g.upsert(node('d1', [{ uid: 'o1' }, { uid: 'o2' }]));
    g.upsert(node('d2', [{ uid: 'o1', block: true }]));
    assert.deepEqual(g.dependentsOf('o1').map((n) => n.uid).sort(), ['d1', 'd2']);
    assert.deepEqual(blockingDependents(g, 'o1').map((n) => n.uid), ['d2']);
    assert.deepEqual(g.upsert(node('d1', [{ uid: 'o2' }])), ['o1'], 'reports owners let go of');
    assert.deepEqual(g.dependentsOf('o1').map((n) => n.uid), ['d2']);
    assert.equal(g.remove('d2', cm)?.uid, 'd2');
    assert.deepEqual(g.dependentsOf('o1'), []);
  });

  test('an object served under two groups is one node, gone only when gone from both', () => {
    const g = new GcGraph();
    g.upsert(node('dep', [], { resource: deployApps }));
    g.upsert(node('dep', [], { resource: deployExt }));
    assert.equal(g.size, 1);
    assert.equal(g.get('dep')?.resource.group, 'apps', 'keeps the first resource');
    assert.equal(g.remove('dep', deployExt), undefined);
    assert.equal(g.remove('dep', deployApps)?.uid, 'dep');
    assert.equal(g.size, 0);
  });
});

describe('garbage collection decisions', () => {
  const states = (entries: [string, OwnerState][]) => new Map(entries);

  test('owner states: absent is dangling, foreground-deleting is waiting, anything else solid', () => {
    assert.equal(ownerStateOf(undefined), 'dangling');
    assert.equal(ownerStateOf({ deleting: true, finalizers: ['foregroundDeletion'] }), 'waiting');
    assert.equal(ownerStateOf({ deleting: true, finalizers: ['example.com/x'] }), 'solid');
    assert.equal(ownerStateOf({ deleting: false, finalizers: [] }), 'solid');
  });

  test('all owners gone: delete in the background, or as the dependent own finalizers say', () => {
    assert.deepEqual(decideForDependent(node('d', [{ uid: 'o' }]), states([['o', 'dangling']]), false), { kind: 'delete', propagation: 'Background' });
    assert.deepEqual(decideForDependent(node('d', [{ uid: 'o' }], { finalizers: ['orphan'] }), states([['o', 'dangling']]), false), {
      kind: 'delete',
      propagation: 'Orphan',
    });
  });

  test('an owner waiting in the foreground: a dependent with dependents of its own goes in the foreground too', () => {
    assert.deepEqual(decideForDependent(node('d', [{ uid: 'o' }]), states([['o', 'waiting']]), true), { kind: 'delete', propagation: 'Foreground' });
    assert.deepEqual(decideForDependent(node('d', [{ uid: 'o' }]), states([['o', 'waiting']]), false), { kind: 'delete', propagation: 'Background' });
  });

  test('a solid owner keeps the dependent; references to gone or waiting owners are dropped', () => {
    const d = node('d', [{ uid: 'a' }, { uid: 'b' }, { uid: 'c' }]);
    assert.deepEqual(decideForDependent(d, states([['a', 'solid'], ['b', 'dangling'], ['c', 'waiting']]), false), { kind: 'removeOwners', uids: ['b', 'c'] });
    assert.deepEqual(decideForDependent(d, states([['a', 'solid'], ['b', 'solid'], ['c', 'solid']]), false), { kind: 'none' });
  });

  test('an owner of unknown kind (no state) counts as present; objects being deleted are left alone', () => {
    const d = node('d', [{ uid: 'a' }, { uid: 'b' }]);
    assert.deepEqual(decideForDependent(d, states([['a', 'dangling']]), false), { kind: 'removeOwners', uids: ['a'] });
    assert.deepEqual(decideForDependent(node('d', [{ uid: 'o' }], { deleting: true }), states([['o', 'dangling']]), false), { kind: 'none' });
  });
});
