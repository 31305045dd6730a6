import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Schema } from '../schema/types.ts';
import { cronTab, destinationRule } from './fixtures.test-helpers.ts';
import { applyDefaults, prune, pruneNulls, validateObject } from './schema-validate.ts';

const cronSchema = () => cronTab().spec.versions[0].schema!.openAPIV3Schema!;
const drSchema = () => destinationRule().spec.versions[2].schema!.openAPIV3Schema!;
const check = (obj: Record<string, unknown>, schema: Schema = cronSchema()) =>
  validateObject({ apiVersion: 'x/v1', kind: 'K', metadata: { name: 'n' }, ...obj }, schema).map(
    (c) => `${c.field}: ${c.message}`,
  );

describe('validateObject', () => {
  test('valid objects pass; apiVersion/kind/metadata at the root are skipped', () => {
    assert.deepEqual(check({ spec: { cronSpec: '* * * * */5', replicas: 3 } }), []);
    assert.deepEqual(
      check(
        { spec: { host: 'reviews', exportTo: ['.'], subsets: [{ name: 'v1', labels: { version: 'v1' } }] } },
        drSchema(),
      ),
      [],
    );
  });

  test('type, required, enum, pattern and range messages read like Kubernetes', () => {
    assert.deepEqual(check({ spec: { replicas: 'string', mode: 'x', cronSpec: 'bad' } }), [
      'spec.cronSpec: Invalid value: "bad": spec.cronSpec in body should match \'^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$\'',
      'spec.mode: Unsupported value: "x": supported values: "a", "b"',
      'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"',
    ]);
    assert.deepEqual(check({ spec: {} }), ['spec.cronSpec: Required value']);
    assert.deepEqual(check({ spec: { cronSpec: '* * * * *', replicas: 11 } }), [
      'spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10',
    ]);
    const causes = validateObject({ metadata: {}, spec: { cronSpec: '* * * * *', replicas: 0 } }, cronSchema());
    assert.deepEqual(causes, [
      {
        reason: 'FieldValueInvalid',
        field: 'spec.replicas',
        message: 'Invalid value: 0: spec.replicas in body should be greater than or equal to 1',
      },
    ]);
    assert.equal(
      validateObject({ metadata: {}, spec: { replicas: 'x', cronSpec: '* * * * *' } }, cronSchema())[0].reason,
      'FieldValueTypeInvalid',
    );
  });

  test('lengths, items, properties, nullable, formats and int-or-string', () => {
    const schema: Schema = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            name: { type: 'string', maxLength: 3, minLength: 2 },
            tags: { type: 'array', maxItems: 1, minItems: 1, items: { type: 'string' } },
            labels: { type: 'object', maxProperties: 1, additionalProperties: { type: 'string' } },
            when: { type: 'string', format: 'date-time' },
            port: { 'x-kubernetes-int-or-string': true },
            note: { type: 'string', nullable: true },
            count: { type: 'integer', format: 'int32' },
            strict: { type: 'object', properties: { a: { type: 'string' } }, additionalProperties: false },
          },
        },
      },
    };
    assert.deepEqual(check({ spec: { name: 'abcd', tags: ['a', 'b'], labels: { a: 'x', b: 'y' } } }, schema), [
      'spec.labels: Too many: 2: must have at most 1 item',
      'spec.name: Too long: may not be more than 3 bytes',
      'spec.tags: Too many: 2: must have at most 1 item',
    ]);
    assert.deepEqual(check({ spec: { name: 'a', tags: [], labels: { a: 1 } } }, schema), [
      'spec.labels.a: Invalid value: "integer": spec.labels.a in body must be of type string: "integer"',
      'spec.name: Invalid value: "a": spec.name in body should be at least 2 chars long',
      'spec.tags: Invalid value: 0: spec.tags in body should have at least 1 items',
    ]);
    assert.deepEqual(check({ spec: { when: 'yesterday', port: true, note: null, count: 1 } }, schema), [
      'spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"',
      'spec.when: Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday"',
    ]);
    assert.deepEqual(
      check({ spec: { when: '2024-05-01T10:00:00Z', port: 'http', count: 3000000000, strict: { b: 1 } } }, schema),
      [
        '<nil>: Invalid value: "": strconv.ParseInt: parsing "3000000000": value out of range',
        'spec.strict: Invalid value: "b": spec.strict.b in body is a forbidden property',
      ],
    );
    assert.deepEqual(check({ spec: { name: null } }, schema), [
      'spec.name: Invalid value: "null": spec.name in body must be of type string: "null"',
    ]);
  });

  test('oneOf / not / allOf report like kube-openapi', () => {
    const lb = (v: unknown) => check({ spec: { host: 'h', trafficPolicy: { loadBalancer: v } } }, drSchema());
    assert.deepEqual(lb({ simple: 'RANDOM' }), []);
    assert.deepEqual(lb({}), []);
    assert.deepEqual(lb({ simple: 'RANDOM', consistentHash: {} }), [
      '<nil>: Invalid value: "": "spec.trafficPolicy.loadBalancer" must validate one and only one schema (oneOf). Found 2 valid alternatives',
    ]);
    const allOf: Schema = {
      type: 'object',
      properties: { spec: { type: 'object', allOf: [{ required: ['a'] }], not: { required: ['b'] } } },
    };
    assert.deepEqual(check({ spec: { b: 1 } }, allOf), [
      'spec.a: Required value',
      '<nil>: Invalid value: "": "spec" must validate all the schemas (allOf). None validated',
      '<nil>: Invalid value: "": "spec" must not validate the schema (not)',
    ]);
  });

  test('x-kubernetes-list-type set/map duplicates and embedded resources', () => {
    assert.deepEqual(check({ spec: { host: 'h', exportTo: ['.', '*', '.'] } }, drSchema()), [
      'spec.exportTo[2]: Duplicate value: "."',
    ]);
    const schema: Schema = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            ports: {
              type: 'array',
              'x-kubernetes-list-type': 'map',
              'x-kubernetes-list-map-keys': ['name'],
              items: {
                type: 'object',
                required: ['name'],
                properties: { name: { type: 'string' }, port: { type: 'integer' } },
              },
            },
            template: {
              type: 'object',
              'x-kubernetes-embedded-resource': true,
              'x-kubernetes-preserve-unknown-fields': true,
            },
          },
        },
      },
    };
    assert.deepEqual(
      check(
        {
          spec: {
            ports: [
              { name: 'a', port: 1 },
              { name: 'a', port: 2 },
            ],
            template: { kind: 'Pod' },
          },
        },
        schema,
      ),
      ['spec.ports[1]: Duplicate value: {"name":"a"}', 'spec.template.apiVersion: Required value'],
    );
  });
});

