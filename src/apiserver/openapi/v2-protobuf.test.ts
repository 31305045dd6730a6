import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import YAML from 'yaml';
import { byNumber, readFields, WIRE_I64, WIRE_LEN, WIRE_VARINT } from '../protobuf/wire.ts';
import type { ResourceDef } from '../registry/types.ts';
import { createSchemaSource } from '../schema/index.ts';
import { createOpenApiDocs } from './docs.ts';
import { ProtoWriter } from './proto-writer.ts';
import { buildOpenApiV2 } from './v2.ts';
import { encodeOpenApiV2Protobuf } from './v2-protobuf.ts';

/** A decoded message: its fields by number. */
type Msg = Map<number, ReturnType<typeof readFields>>;

const decode = (buf: Buffer): Msg => byNumber(readFields(buf));
const bytesOf = (m: Msg, num: number): Buffer[] =>
  (m.get(num) ?? []).map((f) => {
    assert.equal(f.wire, WIRE_LEN, `field ${num} is length-delimited`);
    return f.value as Buffer;
  });
const msgs = (m: Msg, num: number): Msg[] => bytesOf(m, num).map(decode);
const msg = (m: Msg, num: number): Msg => {
  const all = msgs(m, num);
  assert.equal(all.length, 1, `one field ${num}`);
  return all[0];
};
const strs = (m: Msg, num: number): string[] => bytesOf(m, num).map((b) => b.toString('utf8'));
const str = (m: Msg, num: number): string | undefined => strs(m, num)[0];
const varint = (m: Msg, num: number): bigint | undefined => {
  const f = m.get(num)?.[0];
  if (f) assert.equal(f.wire, WIRE_VARINT);
  return f?.value as bigint | undefined;
};
const double = (m: Msg, num: number): number | undefined => {
  const f = m.get(num)?.[0];
  if (!f) return undefined;
  assert.equal(f.wire, WIRE_I64);
  return (f.value as Buffer).readDoubleLE(0);
};
/** Named* pairs (name = 1, value = 2) as a Map of name to the value's bytes. */
const named = (m: Msg, num: number): Map<string, Buffer> =>
  new Map(msgs(m, num).map((pair) => [str(pair, 1) ?? '', bytesOf(pair, 2)[0] ?? Buffer.alloc(0)]));
/** A message's vendor extensions: name to the value parsed back from Any.yaml. */
const extensions = (m: Msg, num: number): Record<string, unknown> =>
  Object.fromEntries([...named(m, num)].map(([k, v]) => [k, YAML.parse(str(decode(v), 2) ?? '')]));

const strategy = { columns: [], cells: () => [] };
const resources: ResourceDef[] = [
  {
    group: 'apps',
    kind: 'Deployment',
    listKind: 'DeploymentList',
    plural: 'deployments',
    singular: 'deployment',
    namespaced: true,
    versions: ['v1'],
    storageVersion: 'v1',
    subresources: { status: true },
    strategy,
  },
];

describe('ProtoWriter', () => {
  test('varints, negative int64, doubles, strings long and short, empty sub-messages', () => {
    const w = new ProtoWriter();
    w.varint(1, 300).varint(2, -1).double(3, -2.5).string(4, 'héllo').string(5, 'x'.repeat(2000));
    w.message(6, () => {});
    w.message(7, () => w.message(1, () => w.bool(2, false)));
    w.stringIf(8, '').boolIf(9, false).doubleIf(10, 0).int64If(11, 0);
    const buf = w.finish();
    assert.equal(buf.length, w.length);
    assert.deepEqual([...buf.subarray(0, 3)], [0x08, 0xac, 0x02]);
    const m = decode(buf);
    assert.equal(varint(m, 1), 300n);
    assert.equal(varint(m, 2), 0xffffffffffffffffn);
    assert.equal(double(m, 3), -2.5);
    assert.equal(str(m, 4), 'héllo');
    assert.equal(str(m, 5), 'x'.repeat(2000));
    assert.equal(bytesOf(m, 6)[0].length, 0);
    assert.equal(varint(msg(msg(m, 7), 1), 2), 0n);
    for (const n of [8, 9, 10, 11]) assert.ok(!m.has(n), `zero value of field ${n} is left out`);
  });
});

