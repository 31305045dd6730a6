// The namespace controller and the garbage collector, driven by real kubectl:
// namespace deletion empties and removes the namespace; --cascade foreground,
// orphan and background behave as in Kubernetes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestServer, eventually, startServer } from './harness.ts';

const json = (obj: unknown) => JSON.stringify(obj);
const namespace = (name: string) => json({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const configMap = (name: string, ns: string, extra: Record<string, unknown> = {}) =>
  json({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, ...extra }, data: { k: 'v' } });
const deployment = (name: string) =>
  json({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
    },
  });

describe('controllers', () => {
  let s: TestServer;
  const exists = async (args: string[]) => (await s.kubectl(['get', ...args, '-o', 'name'])).code === 0;

  /** A Deployment and a ConfigMap owned by it (blockOwnerDeletion), the ConfigMap's uid. */
  const ownedPair = async (name: string, cmExtra: Record<string, unknown> = {}) => {
    await s.k(['create', '-f', '-'], deployment(name));
    const uid = await s.k(['get', 'deploy', name, '-o', 'jsonpath={.metadata.uid}']);
    const ownerReferences = [{ apiVersion: 'apps/v1', kind: 'Deployment', name, uid, controller: true, blockOwnerDeletion: true }];
    await s.k(['create', '-f', '-'], configMap(`${name}-dep`, 'default', { ownerReferences, ...cmExtra }));
    return uid;
  };

  before(async () => {
    s = await startServer();
  });
  after(async () => {
    await s?.stop();
  });

  test('kubectl delete namespace waits until its 50 objects and the namespace are gone', async (t) => {
    await s.k(['create', '-f', '-'], namespace('doomed'));
    const items = [
      ...Array.from({ length: 40 }, (_, i) => JSON.parse(configMap(`cm-${i}`, 'doomed'))),
      ...Array.from({ length: 8 }, (_, i) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: `s-${i}`, namespace: 'doomed' } })),
      { ...JSON.parse(deployment('web')), metadata: { name: 'web', namespace: 'doomed' } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'doomed' }, spec: { ports: [{ port: 80 }] } },
    ];
    await s.k(['create', '-f', '-'], items.map(json).join('\n'));
    const started = Date.now();
    const out = await s.k(['delete', 'namespace', 'doomed', '--timeout=20s']);
    const ms = Date.now() - started;
    t.diagnostic(`kubectl delete namespace with 50 objects: ${ms} ms`);
    assert.match(out, /namespace "doomed" deleted/);
    assert.equal(await exists(['namespace', 'doomed']), false);
    const left = await s.k(['get', 'configmaps,secrets,deployments,services', '-A', '--field-selector', 'metadata.namespace=doomed', '-o', 'name']);
    assert.equal(left.trim(), '');
    assert.ok(ms < 10_000, `namespace deletion took ${ms} ms`);
  });

  test('a terminating namespace reports remaining content and finalizers, and goes once they are released', async () => {
    await s.k(['create', '-f', '-'], namespace('held'));
    await s.k(['create', '-f', '-'], configMap('pinned', 'held', { finalizers: ['example.com/hold'] }));
    await s.k(['delete', 'namespace', 'held', '--wait=false']);
    const conditions = await eventually(async () => {
      const ns = JSON.parse(await s.k(['get', 'namespace', 'held', '-o', 'json']));
      const found = ns.status.conditions?.find((c: { type: string }) => c.type === 'NamespaceFinalizersRemaining');
      return found?.status === 'True' ? ns.status.conditions : undefined;
    }, 10_000, 'NamespaceFinalizersRemaining');
    const byType = Object.fromEntries(conditions.map((c: { type: string }) => [c.type, c]));
    assert.match(byType.NamespaceContentRemaining.message, /configmaps has 1 resource instances/);
    assert.match(byType.NamespaceFinalizersRemaining.message, /example.com\/hold in 1 resource instances/);
    assert.equal(JSON.parse(await s.k(['get', 'namespace', 'held', '-o', 'json'])).status.phase, 'Terminating');
    await s.k(['patch', 'configmap', 'pinned', '-n', 'held', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await eventually(async () => !(await exists(['namespace', 'held'])), 10_000, 'namespace removal');
  });

  test('--cascade=foreground completes after the blocking dependent is gone', async () => {
    await ownedPair('fg');
    const out = await s.k(['delete', 'deploy', 'fg', '--cascade=foreground', '--timeout=20s']);
    assert.match(out, /deployment.apps "fg" deleted/);
    assert.equal(await exists(['deploy', 'fg']), false);
    assert.equal(await exists(['configmap', 'fg-dep']), false);
  });

  test('a foreground-deleted owner stays, with its finalizer, while a blocking dependent is still terminating', async () => {
    await ownedPair('slow', { finalizers: ['example.com/hold'] });
    await s.k(['delete', 'deploy', 'slow', '--cascade=foreground', '--wait=false']);
    await eventually(async () => {
      const dep = JSON.parse(await s.k(['get', 'configmap', 'slow-dep', '-o', 'json']));
      return Boolean(dep.metadata.deletionTimestamp);
    }, 10_000, 'the dependent to be deleted');
    const owner = JSON.parse(await s.k(['get', 'deploy', 'slow', '-o', 'json']));
    assert.ok(owner.metadata.deletionTimestamp);
    assert.deepEqual(owner.metadata.finalizers, ['foregroundDeletion']);
    await s.k(['patch', 'configmap', 'slow-dep', '--type=merge', '-p', '{"metadata":{"finalizers":null}}']);
    await eventually(async () => !(await exists(['deploy', 'slow'])), 10_000, 'owner removal');
  });

  test('--cascade=orphan leaves the dependent with its ownerReference removed', async () => {
    await ownedPair('orph');
    await s.k(['delete', 'deploy', 'orph', '--cascade=orphan', '--timeout=20s']);
    assert.equal(await exists(['deploy', 'orph']), false);
    const dep = JSON.parse(await s.k(['get', 'configmap', 'orph-dep', '-o', 'json']));
    assert.equal(dep.metadata.ownerReferences, undefined);
    assert.equal(dep.metadata.deletionTimestamp, undefined);
  });

  test('default (background) deletion removes the dependent shortly after the owner', async () => {
    await ownedPair('bg');
    await s.k(['delete', 'deploy', 'bg']);
    await eventually(async () => !(await exists(['configmap', 'bg-dep'])), 5000, 'dependent removal');
  });

  test('an object whose owner never existed is collected; one with a live owner is kept', async () => {
    const ghost = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'ghost', uid: '00000000-0000-0000-0000-000000000001' }];
    await s.k(['create', '-f', '-'], configMap('orphaned-at-birth', 'default', { ownerReferences: ghost }));
    await ownedPair('keep');
    await eventually(async () => !(await exists(['configmap', 'orphaned-at-birth'])), 5000, 'dangling dependent removal');
    assert.equal(await exists(['configmap', 'keep-dep']), true);
  });

  test('custom resources: a CRD created now is collected soon, and its objects go with their namespace', async () => {
    await s.k(['apply', '-f', '-'], json({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'widgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { plural: 'widgets', singular: 'widget', kind: 'Widget' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    }));
    await s.k(['create', '-f', '-'], namespace('widgets'));
    const widget = (name: string, ownerReferences?: unknown[]) =>
      json({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name, namespace: 'widgets', ownerReferences } });
    await eventually(async () => (await s.kubectl(['create', '-f', '-'], { input: widget('owner') })).code === 0, 10_000, 'CRD served');
    const uid = await s.k(['get', 'widget', 'owner', '-n', 'widgets', '-o', 'jsonpath={.metadata.uid}']);
    await s.k(['create', '-f', '-'], widget('child', [{ apiVersion: 'example.com/v1', kind: 'Widget', name: 'owner', uid, blockOwnerDeletion: true }]));
    await s.k(['create', '-f', '-'], widget('other'));
    const started = Date.now();
    await s.k(['delete', 'widget', 'owner', '-n', 'widgets', '--cascade=foreground', '--timeout=20s']);
    assert.ok(Date.now() - started < 5000, `foreground deletion of a custom resource took ${Date.now() - started} ms`);
    assert.equal(await exists(['widget', 'child', '-n', 'widgets']), false);
    await s.k(['delete', 'namespace', 'widgets', '--timeout=20s']);
    assert.equal((await s.k(['get', 'widgets', '-A', '-o', 'name'])).trim(), '');
  });
});
