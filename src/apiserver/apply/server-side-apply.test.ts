import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError } from '../../api/errors.ts';
import type { KubeObject } from '../../api/types.ts';
import type { ResourceDef } from '../registry/types.ts';
import { updateManagedFields } from './managed-fields.ts';
import { LAST_APPLIED_ANNOTATION, type ServerSideApplyOptions, serverSideApply } from './server-side-apply.ts';
import { deepFreeze, deploymentSchema, nginxDeployment, source } from './test-fixtures.ts';

const T0 = new Date('2025-03-01T10:00:00Z');
const T1 = new Date('2025-03-01T11:00:00Z');
const T2 = new Date('2025-03-01T12:00:00Z');

type Opts = Partial<ServerSideApplyOptions> & Pick<ServerSideApplyOptions, 'live' | 'applied'>;
const apply = (o: Opts): KubeObject =>
  serverSideApply({ manager: 'kubectl', apiVersion: 'apps/v1', now: T0, schema: deploymentSchema, source, ...o });

/** Stored form: what the object service adds after create. */
const stored = (obj: KubeObject): KubeObject => ({
  ...obj,
  metadata: { ...obj.metadata, uid: 'u1', resourceVersion: '1' },
});

function applyError(fn: () => unknown): ApiError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  assert.fail('expected an ApiError');
}

const fieldsOf = (obj: KubeObject, manager: string, operation = 'Apply') =>
  obj.metadata.managedFields?.find((e) => e.manager === manager && e.operation === operation)?.fieldsV1;

