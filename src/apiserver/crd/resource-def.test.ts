import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../api/types.ts';
import { cronTab, destinationRule } from './fixtures.test-helpers.ts';
import { resourceDefFromCrd, schemaOf } from './resource-def.ts';
import { compareKubeAwareVersions, sortByVersionPriority } from './versions.ts';

describe('version priority', () => {
  test('GA > beta > alpha, then by number; other names last', () => {
    assert.deepEqual(sortByVersionPriority(['v1alpha1', 'foo', 'v1beta1', 'v2beta1', 'v1', 'v1beta2', 'v2', 'bar']), [
      'v2',
      'v1',
      'v2beta1',
      'v1beta2',
      'v1beta1',
      'v1alpha1',
      'bar',
      'foo',
    ]);
    assert.ok(compareKubeAwareVersions('v10', 'v9') > 0);
  });
});

describe('resourceDefFromCrd', () => {
  test('names, scope, served versions by priority, storage, subresources', () => {
    const crd = destinationRule();
    crd.spec.versions[0].served = false;
    const def = resourceDefFromCrd(crd);
    assert.equal(def.group, 'networking.istio.io');
    assert.equal(def.kind, 'DestinationRule');
    assert.equal(def.listKind, 'DestinationRuleList');
    assert.equal(def.plural, 'destinationrules');
    assert.equal(def.singular, 'destinationrule');
    assert.equal(def.namespaced, true);
    assert.deepEqual(def.shortNames, ['dr']);
    assert.deepEqual(def.categories, ['istio-io', 'networking-istio-io']);
    assert.deepEqual(def.versions, ['v1', 'v1beta1']);
    assert.equal(def.storageVersion, 'v1');
    assert.deepEqual(def.subresources, { status: true });
    assert.deepEqual(
      def.strategy.columns.map((c) => c.name),
      ['Host', 'Age'],
    );
    assert.equal(def.custom, true);
    assert.equal(schemaOf(crd, 'v1beta1')?.properties?.spec.required?.[0], 'host');
    assert.equal(schemaOf(crd, 'v9'), undefined);
  });

  test('scale subresource and a strategy that prunes, defaults and validates per version', () => {
    const def = resourceDefFromCrd(cronTab());
    assert.deepEqual(def.subresources.scale, {
      specReplicasPath: '.spec.replicas',
      statusReplicasPath: '.status.replicas',
    });
    const obj: KubeObject = {
      apiVersion: 'stable.example.com/v1',
      kind: 'CronTab',
      metadata: { name: 'c' },
      spec: { cronSpec: '* * * * *', junk: 1 },
    };
    def.strategy.defaults!(obj, 'v1');
    assert.deepEqual(obj.spec, { cronSpec: '* * * * *', replicas: 1 });
    assert.deepEqual(def.strategy.validateIn!(obj, 'v1', undefined), []);
    obj.spec.replicas = -1;
    assert.deepEqual(
      def.strategy.validateIn!(obj, 'v1', undefined).map((c) => `${c.field}: ${c.message}`),
      [
        'spec.replicas: Invalid value: -1: spec.replicas in body should be greater than or equal to 1',
        '.spec.replicas: Invalid value: -1: should be a non-negative integer',
      ],
    );
  });

  test('with the status subresource, create drops status and main updates keep the old one', () => {
    const def = resourceDefFromCrd(cronTab());
    const created: KubeObject = { metadata: { name: 'c' }, spec: {}, status: { replicas: 5 } };
    def.strategy.prepareForCreate!(created);
    assert.equal(created.status, undefined);
    const updated: KubeObject = { metadata: { name: 'c' }, spec: {}, status: { replicas: 9 } };
    def.strategy.prepareForUpdate!(updated, { metadata: { name: 'c' }, spec: {}, status: { replicas: 2 } });
    assert.deepEqual(updated.status, { replicas: 2 });
    const noStatus = cronTab();
    delete noStatus.spec.versions[0].subresources;
    const plain = resourceDefFromCrd(noStatus);
    const u: KubeObject = { metadata: { name: 'c' }, status: { replicas: 9 } };
    plain.strategy.prepareForUpdate?.(u, { metadata: { name: 'c' } });
    assert.deepEqual(u.status, { replicas: 9 });
  });

  test('cells come from the storage version columns', () => {
    const def = resourceDefFromCrd(cronTab());
    const now = new Date('2025-01-01T00:10:00Z');
    const cells = def.strategy.cells(
      { metadata: { creationTimestamp: '2025-01-01T00:00:00Z' }, spec: { cronSpec: '*', replicas: 2 } },
      now,
    );
    assert.deepEqual(cells, ['*', 2, '10m']);
  });
});
