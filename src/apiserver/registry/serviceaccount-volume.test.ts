import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addServiceAccountTokenVolume, SERVICE_ACCOUNT_MOUNT_PATH } from './serviceaccount-volume.ts';

const mount = { name: 'kube-api-access-abcde', readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH };

test('adds the projected volume and a read-only mount to every container', () => {
  const spec = { initContainers: [{ name: 'init' }], containers: [{ name: 'a', volumeMounts: [{ name: 'x', mountPath: '/x' }] }, { name: 'b' }] };
  addServiceAccountTokenVolume(spec, () => 'abcde');
  assert.deepEqual(spec.initContainers[0], { name: 'init', volumeMounts: [mount] });
  assert.deepEqual(spec.containers[0].volumeMounts, [{ name: 'x', mountPath: '/x' }, mount]);
  assert.deepEqual(spec.containers[1].volumeMounts, [mount]);
  assert.deepEqual((spec as { volumes?: unknown }).volumes, [
    {
      name: 'kube-api-access-abcde',
      projected: {
        defaultMode: 420,
        sources: [
          { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
        ],
      },
    },
  ]);
  // Idempotent (prepareForCreate may run again on a generateName retry).
  const again = structuredClone(spec);
  addServiceAccountTokenVolume(again, () => 'zzzzz');
  assert.deepEqual(again, spec);
});

test('random suffix from Kubernetes alphabet', () => {
  const spec = { containers: [{ name: 'a' }] } as { containers: object[]; volumes?: { name: string }[] };
  addServiceAccountTokenVolume(spec);
  assert.match(spec.volumes![0].name, /^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
});

test('opt-out and existing mounts', () => {
  const off = { automountServiceAccountToken: false, containers: [{ name: 'a' }] };
  addServiceAccountTokenVolume(off);
  assert.deepEqual(off, { automountServiceAccountToken: false, containers: [{ name: 'a' }] });
  const own = { containers: [{ name: 'a', volumeMounts: [{ name: 'mine', mountPath: SERVICE_ACCOUNT_MOUNT_PATH }] }], volumes: [{ name: 'mine', secret: { secretName: 's' } }] };
  addServiceAccountTokenVolume(own);
  assert.equal(own.volumes.length, 1);
  assert.equal(own.containers[0].volumeMounts.length, 1);
});