describe('serverSideApply', () => {
  test('applying to a missing object creates it, owned by the applier', () => {
    const out = apply({ live: undefined, applied: nginxDeployment() });
    const { managedFields, ...metadata } = out.metadata;
    assert.deepEqual({ ...out, metadata }, nginxDeployment());
    assert.deepEqual(managedFields, [
      {
        manager: 'kubectl',
        operation: 'Apply',
        apiVersion: 'apps/v1',
        time: '2025-03-01T10:00:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { 'f:app': {} } },
              'f:spec': {
                'f:containers': {
                  'k:{"name":"nginx"}': {
                    '.': {},
                    'f:image': {},
                    'f:name': {},
                    'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
                  },
                },
              },
            },
          },
        },
      },
    ]);
  });

  test('re-applying the same configuration changes nothing (not even the time)', () => {
    const live = stored(apply({ live: undefined, applied: nginxDeployment() }));
    const again = apply({ live, applied: nginxDeployment(), now: T1 });
    assert.deepEqual(again, live);
  });

  test('fields dropped from the configuration are removed from the object', () => {
    const first = nginxDeployment();
    first.metadata.labels = { app: 'web', tier: 'front' };
    first.spec.template.spec.containers[0].env = [
      { name: 'A', value: '1' },
      { name: 'B', value: '2' },
    ];
    const live = stored(apply({ live: undefined, applied: first }));
    const second = nginxDeployment();
    delete second.spec.replicas;
    second.spec.template.spec.containers[0].env = [{ name: 'B', value: '2' }];
    const out = apply({ live, applied: second, now: T1 });
    assert.deepEqual(out.metadata.labels, { app: 'web' });
    assert.equal(out.spec.replicas, undefined);
    assert.deepEqual(out.spec.template.spec.containers[0].env, [{ name: 'B', value: '2' }]);
    assert.equal(out.metadata.managedFields?.[0].time, '2025-03-01T11:00:00Z');
  });

  test('a dropped field another manager also owns stays', () => {
    const live = stored(apply({ live: undefined, applied: nginxDeployment() }));
    const shared = apply({
      live,
      applied: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', labels: { app: 'web' } } },
      manager: 'labeler',
      now: T1,
    });
    const withoutLabels = nginxDeployment();
    delete withoutLabels.metadata.labels;
    const out = apply({ live: shared, applied: withoutLabels, now: T2 });
    assert.deepEqual(out.metadata.labels, { app: 'web' });
    assert.deepEqual(fieldsOf(out, 'labeler'), { 'f:metadata': { 'f:labels': { 'f:app': {} } } });
    assert.equal((fieldsOf(out, 'kubectl')?.['f:metadata'] as object | undefined) ?? 'none', 'none');
  });

  test('two managers setting the same value share it without conflict', () => {
    const live = stored(apply({ live: undefined, applied: nginxDeployment() }));
    const mine = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { replicas: 2 } };
    const out = apply({ live, applied: mine, manager: 'autoscaler', now: T1 });
    assert.deepEqual(fieldsOf(out, 'autoscaler'), { 'f:spec': { 'f:replicas': {} } });
    assert.ok('f:replicas' in ((fieldsOf(out, 'kubectl')?.['f:spec'] ?? {}) as object));
    assert.equal(out.spec.replicas, 2);
  });

  test('a different value for another manager’s field is a 409 Conflict in Kubernetes’ words', () => {
    const live = stored(apply({ live: undefined, applied: nginxDeployment() }));
    const err = applyError(() => apply({ live, applied: nginxDeployment({ replicas: 3 }), manager: 'other' }));
    assert.equal(err.code, 409);
    assert.equal(err.reason, 'Conflict');
    assert.equal(err.message, 'Apply failed with 1 conflict: conflict with "kubectl": .spec.replicas');
    assert.deepEqual(err.details?.causes, [
      { reason: 'FieldManagerConflict', message: 'conflict with "kubectl"', field: '.spec.replicas' },
    ]);

    const err2 = applyError(() =>
      apply({ live, applied: nginxDeployment({ replicas: 3, image: 'nginx:2' }), manager: 'other' }),
    );
    assert.equal(
      err2.message,
      'Apply failed with 2 conflicts: conflicts with "kubectl":\n- .spec.replicas\n- .spec.template.spec.containers[name="nginx"].image',
    );
    assert.equal(err2.details?.causes?.length, 2);
  });

  test('force moves conflicting fields to the applier', () => {
    const live = stored(apply({ live: undefined, applied: nginxDeployment() }));
    const out = apply({ live, applied: nginxDeployment({ replicas: 3 }), manager: 'other', force: true, now: T1 });
    assert.equal(out.spec.replicas, 3);
    assert.ok(!('f:replicas' in ((fieldsOf(out, 'kubectl')?.['f:spec'] ?? {}) as object)));
    assert.ok('f:replicas' in ((fieldsOf(out, 'other')?.['f:spec'] ?? {}) as object));
  });

  test('associative lists merge by key; sets union', () => {
    const first = nginxDeployment();
    first.metadata.finalizers = ['a.example/x'];
    const live = stored(apply({ live: undefined, applied: first }));
    const sidecar = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', finalizers: ['b.example/y'] },
      spec: { template: { spec: { containers: [{ name: 'proxy', image: 'envoy' }] } } },
    };
    const out = apply({ live, applied: sidecar, manager: 'injector', now: T1 });
    assert.deepEqual(out.metadata.finalizers, ['a.example/x', 'b.example/y']);
    assert.deepEqual(
      out.spec.template.spec.containers.map((c: { name: string }) => c.name),
      ['nginx', 'proxy'],
    );
    // kubectl re-applies with a new image: the injected container stays.
    const again = apply({ live: out, applied: nginxDeployment({ image: 'nginx:1.28' }), now: T2 });
    assert.deepEqual(
      again.spec.template.spec.containers.map((c: { name: string; image: string }) => `${c.name}=${c.image}`),
      ['nginx=nginx:1.28', 'proxy=envoy'],
    );
    // kubectl's finalizer was pruned (it applied it before, not now); the injector's stays.
    assert.deepEqual(again.metadata.finalizers, ['b.example/y']);
  });

  test('kubectl scale (Update via /scale) owns replicas; a later apply with other replicas conflicts', () => {
    const live = stored(apply({ live: undefined, applied: nginxDeployment() }));
    const scaledObj = structuredClone(live);
    scaledObj.spec.replicas = 5;
    const scaled = updateManagedFields({
      live,
      updated: scaledObj,
      manager: 'kubectl',
      apiVersion: 'apps/v1',
      subresource: 'scale',
      now: T1,
      schema: deploymentSchema,
      source,
    });
    assert.deepEqual(fieldsOf(scaled, 'kubectl', 'Update'), { 'f:spec': { 'f:replicas': {} } });
    assert.ok(
      !('f:replicas' in ((fieldsOf(scaled, 'kubectl')?.['f:spec'] ?? {}) as object)),
      'the applier lost replicas',
    );
    const err = applyError(() => apply({ live: scaled, applied: nginxDeployment({ replicas: 2 }), now: T2 }));
    assert.equal(
      err.message,
      'Apply failed with 1 conflict: conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas',
    );
    // Same value as live: shared, no conflict.
    assert.equal(apply({ live: scaled, applied: nginxDeployment({ replicas: 5 }), now: T2 }).spec.replicas, 5);
  });

  test('an object nobody tracked belongs to before-first-apply', () => {
    const untracked = stored(nginxDeployment());
    const err = applyError(() => apply({ live: untracked, applied: nginxDeployment({ replicas: 4 }) }));
    assert.equal(
      err.message,
      'Apply failed with 1 conflict: conflict with "before-first-apply" using apps/v1: .spec.replicas',
    );
  });

  describe('upgrade from client-side apply', () => {
    function csaObject(replicas: number, lastAppliedReplicas: number): KubeObject {
      const config = nginxDeployment({ replicas: lastAppliedReplicas });
      const obj = nginxDeployment({ replicas });
      obj.metadata.annotations = { [LAST_APPLIED_ANNOTATION]: JSON.stringify(config) };
      return stored(
        updateManagedFields({
          live: undefined,
          updated: obj,
          manager: 'kubectl-client-side-apply',
          apiVersion: 'apps/v1',
          now: T0,
          schema: deploymentSchema,
          source,
        }),
      );
    }

    test('fields still as kubectl last applied them move to kubectl silently', () => {
      const out = apply({ live: csaObject(2, 2), applied: nginxDeployment({ replicas: 6 }), now: T1 });
      assert.equal(out.spec.replicas, 6);
      assert.ok(
        !('f:replicas' in ((fieldsOf(out, 'kubectl-client-side-apply', 'Update')?.['f:spec'] ?? {}) as object)),
      );
      // The annotation follows the applied configuration (Go JSON, newline-terminated).
      const annotation = out.metadata.annotations?.[LAST_APPLIED_ANNOTATION] ?? '';
      assert.ok(annotation.endsWith('}\n'));
      assert.deepEqual(JSON.parse(annotation), nginxDeployment({ replicas: 6 }));
    });

    test('fields whose values drifted from the annotation are conflicts', () => {
      const err = applyError(() =>
        apply({ live: csaObject(5, 2), applied: nginxDeployment({ replicas: 6 }), now: T1 }),
      );
      assert.equal(
        err.message,
        'Apply failed with 1 conflict: conflict with "kubectl-client-side-apply" using apps/v1: .spec.replicas',
      );
      assert.equal(
        apply({ live: csaObject(5, 2), applied: nginxDeployment({ replicas: 6 }), force: true }).spec.replicas,
        6,
      );
    });

    test('other managers get no upgrade', () => {
      const err = applyError(() =>
        apply({ live: csaObject(2, 2), applied: nginxDeployment({ replicas: 6 }), manager: 'helm' }),
      );
      assert.equal(err.code, 409);
    });
  });

  describe('validation (400 BadRequest)', () => {
    const cases: [string, (o: KubeObject) => void, string][] = [
      ['apiVersion', (o) => delete o.apiVersion, 'apiVersion must be set'],
      ['kind', (o) => delete o.kind, 'kind must be set'],
      ['version', (o) => (o.apiVersion = 'apps/v1beta1'), 'invalid object type: apps/v1beta1, Kind=Deployment'],
      [
        'name',
        (o) => (o.metadata.name = 'other'),
        'the name of the object (other) does not match the name on the URL (web)',
      ],
      ['managedFields', (o) => (o.metadata.managedFields = []), 'metadata.managedFields must be nil'],
      [
        'list keys',
        (o) => o.spec.template.spec.containers.push({ image: 'x' }),
        'failed to create typed patch object (default/web; apps/v1, Kind=Deployment): .spec.template.spec.containers: element 1: associative list with keys has an element that omits key field "name"',
      ],
    ];
    for (const [what, mutate, message] of cases) {
      test(what, () => {
        const applied = nginxDeployment();
        mutate(applied);
        const err = applyError(() => apply({ live: undefined, applied, name: 'web', kind: 'Deployment' }));
        assert.equal(err.code, 400);
        assert.equal(err.reason, 'BadRequest');
        assert.equal(err.message, message);
      });
    }
  });

  test('unknown types: maps merge granularly, lists are replaced whole', () => {
    const live = stored(
      serverSideApply({
        live: undefined,
        applied: { apiVersion: 'x.io/v1', kind: 'Thing', metadata: { name: 't' }, spec: { a: 1, list: [1, 2] } },
        manager: 'one',
        apiVersion: 'x.io/v1',
        now: T0,
        schema: undefined,
      }),
    );
    assert.deepEqual(live.metadata.managedFields?.[0].fieldsV1, { 'f:spec': { '.': {}, 'f:a': {}, 'f:list': {} } });
    const out = serverSideApply({
      live,
      applied: { apiVersion: 'x.io/v1', kind: 'Thing', metadata: { name: 't' }, spec: { b: 2, list: [1, 2] } },
      manager: 'two',
      apiVersion: 'x.io/v1',
      now: T1,
      schema: undefined,
    });
    assert.deepEqual(out.spec, { a: 1, list: [1, 2], b: 2 });
  });

  test('inputs are not mutated', () => {
    const live = deepFreeze(stored(apply({ live: undefined, applied: nginxDeployment() })));
    const applied = deepFreeze(nginxDeployment({ replicas: 9 }));
    assert.equal(apply({ live, applied, force: true, manager: 'x' }).spec.replicas, 9);
  });

  test('accepts a resource request (ResourceDef + version + SchemaSource)', () => {
    const def = { group: 'apps', kind: 'Deployment', subresources: { status: true } } as unknown as ResourceDef;
    const applied = nginxDeployment();
    applied.status = { replicas: 1 };
    const out = serverSideApply({
      def,
      version: 'v1',
      schemas: source,
      live: undefined,
      applied,
      manager: 'kubectl',
      force: false,
      subresource: '',
      now: T0,
    });
    assert.ok(!('f:status' in (fieldsOf(out, 'kubectl') ?? {})), 'status is not managed on the main resource');
    assert.ok('f:spec' in (fieldsOf(out, 'kubectl') ?? {}));
  });
});
