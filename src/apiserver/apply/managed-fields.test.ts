import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject, ManagedFieldsEntry } from '../../api/types.ts';
import {
  decodeManagedFields,
  encodeManagedFields,
  MAX_UPDATE_MANAGERS,
  managerFromRequest,
  updateManagedFields,
} from './managed-fields.ts';
import { deepFreeze, deploymentSchema, nginxDeployment, source } from './test-fixtures.ts';

const T0 = new Date('2025-03-01T10:00:00.123Z');
const T1 = new Date('2025-03-01T11:30:00.999Z');

const base = { apiVersion: 'apps/v1', schema: deploymentSchema, source };

/** A created deployment as the server stores it (server-set metadata). */
function created(manager = 'kubectl-create'): KubeObject {
  const obj = nginxDeployment();
  obj.metadata = {
    ...obj.metadata,
    uid: 'u1',
    resourceVersion: '1',
    generation: 1,
    creationTimestamp: '2025-03-01T10:00:00Z',
  };
  return updateManagedFields({ ...base, live: undefined, updated: obj, manager, now: T0 });
}

function entry(obj: KubeObject, manager: string): ManagedFieldsEntry | undefined {
  return obj.metadata.managedFields?.find((e) => e.manager === manager);
}

function withReplicas(obj: KubeObject, replicas: number): KubeObject {
  const next = structuredClone(obj);
  next.spec.replicas = replicas;
  return next;
}

describe('updateManagedFields', () => {
  test('create: the creator owns every field it set, shaped like Kubernetes', () => {
    const obj = created();
    assert.deepEqual(obj.metadata.managedFields, [
      {
        manager: 'kubectl-create',
        operation: 'Update',
        apiVersion: 'apps/v1',
        time: '2025-03-01T10:00:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: {
          'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
          'f:spec': {
            'f:replicas': {},
            'f:selector': {},
            'f:template': {
              'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
              'f:spec': {
                // Kubernetes omits this "." only because Go's empty PodSpec has containers: null.
                'f:containers': {
                  '.': {},
                  'k:{"name":"nginx"}': {
                    '.': {},
                    'f:image': {},
                    'f:name': {},
                    'f:ports': {
                      '.': {},
                      'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} },
                    },
                  },
                },
              },
            },
          },
        },
      },
    ]);
  });

  test('custom resources own added objects as a whole (".")', () => {
    const cr = { apiVersion: 'x.io/v1', kind: 'Thing', metadata: { name: 't' }, spec: { size: 1 } };
    const out = updateManagedFields({
      apiVersion: 'x.io/v1',
      schema: undefined,
      live: undefined,
      updated: cr,
      manager: 'm',
      now: T0,
    });
    assert.deepEqual(out.metadata.managedFields?.[0].fieldsV1, { 'f:spec': { '.': {}, 'f:size': {} } });
  });

  test('an update moves changed fields to the writer; others keep the rest', () => {
    const live = created();
    const out = updateManagedFields({ ...base, live, updated: withReplicas(live, 5), manager: 'kubectl', now: T1 });
    const mine = entry(out, 'kubectl');
    assert.deepEqual(mine?.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
    assert.equal(mine?.time, '2025-03-01T11:30:00Z');
    const creator = entry(out, 'kubectl-create');
    assert.equal(creator?.time, '2025-03-01T10:00:00Z');
    assert.ok(!('f:replicas' in ((creator?.fieldsV1?.['f:spec'] ?? {}) as object)));
    assert.ok('f:selector' in ((creator?.fieldsV1?.['f:spec'] ?? {}) as object));
    // Sorted by time: the older entry first.
    assert.deepEqual(
      out.metadata.managedFields?.map((e) => e.manager),
      ['kubectl-create', 'kubectl'],
    );
  });

  test('removing a field takes it from its owner; an owner left with nothing disappears', () => {
    const live = updateManagedFields({
      ...base,
      live: created(),
      updated: withReplicas(created(), 5),
      manager: 'scaler',
      now: T1,
    });
    const noReplicas = structuredClone(live);
    delete noReplicas.spec.replicas;
    const out = updateManagedFields({ ...base, live, updated: noReplicas, manager: 'editor', now: T1 });
    assert.equal(entry(out, 'scaler'), undefined);
    assert.equal(entry(out, 'editor'), undefined, 'removing nothing but owning nothing: no entry');
  });

  test('Update entries of one manager merge per apiVersion and subresource', () => {
    let obj = created();
    obj = updateManagedFields({ ...base, live: obj, updated: withReplicas(obj, 3), manager: 'kubectl', now: T1 });
    const next = structuredClone(obj);
    next.metadata.labels = { app: 'web', tier: 'front' };
    obj = updateManagedFields({ ...base, live: obj, updated: next, manager: 'kubectl', now: T1 });
    const mine = obj.metadata.managedFields?.filter((e) => e.manager === 'kubectl');
    assert.equal(mine?.length, 1);
    assert.deepEqual(mine?.[0].fieldsV1, {
      'f:metadata': { 'f:labels': { 'f:tier': {} } },
      'f:spec': { 'f:replicas': {} },
    });

    const scaled = updateManagedFields({
      ...base,
      live: obj,
      updated: withReplicas(obj, 4),
      manager: 'kubectl',
      subresource: 'scale',
      now: T1,
    });
    const entries = scaled.metadata.managedFields?.filter((e) => e.manager === 'kubectl');
    assert.equal(entries?.length, 2);
    assert.deepEqual(entries?.find((e) => e.subresource === 'scale')?.fieldsV1, { 'f:spec': { 'f:replicas': {} } });
  });

  test('a write that changes nothing leaves managedFields alone', () => {
    const live = created();
    const out = updateManagedFields({ ...base, live, updated: structuredClone(live), manager: 'other', now: T1 });
    assert.deepEqual(out.metadata.managedFields, live.metadata.managedFields);
  });

  test('server-set metadata and reset fields are never owned', () => {
    const live = created();
    const next = structuredClone(live);
    next.metadata.resourceVersion = '2';
    next.metadata.generation = 2;
    next.status = { replicas: 2 };
    const out = updateManagedFields({
      ...base,
      live,
      updated: next,
      manager: 'kube-controller-manager',
      now: T1,
      resetFields: [['status']],
    });
    assert.equal(entry(out, 'kube-controller-manager'), undefined);
    const viaStatus = updateManagedFields({
      ...base,
      live,
      updated: next,
      manager: 'kcm',
      subresource: 'status',
      now: T1,
    });
    assert.deepEqual(entry(viaStatus, 'kcm'), {
      manager: 'kcm',
      operation: 'Update',
      apiVersion: 'apps/v1',
      time: '2025-03-01T11:30:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:status': { 'f:replicas': {} } },
      subresource: 'status',
    });
  });

  test('an existing object without managedFields stays untracked; [] resets them', () => {
    const untracked = created();
    delete untracked.metadata.managedFields;
    const out = updateManagedFields({
      ...base,
      live: untracked,
      updated: withReplicas(untracked, 9),
      manager: 'x',
      now: T1,
    });
    assert.equal(out.metadata.managedFields, undefined);

    const tracked = created();
    const reset = withReplicas(tracked, 9);
    reset.metadata.managedFields = [];
    assert.equal(
      updateManagedFields({ ...base, live: tracked, updated: reset, manager: 'x', now: T1 }).metadata.managedFields,
      undefined,
    );
  });

  test('managedFields sent by the client replace the live ones', () => {
    const live = created();
    const next = withReplicas(live, 3);
    next.metadata.managedFields = [
      {
        manager: 'someone',
        operation: 'Update',
        apiVersion: 'apps/v1',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:spec': { 'f:paused': {} } },
      },
    ];
    const out = updateManagedFields({ ...base, live, updated: next, manager: 'x', now: T1 });
    assert.deepEqual(
      out.metadata.managedFields?.map((e) => e.manager),
      ['someone', 'x'],
    );
  });

  test('more than the cap of Update managers merges the oldest into ancient-changes', () => {
    let obj = created('m0');
    for (let i = 1; i <= MAX_UPDATE_MANAGERS + 1; i++) {
      const next = structuredClone(obj);
      next.metadata.annotations = { ...next.metadata.annotations, [`a${i}`]: 'x' };
      obj = updateManagedFields({
        ...base,
        live: obj,
        updated: next,
        manager: `m${i}`,
        now: new Date(T0.getTime() + i * 1000),
      });
    }
    const managers = obj.metadata.managedFields?.map((e) => e.manager) ?? [];
    assert.equal(managers.length, MAX_UPDATE_MANAGERS);
    assert.ok(managers.includes('ancient-changes'));
    assert.ok(!managers.includes('m0') && !managers.includes('m1'));
  });

  test('inputs are not mutated', () => {
    const live = deepFreeze(created());
    const next = deepFreeze(withReplicas(live, 7));
    const out = updateManagedFields({ ...base, live, updated: next, manager: 'x', now: T1 });
    assert.equal(out.spec.replicas, 7);
  });
});

