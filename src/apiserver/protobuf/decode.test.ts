import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ApiError } from '../../api/errors.ts';
import { decodeProtobufObject, isProtobufMediaType, PROTOBUF_MAGIC } from './index.ts';

// Request bodies captured from kubectl v1.32 (a loopback server recorded the
// protobuf POST), next to the object the same command prints with
// `--dry-run=client -o json`.
type Fixture = { command: string; protobuf: string; json: Record<string, unknown> };
const FIXTURES = JSON.parse(readFileSync(new URL('./kubectl-fixtures.json', import.meta.url), 'utf8')) as Fixture[];

/** Go prints zero Times and empty RawExtensions as null; the decoder leaves them out. */
function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutNulls);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => [k, withoutNulls(v)]),
  );
}

// A minimal encoder for hand-made messages.
function varint(n: bigint | number): Buffer {
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  do {
    const byte = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? byte | 0x80 : byte);
  } while (v > 0n);
  return Buffer.from(out);
}
const int = (num: number, n: bigint | number) => Buffer.concat([varint(num << 3), varint(n)]);
const len = (num: number, ...parts: Buffer[]) => {
  const body = Buffer.concat(parts);
  return Buffer.concat([varint((num << 3) | 2), varint(body.length), body]);
};
const str = (num: number, s: string) => len(num, Buffer.from(s));
const envelope = (apiVersion: string, kind: string, ...raw: Buffer[]) =>
  Buffer.concat([PROTOBUF_MAGIC, len(1, str(1, apiVersion), str(2, kind)), len(2, ...raw)]);
const meta = (name: string) => len(1, str(1, name), str(2, ''), int(7, 0), len(8));

function rejects(body: Buffer, pattern: RegExp): void {
  assert.throws(
    () => decodeProtobufObject(body),
    (err: unknown) => err instanceof ApiError && err.code === 400 && pattern.test(err.message),
  );
}

describe('kubectl request bodies', () => {
  for (const fixture of FIXTURES) {
    test(fixture.command, () => {
      assert.deepEqual(decodeProtobufObject(Buffer.from(fixture.protobuf, 'base64')), withoutNulls(fixture.json));
    });
  }

  test('the fixtures exercise the JSON shape rules', () => {
    const decoded = new Map(
      FIXTURES.map((f) => [
        f.command.split(' ').slice(1, 4).join(' '),
        decodeProtobufObject(Buffer.from(f.protobuf, 'base64')),
      ]),
    );
    const cm = decoded.get('create configmap cfg') as {
      binaryData: Record<string, string>;
      data: Record<string, string>;
    };
    assert.equal(Buffer.from(cm.binaryData.bin, 'base64').length, 64); // []byte → base64
    assert.deepEqual(cm.data, { a: 'b', c: 'd' }); // map entries → object
    const zero = FIXTURES.find((f) => f.command.includes('--replicas=0'));
    const dep = decodeProtobufObject(Buffer.from(zero!.protobuf, 'base64')) as { spec: { replicas: number } };
    assert.equal(dep.spec.replicas, 0); // a set pointer stays even when zero
    const svc = decoded.get('create service clusterip') as { spec: { ports: { targetPort: unknown }[] } };
    assert.deepEqual(
      svc.spec.ports.map((p) => p.targetPort),
      [8080, 'https'],
    ); // IntOrString
    const quota = decoded.get('create quota q') as { spec: { hard: Record<string, string> } };
    assert.deepEqual(quota.spec.hard, { cpu: '1', memory: '1Gi', pods: '10' }); // Quantity
    const ns = decoded.get('create namespace demo') as { metadata: Record<string, unknown> };
    assert.deepEqual(ns.metadata, { name: 'demo' }); // empty strings, 0 generation and zero creationTimestamp dropped
  });
});

