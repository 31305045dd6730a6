import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSchemaSource } from './index.ts';
import { checkFields, duplicateFields, fieldValidationOutcome } from './validate.ts';

const source = createSchemaSource();
const deploymentRoot = () => source.root('apps', 'v1', 'Deployment')!;

function deployment(spec: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' } },
    spec,
    ...extra,
  };
}

const goodSpec = () => ({
  replicas: 2,
  selector: { matchLabels: { app: 'web' } },
  strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 1 } },
  template: {
    metadata: { labels: { app: 'web' } },
    spec: {
      containers: [
        {
          name: 'web',
          image: 'nginx',
          ports: [{ containerPort: 80 }],
          resources: { limits: { cpu: 0.5, memory: '128Mi' }, requests: { cpu: '100m' } },
          env: [{ name: 'A', value: 'b' }],
        },
      ],
    },
  },
});

describe('checkFields', () => {
  test('a valid Deployment has no problems (int-or-string, quantities as numbers and strings)', () => {
    const r = checkFields(source, deploymentRoot(), deployment(goodSpec()));
    assert.deepEqual(r, { unknown: [], duplicates: [], invalid: [] });
  });

  test('unknown fields are reported with their full path and list index', () => {
    const spec = goodSpec();
    (spec.template.spec.containers[0] as Record<string, unknown>).imagee = 'x';
    const r = checkFields(source, deploymentRoot(), deployment({ ...spec, foo: 1 }, { bar: true }));
    assert.deepEqual(r.unknown.sort(), ['bar', 'spec.foo', 'spec.template.spec.containers[0].imagee']);
    assert.deepEqual(r.invalid, []);
  });

  test('map values (labels, annotations, resources) are not unknown fields but are type-checked', () => {
    const obj = deployment(goodSpec());
    (obj.metadata as Record<string, unknown>).labels = { app: 'web', tier: 'front' };
    assert.deepEqual(checkFields(source, deploymentRoot(), obj).unknown, []);
    (obj.metadata.labels as Record<string, unknown>).n = 3;
    const r = checkFields(source, deploymentRoot(), obj);
    assert.equal(r.invalid[0].field, 'metadata.labels.n');
  });

  test('type mismatches use Go json wording', () => {
    const r = checkFields(source, deploymentRoot(), deployment({ ...goodSpec(), replicas: 'two' }));
    assert.equal(r.invalid.length, 1);
    assert.equal(r.invalid[0].field, 'spec.replicas');
    assert.equal(
      r.invalid[0].message,
      'json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32',
    );
    const spec = goodSpec();
    (spec.template.spec.containers[0] as Record<string, unknown>).ports = { containerPort: 80 };
    const r2 = checkFields(source, deploymentRoot(), deployment(spec));
    assert.equal(
      r2.invalid[0].message,
      'json: cannot unmarshal object into Go struct field Container.spec.template.spec.containers.ports of type []v1.ContainerPort',
    );
  });

  test('int-or-string rejects floats and booleans; int32 rejects out-of-range numbers', () => {
    const spec = goodSpec();
    spec.strategy.rollingUpdate.maxSurge = true as unknown as string;
    assert.equal(
      checkFields(source, deploymentRoot(), deployment(spec)).invalid[0].field,
      'spec.strategy.rollingUpdate.maxSurge',
    );
    const r = checkFields(source, deploymentRoot(), deployment({ ...goodSpec(), replicas: 2 ** 40 }));
    assert.equal(r.invalid[0].field, 'spec.replicas');
  });

  test('null is accepted anywhere (Go decodes it as the zero value)', () => {
    const r = checkFields(source, deploymentRoot(), deployment({ ...goodSpec(), strategy: null, replicas: null }));
    assert.deepEqual(r.invalid, []);
  });

  test('preserve-unknown-fields (RawExtension, CRD schemas) keeps unknown fields', () => {
    const rev = {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: { name: 'r' },
      revision: 1,
      data: { any: { thing: 1 } },
    };
    assert.deepEqual(checkFields(source, source.root('apps', 'v1', 'ControllerRevision')!, rev).unknown, []);
  });

  test('runtime roots (CRDs): root metadata is ObjectMeta, embedded resources and preserve-unknown honoured', () => {
    const src = createSchemaSource();
    src.addRoot('example.com', 'v1', 'Widget', {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            size: { type: 'integer' },
            port: { 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] },
            free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
            tmpl: { type: 'object', 'x-kubernetes-embedded-resource': true, properties: { spec: { type: 'object' } } },
            tags: { type: 'object', additionalProperties: { type: 'string' } },
          },
        },
      },
    });
    const root = src.root('example.com', 'v1', 'Widget')!;
    const obj = {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w', nmae: 'typo' },
      spec: {
        size: 3,
        port: 'http',
        free: { a: { b: 1 } },
        tmpl: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { x: 1 } },
        tags: { a: 'b' },
        colour: 'red',
      },
    };
    const r = checkFields(src, root, obj);
    assert.deepEqual(r.unknown.sort(), ['metadata.nmae', 'spec.colour', 'spec.tmpl.spec.x']);
    src.removeRoot('example.com', 'v1', 'Widget');
    assert.equal(src.root('example.com', 'v1', 'Widget'), undefined);
  });

  test('duplicate fields are found in the raw JSON body', () => {
    const raw = '{"metadata":{"name":"a","name":"b"},"spec":{"containers":[{"name":"x"},{"image":"i","image":"j"}]}}';
    assert.deepEqual(duplicateFields(raw), ['metadata.name', 'spec.containers[1].image']);
    assert.deepEqual(duplicateFields('{"a":"x\\"y","b":[1,2,{"c":null}]}'), []);
  });
});

describe('fieldValidationOutcome', () => {
  const check = { unknown: ['spec.foo', 'spec.bar'], duplicates: [], invalid: [] };
  const opts = { kind: 'Deployment', version: 'v1' };

  test('Strict: 400 strict decoding error listing every field', () => {
    const { error } = fieldValidationOutcome(check, { ...opts, mode: 'Strict' });
    assert.equal(error?.code, 400);
    assert.equal(
      error?.message,
      'Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.foo", unknown field "spec.bar"',
    );
  });

  test('Warn gives warnings, Ignore nothing; type errors fail in every mode', () => {
    assert.deepEqual(fieldValidationOutcome(check, { ...opts, mode: 'Warn' }), {
      warnings: ['unknown field "spec.foo"', 'unknown field "spec.bar"'],
    });
    assert.deepEqual(fieldValidationOutcome(check, { ...opts, mode: 'Ignore' }), { warnings: [] });
    const bad = {
      unknown: [],
      duplicates: [],
      invalid: [{ field: 'spec.replicas', message: 'json: cannot unmarshal' }],
    };
    const { error } = fieldValidationOutcome(bad, { ...opts, mode: 'Ignore' });
    assert.equal(
      error?.message,
      'Deployment in version "v1" cannot be handled as a Deployment: json: cannot unmarshal',
    );
  });
});
