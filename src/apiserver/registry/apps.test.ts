import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errors } from '../../api/errors.ts';
import type { KubeObject } from '../../api/types.ts';
import { appsResources, extensionsResources } from './apps.ts';
import { MAX_INT32, ROLLBACK_TO_ANNOTATION, TEMPLATE_GENERATION_ANNOTATION } from './apps-versions.ts';
import type { ResourceDef } from './types.ts';

const apps = Object.fromEntries(appsResources().map((d) => [d.plural, d]));
const ext = Object.fromEntries(extensionsResources().map((d) => [d.plural, d]));

function deployment(spec: object = {}): KubeObject {
  return {
    metadata: { name: 'web', namespace: 'default' },
    spec: { template: { metadata: { labels: { app: 'nginx' } }, spec: { containers: [{ name: 'nginx', image: 'nginx:1.25' }] } }, ...spec },
  };
}

function defaulted(def: ResourceDef, version: string, obj: KubeObject): KubeObject {
  def.strategy.defaults?.(obj, version);
  return obj;
}

describe('Deployment defaults per version', () => {
  test('apps/v1', () => {
    const d = defaulted(apps.deployments, 'v1', deployment({ selector: { matchLabels: { app: 'nginx' } } }));
    assert.equal(d.spec.replicas, 1);
    assert.deepEqual(d.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } });
    assert.equal(d.spec.revisionHistoryLimit, 10);
    assert.equal(d.spec.progressDeadlineSeconds, 600);
    const c = d.spec.template.spec.containers[0];
    assert.equal(c.imagePullPolicy, 'IfNotPresent');
    assert.equal(c.terminationMessagePath, '/dev/termination-log');
    assert.equal(d.spec.template.spec.restartPolicy, 'Always');
    assert.equal(d.spec.template.spec.schedulerName, 'default-scheduler');
    assert.equal(d.metadata.labels, undefined, 'apps/v1 does not copy template labels');
  });

  test('apps/v1beta1: selector from template, revisionHistoryLimit 2', () => {
    const d = defaulted(apps.deployments, 'v1beta1', deployment());
    assert.deepEqual(d.spec.selector, { matchLabels: { app: 'nginx' } });
    assert.deepEqual(d.metadata.labels, { app: 'nginx' });
    assert.equal(d.spec.revisionHistoryLimit, 2);
    assert.equal(d.spec.progressDeadlineSeconds, 600);
    assert.deepEqual(d.spec.strategy.rollingUpdate, { maxUnavailable: '25%', maxSurge: '25%' });
  });

  test('extensions/v1beta1: 1/1 rolling update, "unset" limits as MaxInt32', () => {
    const d = defaulted(ext.deployments, 'v1beta1', deployment());
    assert.deepEqual(d.spec.selector, { matchLabels: { app: 'nginx' } });
    assert.deepEqual(d.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 1 } });
    assert.equal(d.spec.revisionHistoryLimit, MAX_INT32);
    assert.equal(d.spec.progressDeadlineSeconds, MAX_INT32);
    assert.deepEqual(ext.deployments.storage, { group: 'apps', plural: 'deployments' });
  });

  test('DaemonSet and StatefulSet version differences', () => {
    const ds = (def: ResourceDef, v: string) => defaulted(def, v, deployment()).spec.updateStrategy;
    assert.deepEqual(ds(apps.daemonsets, 'v1'), { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } });
    assert.deepEqual(ds(ext.daemonsets, 'v1beta1'), { type: 'OnDelete' });
    const sts = defaulted(apps.statefulsets, 'v1', deployment());
    assert.deepEqual(sts.spec.updateStrategy, { type: 'RollingUpdate', rollingUpdate: { partition: 0 } });
    assert.equal(sts.spec.podManagementPolicy, 'OrderedReady');
    assert.deepEqual(defaulted(apps.statefulsets, 'v1beta1', deployment()).spec.updateStrategy, { type: 'OnDelete' });
  });
});