describe('OpenAPI v2 as gnostic protobuf', () => {
  const source = createSchemaSource();
  const json = buildOpenApiV2(resources, source).doc;
  const doc = decode(encodeOpenApiV2Protobuf(json));

  test('document header: swagger, info, security', () => {
    assert.equal(str(doc, 1), '2.0');
    assert.equal(str(msg(doc, 2), 1), 'Kubernetes');
    const requirement = named(msg(doc, 12), 1);
    assert.deepEqual([...requirement.keys()], ['BearerToken']);
    const bearer = decode(named(msg(doc, 13), 1).get('BearerToken')!);
    const apiKey = msg(bearer, 2);
    assert.deepEqual([str(apiKey, 1), str(apiKey, 2), str(apiKey, 3)], ['apiKey', 'authorization', 'header']);
  });

  test('paths in document order, with operations, parameters and responses', () => {
    const paths = named(msg(doc, 8), 2);
    assert.deepEqual([...paths.keys()], Object.keys(json.paths as object));
    const item = decode(paths.get('/apis/apps/v1/namespaces/{namespace}/deployments/{name}')!);
    const get = msg(item, 2);
    assert.equal(str(get, 5), 'readAppsV1NamespacedDeployment');
    assert.deepEqual(extensions(get, 13), {
      'x-kubernetes-action': 'get',
      'x-kubernetes-group-version-kind': { group: 'apps', version: 'v1', kind: 'Deployment' },
    });
    const ok = decode(named(msg(get, 9), 1).get('200')!);
    const okSchema = msg(msg(msg(ok, 1), 2), 1);
    assert.equal(str(okSchema, 1), '#/definitions/io.k8s.api.apps.v1.Deployment');
    // Path-item parameters: name, namespace (path, required), then pretty (query), each a NonBodyParameter.
    const [name, , pretty] = msgs(item, 9).map((p) => msg(msg(p, 1), 2));
    const path = msg(name, 4);
    assert.deepEqual([varint(path, 1), str(path, 2), str(path, 4), str(path, 5)], [1n, 'path', 'name', 'string']);
    assert.equal(str(msg(pretty, 3), 6), 'string');
    const body = msg(msg(msgs(msg(item, 3), 8)[0], 1), 1);
    assert.equal(str(body, 3), 'body');
    assert.equal(str(msg(body, 5), 1), '#/definitions/io.k8s.api.apps.v1.Deployment');
  });

  test('definitions: sorted, with $ref, type, properties, items and vendor extensions', () => {
    const defs = named(msg(doc, 9), 1);
    assert.deepEqual([...defs.keys()], Object.keys(json.definitions as object));
    const deployment = decode(defs.get('io.k8s.api.apps.v1.Deployment')!);
    assert.deepEqual(extensions(deployment, 31)['x-kubernetes-group-version-kind'], [
      { group: 'apps', kind: 'Deployment', version: 'v1' },
    ]);
    const props = named(msg(deployment, 25), 1);
    assert.deepEqual([...props.keys()], ['apiVersion', 'kind', 'metadata', 'spec', 'status']);
    assert.equal(str(decode(props.get('spec')!), 1), '#/definitions/io.k8s.api.apps.v1.DeploymentSpec');
    const spec = decode(defs.get('io.k8s.api.apps.v1.DeploymentSpec')!);
    assert.deepEqual(strs(msg(spec, 22), 1), ['object']);
    assert.deepEqual(strs(spec, 19), ['selector', 'template']);
    const replicas = decode(named(msg(spec, 25), 1).get('replicas')!);
    assert.deepEqual([strs(msg(replicas, 22), 1), str(replicas, 2)], [['integer'], 'int32']);
    const containers = decode(named(msg(decode(defs.get('io.k8s.api.core.v1.PodSpec')!), 25), 1).get('containers')!);
    assert.deepEqual(strs(msg(containers, 22), 1), ['array']);
    assert.equal(str(msg(msg(containers, 23), 1), 1), '#/definitions/io.k8s.api.core.v1.Container');
    assert.deepEqual(extensions(containers, 31), {
      'x-kubernetes-list-map-keys': ['name'],
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-patch-merge-key': 'name',
      'x-kubernetes-patch-strategy': 'merge',
    });
  });

  test('schema corners: additionalProperties false/schema, defaults, enums, numbers, unknown keys', () => {
    const m = decode(
      encodeOpenApiV2Protobuf({
        definitions: {
          a: {
            type: 'object',
            additionalProperties: false,
            properties: { on: { type: 'string', enum: ['on', 'off'], default: 'on', nullable: true } },
          },
          b: {
            additionalProperties: { type: 'integer' },
            minimum: -1.5,
            maxLength: 3,
            'x-kubernetes-embedded-resource': true,
          },
        },
      }),
    );
    const defs = named(msg(m, 9), 1);
    const a = decode(defs.get('a')!);
    assert.equal(varint(msg(a, 21), 2), 0n, 'false is written: it is a oneof member');
    const on = decode(named(msg(a, 25), 1).get('on')!);
    assert.deepEqual(
      msgs(on, 20).map((any) => str(any, 2)),
      ['"on"\n', '"off"\n'],
      'YAML 1.1 booleans are quoted',
    );
    assert.equal(str(msg(on, 5), 2), '"on"\n');
    assert.deepEqual(
      [...on.keys()].sort((x, y) => x - y),
      [5, 20, 22],
      'nullable has no v2 field and is dropped',
    );
    const b = decode(defs.get('b')!);
    assert.deepEqual(strs(msg(msg(msg(b, 21), 1), 22), 1), ['integer']);
    assert.equal(double(b, 9), -1.5);
    assert.equal(varint(b, 11), 3n);
    assert.deepEqual(extensions(b, 31), { 'x-kubernetes-embedded-resource': true });
  });

  test('createOpenApiDocs encodes once per generation, with its own etag', () => {
    const docs = createOpenApiDocs({ all: () => resources, onChange: () => () => {} }, source);
    const first = docs.v2Protobuf();
    assert.equal(docs.v2Protobuf().body, first.body, 'cached bytes are reused');
    assert.notEqual(first.etag, docs.v2().etag);
    source.addRoot('example.com', 'v1', 'Widget', { type: 'object' });
    assert.notEqual(docs.v2Protobuf().body, first.body, 'a schema change rebuilds');
  });
});