describe('hand-made messages', () => {
  test('times: Time (whole seconds), MicroTime (six digits), zero Time left out', () => {
    const event = decodeProtobufObject(
      envelope(
        'events.k8s.io/v1',
        'Event',
        meta('e'),
        len(2, int(1, 1_795_773_600), int(2, 123_456_789)),
        len(3, int(1, 0), len(2, int(1, 1_795_773_601))),
        len(13, int(1, 1_795_773_600), int(2, 5)),
        len(14),
      ),
    );
    assert.deepEqual(event, {
      kind: 'Event',
      apiVersion: 'events.k8s.io/v1',
      metadata: { name: 'e' },
      eventTime: '2026-11-27T10:00:00.123456Z',
      series: { count: 0, lastObservedTime: '2026-11-27T10:00:01.000000Z' },
      deprecatedFirstTimestamp: '2026-11-27T10:00:00Z',
    });
  });

  test('inline structs merge into the parent; negative ints; JSON names differ from proto names', () => {
    const volume = len(1, str(1, 'cfg'), len(2, len(19, len(1, str(1, 'my-config')), int(3, 420))));
    const pod = decodeProtobufObject(
      envelope('v1', 'Pod', meta('p'), len(2, volume, len(2, str(1, 'c'), str(2, 'nginx')))),
    );
    assert.deepEqual(pod.spec, {
      volumes: [{ name: 'cfg', configMap: { name: 'my-config', defaultMode: 420 } }],
      containers: [{ name: 'c', image: 'nginx' }],
    });
    const pc = decodeProtobufObject(envelope('scheduling.k8s.io/v1', 'PriorityClass', meta('low'), int(2, -5)));
    assert.equal(pc.value, -5);
    const ic = decodeProtobufObject(
      envelope(
        'networking.k8s.io/v1',
        'IngressClass',
        meta('ic'),
        len(2, len(2, str(1, 'example.com'), str(2, 'Params'), str(3, 'p'))),
      ),
    );
    assert.deepEqual(ic.spec, { parameters: { apiGroup: 'example.com', kind: 'Params', name: 'p' } });
  });

  test('RawExtension holds JSON or a nested protobuf object; slice wrappers become arrays', () => {
    const cr = decodeProtobufObject(
      envelope('apps/v1', 'ControllerRevision', meta('r'), len(2, str(1, '{"spec":{"x":1}}')), int(3, 2)),
    );
    assert.deepEqual(cr, {
      kind: 'ControllerRevision',
      apiVersion: 'apps/v1',
      metadata: { name: 'r' },
      data: { spec: { x: 1 } },
      revision: 2,
    });
    const watch = decodeProtobufObject(
      envelope('v1', 'WatchEvent', str(1, 'ADDED'), len(2, len(1, envelope('v1', 'Namespace', meta('n'))))),
    );
    assert.deepEqual(watch.object, { kind: 'Namespace', apiVersion: 'v1', metadata: { name: 'n' } });
    const sar = decodeProtobufObject(
      envelope(
        'authorization.k8s.io/v1',
        'SubjectAccessReview',
        meta(''),
        len(2, str(3, 'alice'), len(5, str(1, 'team'), len(2, str(1, 'a'), str(1, 'b')))),
      ),
    );
    assert.deepEqual(sar.spec, { user: 'alice', extra: { team: ['a', 'b'] } });
  });

  test('meta kinds decode under any group; unknown field numbers are skipped', () => {
    const del = decodeProtobufObject(envelope('apps/v1', 'DeleteOptions', int(1, 0), str(4, 'Foreground'), int(99, 7)));
    assert.deepEqual(del, {
      kind: 'DeleteOptions',
      apiVersion: 'apps/v1',
      gracePeriodSeconds: 0,
      propagationPolicy: 'Foreground',
    });
  });

  test('an Unknown carrying JSON is taken as JSON', () => {
    const body = Buffer.concat([
      PROTOBUF_MAGIC,
      len(1, str(1, 'v1'), str(2, 'ConfigMap')),
      str(2, '{"data":{"a":"b"}}'),
      str(4, 'application/json'),
    ]);
    assert.deepEqual(decodeProtobufObject(body), { kind: 'ConfigMap', apiVersion: 'v1', data: { a: 'b' } });
  });
});

describe('bad input is a 400, never a crash or a hang', () => {
  test('missing prefix, missing or unknown kind, encodings', () => {
    rejects(Buffer.from('{"kind":"Pod"}'), /prefix/);
    rejects(Buffer.concat([PROTOBUF_MAGIC, len(2, meta('x'))]), /Kind/);
    rejects(envelope('v1', 'Widget', meta('x')), /no kind "Widget" is registered for version "v1"/);
    rejects(envelope('example.com/v1', 'Pod', meta('x')), /no kind "Pod"/);
    rejects(Buffer.concat([envelope('v1', 'Pod'), str(3, 'gzip')]), /content encoding/);
  });

  test('wrong wire types, truncation and bad embedded JSON', () => {
    rejects(envelope('v1', 'Pod', int(1, 5)), /length-delimited/);
    rejects(envelope('v1', 'ConfigMap', len(1, int(1, 5))), /does not carry a string/);
    rejects(envelope('v1', 'Pod', meta('x')).subarray(0, -3), /longer than the message|truncated/);
    rejects(envelope('apps/v1', 'ControllerRevision', len(2, str(1, '{nope'))), /not JSON/);
  });

  test('nesting is bounded', () => {
    let inner = envelope('v1', 'Namespace', meta('n'));
    for (let i = 0; i < 80; i++) inner = envelope('v1', 'WatchEvent', str(1, 'ADDED'), len(2, len(1, inner)));
    rejects(inner, /nested more than/);
  });

  test('random bytes after the prefix never throw anything but a 400', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed;
    };
    const valid = Buffer.from(FIXTURES[7].protobuf, 'base64');
    for (let i = 0; i < 500; i++) {
      const body = Buffer.from(valid);
      for (let j = 0; j < 3; j++) body[4 + (random() % (body.length - 4))] = random() % 256;
      try {
        decodeProtobufObject(body);
      } catch (err) {
        assert.ok(err instanceof ApiError && err.code === 400, String(err));
      }
    }
  });
});

test('isProtobufMediaType', () => {
  assert.equal(isProtobufMediaType('application/vnd.kubernetes.protobuf'), true);
  assert.equal(isProtobufMediaType('Application/VND.Kubernetes.Protobuf; charset=binary'), true);
  assert.equal(isProtobufMediaType('application/json'), false);
  assert.equal(isProtobufMediaType('application/vnd.kubernetes.protobuf;stream=watch'), true);
});