describe('conversion to and from apps/v1 storage', () => {
  test('rollbackTo travels in an annotation and round-trips', () => {
    for (const def of [apps.deployments, ext.deployments]) {
      const old = defaulted(def, 'v1beta1', deployment({ rollbackTo: { revision: 3 } }));
      const stored = def.convert?.toStorage(structuredClone(old), 'v1beta1') as KubeObject;
      assert.equal(stored.spec.rollbackTo, undefined);
      assert.equal(stored.metadata.annotations?.[ROLLBACK_TO_ANNOTATION], '3');
      const back = def.convert?.fromStorage(structuredClone(stored), 'v1beta1') as KubeObject;
      assert.deepEqual(back, old);
    }
  });

  test('apps/v1 and v1beta2 pass through unchanged', () => {
    const d = defaulted(apps.deployments, 'v1beta2', deployment({ selector: { matchLabels: { app: 'nginx' } } }));
    assert.deepEqual(apps.deployments.convert?.toStorage(structuredClone(d), 'v1beta2'), d);
    assert.deepEqual(apps.deployments.convert?.fromStorage(structuredClone(d), 'v1beta2'), d);
  });

  test('extensions DaemonSet templateGeneration round-trips', () => {
    const ds = defaulted(ext.daemonsets, 'v1beta1', deployment({ templateGeneration: 4 }));
    const stored = ext.daemonsets.convert?.toStorage(structuredClone(ds), 'v1beta1') as KubeObject;
    assert.equal(stored.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION], '4');
    assert.equal(stored.spec.templateGeneration, undefined);
    assert.deepEqual(ext.daemonsets.convert?.fromStorage(stored, 'v1beta1'), ds);
  });
});

describe('Deployment validation', () => {
  test('apps/v1 requires a selector', () => {
    const d = defaulted(apps.deployments, 'v1', deployment());
    const causes = apps.deployments.strategy.validate?.(d, undefined) ?? [];
    assert.deepEqual(causes, [{ reason: 'FieldValueRequired', message: 'Required value', field: 'spec.selector' }]);
  });

  test('selector must match template labels', () => {
    const d = defaulted(apps.deployments, 'v1', deployment({ selector: { matchLabels: { app: 'other' } } }));
    const causes = apps.deployments.strategy.validate?.(d, undefined) ?? [];
    const err = errors.invalid('apps', 'Deployment', 'web', causes);
    assert.equal(
      err.message,
      'Deployment.apps "web" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"nginx"}: `selector` does not match template `labels`',
    );
  });

  test('replicas, strategy, restartPolicy, immutable selector', () => {
    const d = defaulted(apps.deployments, 'v1', deployment({ selector: { matchLabels: { app: 'nginx' } }, replicas: -1 }));
    d.spec.strategy.rollingUpdate = { maxUnavailable: 0, maxSurge: '0%' };
    d.spec.template.spec.restartPolicy = 'Never';
    const messages = (apps.deployments.strategy.validate?.(d, undefined) ?? []).map((c) => `${c.field}: ${c.message}`);
    assert.deepEqual(messages, [
      'spec.replicas: Invalid value: -1: must be greater than or equal to 0',
      'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
      'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: intstr.IntOrString{Type:0, IntVal:0, StrVal:""}: may not be 0 when `maxSurge` is 0',
    ]);
    const ok = defaulted(apps.deployments, 'v1', deployment({ selector: { matchLabels: { app: 'nginx' } } }));
    const moved = structuredClone(ok);
    moved.spec.selector = { matchLabels: { app: 'nginx', x: 'y' } };
    moved.spec.template.metadata.labels.x = 'y';
    const [cause] = apps.deployments.strategy.validate?.(moved, ok) ?? [];
    assert.equal(
      cause.message,
      'Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"nginx", "x":"y"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    );
  });
});

test('tables', () => {
  const now = new Date('2024-05-01T12:00:00Z');
  const d = defaulted(apps.deployments, 'v1', deployment({ selector: { matchLabels: { app: 'nginx' } }, replicas: 3 }));
  d.metadata.creationTimestamp = '2024-04-29T08:00:00Z';
  d.status = { readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 };
  assert.deepEqual(apps.deployments.strategy.columns.map((c) => c.name), ['Ready', 'Up-to-date', 'Available', 'Age', 'Containers', 'Images', 'Selector']);
  assert.deepEqual(apps.deployments.strategy.cells(d, now), ['2/3', 3, 2, '2d4h', 'nginx', 'nginx:1.25', 'app=nginx']);
  const rs = { ...d, status: { replicas: 3, readyReplicas: 1 } };
  assert.deepEqual(apps.replicasets.strategy.cells(rs, now).slice(0, 4), [3, 3, 1, '2d4h']);
  assert.deepEqual(apps.statefulsets.strategy.cells(rs, now).slice(0, 2), ['1/3', '2d4h']);
  const rev = { metadata: { name: 'r', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: 'u', controller: true }] }, revision: 2 };
  assert.deepEqual(apps.controllerrevisions.strategy.cells(rev, now), ['statefulset.apps/web', 2, '<unknown>']);
  assert.deepEqual(apps.deployments.subresources.scale?.specReplicasPath, '.spec.replicas');
  assert.equal(ext.deployments.shortNames, undefined);
  assert.deepEqual(apps.deployments.versions, ['v1', 'v1beta2', 'v1beta1']);
});