describe('managed fields entries', () => {
  test('decode rejects what Kubernetes rejects', () => {
    assert.throws(
      () => decodeManagedFields([{ manager: 'a', operation: 'Update', apiVersion: 'v1' }]),
      /missing fieldsType/,
    );
    assert.throws(() => decodeManagedFields([{ manager: 'a', apiVersion: 'v1', fieldsType: 'FieldsV1' }]), /operation/);
    assert.throws(
      () => decodeManagedFields([{ manager: 'a', operation: 'Apply', fieldsType: 'FieldsV1' }]),
      /apiVersion/,
    );
  });

  test('encode orders Apply before Update, then by time and manager', () => {
    const entries: ManagedFieldsEntry[] = [
      {
        manager: 'b',
        operation: 'Update',
        apiVersion: 'v1',
        time: '2025-01-01T00:00:02Z',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:a': {} },
      },
      {
        manager: 'a',
        operation: 'Update',
        apiVersion: 'v1',
        time: '2025-01-01T00:00:02Z',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:a': {} },
      },
      {
        manager: 'z',
        operation: 'Apply',
        apiVersion: 'v1',
        time: '2025-01-01T00:00:09Z',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:b': {} },
      },
      {
        manager: 'c',
        operation: 'Update',
        apiVersion: 'v1',
        time: '2025-01-01T00:00:01Z',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:c': {} },
      },
    ];
    const out = encodeManagedFields(decodeManagedFields(entries));
    assert.deepEqual(
      out.map((e) => e.manager),
      ['z', 'c', 'a', 'b'],
    );
    assert.deepEqual(out[0], entries[2]);
  });

  test('managerFromRequest: fieldManager, else the User-Agent before "/"', () => {
    assert.equal(managerFromRequest({ fieldManager: 'kubectl-edit', userAgent: 'kubectl/v1.32.0' }), 'kubectl-edit');
    assert.equal(managerFromRequest({ userAgent: 'kubectl/v1.32.0 (linux/amd64) kubernetes/abc' }), 'kubectl');
    assert.equal(
      managerFromRequest({ userAgent: 'kube-controller-manager/v1.32.0 (linux/amd64)/system' }),
      'kube-controller-manager',
    );
    assert.equal(managerFromRequest({}), 'unknown');
    assert.equal(managerFromRequest({ userAgent: 'x'.repeat(300) }).length, 128);
  });
});
