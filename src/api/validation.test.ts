import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errors } from './errors.ts';
import {
  fieldErrors,
  goLabelSelector,
  goStringMap,
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  nameRules,
  validateObjectMeta,
  validateObjectMetaUpdate,
} from './validation.ts';

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

describe('name checks', () => {
  test('exact Kubernetes messages', () => {
    assert.deepEqual(isDNS1123Subdomain('Foo'), [SUBDOMAIN_MSG]);
    assert.deepEqual(isDNS1123Subdomain('a.b-c'), []);
    assert.deepEqual(isDNS1123Subdomain('a'.repeat(254)), ['must be no more than 253 characters']);
    assert.deepEqual(isDNS1123Label('a.b'), [LABEL_MSG]);
    assert.deepEqual(isDNS1123Label('x'.repeat(64)), ['must be no more than 63 characters']);
    assert.match(isDNS1035Label('1abc')[0], /^a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character/);
    assert.deepEqual(isQualifiedName('example.com/My_Name.1'), []);
    assert.deepEqual(isQualifiedName('/x'), ['prefix part must be non-empty']);
    assert.deepEqual(isQualifiedName('a/'), ['name part must be non-empty', isQualifiedName('-')[0]]);
    assert.match(isQualifiedName('a/b/c')[0], /^a qualified name must consist of .* with an optional DNS subdomain prefix and '\/' \(e\.g\. 'example\.com\/MyName'\)$/);
    assert.deepEqual(isConfigMapKey('..x'), ["must not start with '..'"]);
    assert.match(isConfigMapKey('a b')[0], /^a valid config key must consist of alphanumeric characters/);
  });

  test('generateName tolerates a trailing dash', () => {
    assert.deepEqual(nameRules.dns1123Subdomain('web-', true), []);
    assert.equal(nameRules.dns1123Subdomain('web-', false).length, 1);
  });
});

describe('validateObjectMeta', () => {
  test('name or generateName is required', () => {
    const causes = validateObjectMeta({ namespace: 'default' }, { namespaced: true });
    assert.deepEqual(causes, [
      { reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' },
    ]);
    const err = errors.invalid('apps', 'Deployment', '', causes);
    assert.equal(err.message, 'Deployment.apps "" is invalid: metadata.name: Required value: name or generateName is required');
  });

  test('invalid name, namespace scope, labels, owners, finalizers', () => {
    const causes = validateObjectMeta(
      {
        name: 'Web',
        labels: { 'a b': 'c' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: '', name: 'x', uid: '' }],
        finalizers: ['bad finalizer'],
      },
      { namespaced: true },
    );
    const fields = causes.map((c) => c.field);
    assert.deepEqual(fields, [
      'metadata.name',
      'metadata.namespace',
      'metadata.labels',
      'metadata.ownerReferences.kind',
      'metadata.ownerReferences.uid',
      'metadata.finalizers',
    ]);
    assert.equal(causes[0].message, `Invalid value: "Web": ${SUBDOMAIN_MSG}`);
    assert.equal(causes[3].message, 'Invalid value: "": kind must not be empty');
    const cluster = validateObjectMeta({ name: 'n', namespace: 'x' }, { namespaced: false });
    assert.deepEqual(cluster, [{ reason: 'FieldValueForbidden', message: 'Forbidden: not allowed on this type', field: 'metadata.namespace' }]);
    const label = validateObjectMeta({ name: 'a.b' }, { namespaced: false, nameRule: nameRules.dns1123Label });
    assert.equal(label[0].message, `Invalid value: "a.b": ${LABEL_MSG}`);
  });

  test('identity fields are immutable', () => {
    const causes = validateObjectMetaUpdate({ name: 'b', uid: '1' }, { name: 'a', uid: '1' }, { namespaced: false });
    assert.deepEqual(causes, [{ reason: 'FieldValueInvalid', message: 'Invalid value: "b": field is immutable', field: 'metadata.name' }]);
  });
});

test('cause constructors and Go value formatting', () => {
  assert.equal(fieldErrors.notSupported('spec.type', 'X', ['A', 'B']).message, 'Unsupported value: "X": supported values: "A", "B"');
  assert.equal(fieldErrors.invalid('spec.replicas', -1, 'must be greater than or equal to 0').message, 'Invalid value: -1: must be greater than or equal to 0');
  assert.equal(fieldErrors.duplicate('x', 'a').message, 'Duplicate value: "a"');
  assert.equal(fieldErrors.required('x').message, 'Required value');
  assert.equal(goStringMap({ b: '2', a: '1' }).goLiteral, 'map[string]string{"a":"1", "b":"2"}');
  assert.equal(
    goLabelSelector({ matchLabels: { app: 'nginx' } }).goLiteral,
    'v1.LabelSelector{MatchLabels:map[string]string{"app":"nginx"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}',
  );
});
