import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSchemaSource } from './index.ts';

test('built-in roots by GVK, including legacy workload versions', () => {
  const source = createSchemaSource();
  const started = performance.now();
  const pod = source.root('', 'v1', 'Pod');
  const elapsed = performance.now() - started;
  assert.ok(pod?.properties?.spec);
  assert.ok(elapsed < 500, `first load took ${elapsed} ms`);
  assert.equal(source.rootName('apps', 'v1', 'Deployment'), 'io.k8s.api.apps.v1.Deployment');
  assert.equal(source.rootName('events.k8s.io', 'v1', 'Event'), 'io.k8s.api.events.v1.Event');
  assert.equal(source.rootName('', 'v1', 'Event'), 'io.k8s.api.core.v1.Event');
  assert.equal(source.rootName('autoscaling', 'v1', 'Scale'), 'io.k8s.api.autoscaling.v1.Scale');
  // rollbackTo existed in apps/v1beta1 and extensions/v1beta1, not in apps/v1beta2.
  const ext = source.root('extensions', 'v1beta1', 'Deployment')!;
  assert.ok(source.resolve(ext.properties!.spec).properties!.rollbackTo);
  const beta2 = source.root('apps', 'v1beta2', 'Deployment')!;
  assert.equal(source.resolve(beta2.properties!.spec).properties!.rollbackTo, undefined);
  assert.ok(source.root('extensions', 'v1beta1', 'DaemonSet'));
  assert.ok(source.root('apps', 'v1beta2', 'ReplicaSetList'));
  const beta1 = source.resolve(source.root('apps', 'v1beta1', 'Deployment')!.properties!.spec);
  assert.ok(beta1.properties!.rollbackTo);
  assert.equal(beta1.required, undefined);
  assert.equal(source.root('apps', 'v1', 'Nope'), undefined);
});

test('resolve follows $ref and single-element allOf; list semantics are on the definitions', () => {
  const source = createSchemaSource();
  const spec = source.resolve({ allOf: [{ $ref: '#/components/schemas/io.k8s.api.core.v1.PodSpec' }] });
  assert.equal(spec.properties!.volumes['x-kubernetes-patch-strategy'], 'merge,retainKeys');
  const meta = source.resolve({ $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' });
  assert.equal(meta.properties!.finalizers['x-kubernetes-list-type'], 'set');
  const strategy = source.resolve({ $ref: '#/definitions/io.k8s.api.apps.v1.DeploymentSpec' }).properties!.strategy;
  assert.equal(strategy['x-kubernetes-patch-strategy'], 'retainKeys');
  const ports = source.resolve({ $ref: '#/definitions/io.k8s.api.core.v1.ServiceSpec' }).properties!.ports;
  assert.deepEqual(ports['x-kubernetes-list-map-keys'], ['port', 'protocol']);
  const unknown = { $ref: '#/definitions/nope' };
  assert.equal(source.resolve(unknown), unknown);
});

test('runtime roots can be added, replaced and removed, and bump the generation', () => {
  const source = createSchemaSource();
  const g0 = source.generation();
  source.addRoot('example.com', 'v1', 'Widget', { type: 'object', description: 'one' });
  source.addRoot('example.com', 'v1', 'Widget', { type: 'object', description: 'two' });
  assert.equal(source.root('example.com', 'v1', 'Widget')?.description, 'two');
  assert.equal(source.rootName('example.com', 'v1', 'Widget'), 'com.example.v1.Widget');
  assert.equal(source.roots('example.com', 'v1').length, 1);
  source.removeRoot('example.com', 'v1', 'Widget');
  assert.equal(source.root('example.com', 'v1', 'Widget'), undefined);
  assert.equal(source.generation(), g0 + 3);
});