describe('prune, pruneNulls, applyDefaults', () => {
  test('prune drops undeclared fields and reports their paths', () => {
    const obj: Record<string, unknown> = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'r', labels: { a: 'b' } },
      extra: 1,
      spec: { host: 'h', foo: 1, subsets: [{ name: 'v1', bar: 2, trafficPolicy: { anything: { goes: true } } }] },
      status: { free: 'form' },
    };
    assert.deepEqual(prune(obj, drSchema()), ['extra', 'spec.foo', 'spec.subsets[0].bar']);
    assert.deepEqual(obj, {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'r', labels: { a: 'b' } },
      spec: { host: 'h', subsets: [{ name: 'v1', trafficPolicy: { anything: { goes: true } } }] },
      status: { free: 'form' },
    });
  });

  test('applyDefaults fills missing fields and disallowed nulls; pruneNulls drops the rest', () => {
    const obj: Record<string, unknown> = { metadata: {}, spec: { cronSpec: '* * * * *', image: null } };
    pruneNulls(obj, cronSchema());
    applyDefaults(obj, cronSchema());
    assert.deepEqual(obj, { metadata: {}, spec: { cronSpec: '* * * * *', replicas: 1 } });
    const withNull: Record<string, unknown> = { spec: { cronSpec: 'x', replicas: null } };
    pruneNulls(withNull, cronSchema());
    applyDefaults(withNull, cronSchema());
    assert.deepEqual(withNull, { spec: { cronSpec: 'x', replicas: 1 } });
  });
});
