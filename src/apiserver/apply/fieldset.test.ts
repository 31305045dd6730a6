import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  difference,
  fieldSetOf,
  fromFieldsV1,
  hasPath,
  intersection,
  pathsOf,
  pathToString,
  recursiveDifference,
  toFieldSet,
  toFieldsV1,
  union,
} from './fieldset.ts';
import { deploymentSchema, nginxDeployment, source } from './test-fixtures.ts';

// managedFields[].fieldsV1 of a Deployment created by `kubectl create deployment`
// (kube-apiserver 1.3x), key order as Kubernetes writes it.
const KUBECTL_CREATE = `{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:progressDeadlineSeconds":{},"f:replicas":{},"f:revisionHistoryLimit":{},"f:selector":{},"f:strategy":{"f:rollingUpdate":{".":{},"f:maxSurge":{},"f:maxUnavailable":{}},"f:type":{}},"f:template":{"f:metadata":{"f:labels":{".":{},"f:app":{}}},"f:spec":{"f:containers":{"k:{\\"name\\":\\"nginx\\"}":{".":{},"f:image":{},"f:imagePullPolicy":{},"f:name":{},"f:ports":{".":{},"k:{\\"containerPort\\":80,\\"protocol\\":\\"TCP\\"}":{".":{},"f:containerPort":{},"f:protocol":{}}},"f:resources":{},"f:terminationMessagePath":{},"f:terminationMessagePolicy":{}}},"f:dnsPolicy":{},"f:restartPolicy":{},"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}}}}`;

// A finalizer set, a status condition list keyed by type, and an index element.
const MIXED = `{"f:metadata":{"f:finalizers":{".":{},"v:\\"a.example/x\\"":{},"v:\\"b.example/y\\"":{}}},"f:status":{"f:conditions":{"k:{\\"type\\":\\"Available\\"}":{".":{},"f:status":{}},"k:{\\"type\\":\\"Progressing\\"}":{".":{},"f:reason":{}}},"f:items":{"i:2":{},"i:10":{}}}}`;

describe('FieldsV1 encoding', () => {
  test('round-trips Kubernetes-written fieldsV1 byte for byte', () => {
    for (const literal of [KUBECTL_CREATE, MIXED]) {
      assert.equal(JSON.stringify(toFieldsV1(fromFieldsV1(JSON.parse(literal)))), literal);
    }
  });

  test('sorts fields, then keys, then values, then indexes; keys by field then value', () => {
    const set = fieldSetOf([
      ['f:list', 'i:10'],
      ['f:list', 'i:2'],
      ['f:list', 'v:"b"'],
      ['f:list', 'v:1'],
      ['f:list', 'k:{"port":443}'],
      ['f:list', 'k:{"port":80}'],
      ['f:list', 'f:z'],
    ]);
    assert.deepEqual(Object.keys(toFieldsV1(set)['f:list'] as object), [
      'f:z',
      'k:{"port":80}',
      'k:{"port":443}',
      'v:1',
      'v:"b"',
      'i:2',
      'i:10',
    ]);
  });

  test('decoding canonicalizes key JSON (sorted keys, plain numbers)', () => {
    const set = fromFieldsV1({ 'f:ports': { 'k:{"protocol":"TCP", "containerPort":80.0}': {} } });
    assert.ok(hasPath(set, ['f:ports', 'k:{"containerPort":80,"protocol":"TCP"}']));
  });

  test('a node that is both member and parent gets ".", a bare member {}', () => {
    const set = fieldSetOf([['f:labels'], ['f:labels', 'f:app'], ['f:replicas']]);
    assert.deepEqual(toFieldsV1(set), { 'f:labels': { '.': {}, 'f:app': {} }, 'f:replicas': {} });
  });

  test('rejects malformed fieldsV1', () => {
    assert.throws(() => fromFieldsV1({ 'x:foo': {} }));
    assert.throws(() => fromFieldsV1({ 'k:notjson': {} }));
    assert.throws(() => fromFieldsV1({ 'f:a': 'str' }));
    assert.throws(() => fromFieldsV1({ 'i:one': {} }));
  });
});

describe('toFieldSet', () => {
  test('an applied Deployment sets what kubectl --server-side shows (plus what apply strips)', () => {
    const set = toFieldSet(nginxDeployment(), { schema: deploymentSchema, source });
    assert.deepEqual(toFieldsV1(set), {
      'f:apiVersion': {},
      'f:kind': {},
      'f:metadata': { 'f:labels': { 'f:app': {} }, 'f:name': {}, 'f:namespace': {} },
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
                // protocol is a key with a schema default, so the key carries "TCP".
                'f:ports': { 'k:{"containerPort":80,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {} } },
              },
            },
          },
        },
      },
    });
  });

  test('without a schema maps are granular (members) and lists atomic', () => {
    const set = toFieldSet({ spec: { list: [1, 2], deep: { x: 1 } } }, { schema: undefined });
    assert.deepEqual(toFieldsV1(set), {
      'f:spec': { '.': {}, 'f:deep': { '.': {}, 'f:x': {} }, 'f:list': {} },
    });
  });

  test('strict mode rejects items missing key fields and duplicate keys', () => {
    const noKey = nginxDeployment();
    noKey.spec.template.spec.containers.push({ image: 'x' });
    assert.throws(
      () => toFieldSet(noKey, { schema: deploymentSchema, source, strict: true }),
      /\.spec\.template\.spec\.containers: element 1: associative list with keys has an element that omits key field "name"/,
    );
    const dup = nginxDeployment();
    dup.spec.template.spec.containers.push({ name: 'nginx' });
    assert.throws(
      () => toFieldSet(dup, { schema: deploymentSchema, source, strict: true }),
      /duplicate entries for key \[name="nginx"\]/,
    );
  });
});

describe('set algebra', () => {
  const a = fieldSetOf([['f:spec', 'f:replicas'], ['f:spec', 'f:template', 'f:x'], ['f:metadata']]);
  const b = fieldSetOf([
    ['f:spec', 'f:replicas'],
    ['f:spec', 'f:paused'],
    ['f:spec', 'f:template'],
  ]);

  test('union, difference, intersection', () => {
    assert.deepEqual(pathsOf(union(a, b)).map(pathToString), [
      '.metadata',
      '.spec.paused',
      '.spec.replicas',
      '.spec.template',
      '.spec.template.x',
    ]);
    assert.deepEqual(pathsOf(difference(a, b)).map(pathToString), ['.metadata', '.spec.template.x']);
    assert.deepEqual(pathsOf(intersection(a, b)).map(pathToString), ['.spec.replicas']);
  });

  test('recursiveDifference also drops paths below members of the other set', () => {
    assert.deepEqual(pathsOf(recursiveDifference(a, b)).map(pathToString), ['.metadata']);
  });
});

test('pathToString renders paths like Kubernetes conflict messages', () => {
  assert.equal(
    pathToString([
      'f:spec',
      'f:containers',
      'k:{"name":"nginx"}',
      'f:ports',
      'k:{"containerPort":80,"protocol":"TCP"}',
    ]),
    '.spec.containers[name="nginx"].ports[containerPort=80,protocol="TCP"]',
  );
  assert.equal(pathToString(['f:metadata', 'f:finalizers', 'v:"a/b"']), '.metadata.finalizers[="a/b"]');
  assert.equal(pathToString(['f:args', 'i:3']), '.args[3]');
});
