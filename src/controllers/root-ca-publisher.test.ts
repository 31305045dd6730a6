import assert from 'node:assert/strict';
import { test } from 'node:test';
import { desiredRootCa, ROOT_CA_CONFIGMAP } from './root-ca-publisher.ts';

const ns = (name: string, deleting = false) => ({ metadata: { name, ...(deleting ? { deletionTimestamp: 'x' } : {}) } });

test('a namespace without the ConfigMap gets one with the CA', () => {
  const want = desiredRootCa(ns('shop'), undefined, 'PEM');
  assert.equal(want?.metadata.name, ROOT_CA_CONFIGMAP);
  assert.equal(want?.metadata.namespace, 'shop');
  assert.deepEqual(want?.data, { 'ca.crt': 'PEM' });
});

test('a correct ConfigMap is left alone; a changed one is put back', () => {
  const right = desiredRootCa(ns('shop'), undefined, 'PEM')!;
  assert.equal(desiredRootCa(ns('shop'), right, 'PEM'), undefined);
  const tampered = { ...right, data: { 'ca.crt': 'OTHER' } };
  assert.equal(desiredRootCa(ns('shop'), tampered, 'PEM')?.data['ca.crt'], 'PEM');
});

test('terminating namespaces get nothing', () => {
  assert.equal(desiredRootCa(ns('gone', true), undefined, 'PEM'), undefined);
});
