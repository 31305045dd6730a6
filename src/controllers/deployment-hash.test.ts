import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { computeHash, equalIgnoreHash, fnv32a, normalizeTemplate, safeEncodeString } from './deployment-hash.ts';
import { findNewReplicaSet, findOldReplicaSets, newReplicaSetFor } from './deployment-replicasets.ts';

const template = (image = 'nginx:1.14.2', labels: Record<string, string> = { app: 'nginx' }) => ({
  metadata: { labels },
  spec: { containers: [{ name: 'nginx', image, ports: [{ containerPort: 80 }] }] },
});
const deployment = (tpl = template(), status: Record<string, unknown> = {}) => ({
  metadata: { name: 'nginx-deployment', namespace: 'default', uid: 'd-1' },
  spec: { replicas: 3, selector: { matchLabels: { app: 'nginx' } }, template: tpl },
  status,
});

describe('pod-template-hash', () => {
  test('FNV-32a matches Go hash/fnv New32a on known vectors', () => {
    const enc = (s: string) => new TextEncoder().encode(s);
    assert.equal(fnv32a(enc('')), 0x811c9dc5);
    assert.equal(fnv32a(enc('a')), 0xe40c292c);
    assert.equal(fnv32a(enc('foobar')), 0xbf9cf968);
  });

  test('SafeEncodeString maps the decimal digits into the safe alphabet, as Kubernetes', () => {
    // '0'..'9' are bytes 48..57: 48 % 27 = 21 → '4' … 57 % 27 = 3 → 'f'.
    assert.equal(safeEncodeString('0123456789'), '456789bcdf');
    assert.match(computeHash(template()), /^[456789bcdf]{1,10}$/);
  });

  test('stable for equal templates whatever the key order; differs when the template or collisionCount differs', () => {
    const a = template();
    const b = { spec: { containers: [{ ports: [{ containerPort: 80 }], image: 'nginx:1.14.2', name: 'nginx' }] }, metadata: { labels: { app: 'nginx' } } };
    assert.equal(computeHash(a), computeHash(b));
    assert.notEqual(computeHash(a), computeHash(template('nginx:1.15')));
    assert.notEqual(computeHash(a), computeHash(a, 0));
    assert.notEqual(computeHash(a, 0), computeHash(a, 1));
    assert.equal(computeHash(a, 2), computeHash(b, 2));
  });

  test('equality ignores the pod-template-hash label, nulls and empty lists, but not empty objects', () => {
    const withHash = template('nginx:1.14.2', { app: 'nginx', 'pod-template-hash': 'abc' });
    assert.ok(equalIgnoreHash(template(), withHash));
    assert.ok(!equalIgnoreHash(template(), template('nginx:1.15')));
    assert.ok(equalIgnoreHash({ ...template(), spec: { ...template().spec, volumes: [] } }, template()));
    assert.ok(equalIgnoreHash({ metadata: { creationTimestamp: null, labels: { app: 'x' } }, spec: {} }, { metadata: { labels: { app: 'x' } }, spec: {} }));
    const withEmptyDir = { ...template(), spec: { ...template().spec, volumes: [{ name: 'v', emptyDir: {} }] } };
    assert.ok(!equalIgnoreHash(withEmptyDir, { ...template(), spec: { ...template().spec, volumes: [{ name: 'v' }] } }));
    assert.deepEqual(Object.keys(normalizeTemplate({ b: 1, a: null, c: [] }) as object), ['b']);
  });
});

describe('new and old ReplicaSets', () => {
  test('the new ReplicaSet is <deployment>-<hash> with the hash in its labels, selector and template', () => {
    const d = deployment();
    const ref = [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'nginx-deployment', uid: 'd-1', controller: true }];
    const rs = newReplicaSetFor(d, ref);
    const hash = computeHash(d.spec.template);
    assert.equal(rs.metadata.name, `nginx-deployment-${hash}`);
    assert.deepEqual(rs.metadata.labels, { app: 'nginx', 'pod-template-hash': hash });
    assert.deepEqual(rs.spec.selector, { matchLabels: { app: 'nginx', 'pod-template-hash': hash } });
    assert.equal(rs.spec.template.metadata.labels['pod-template-hash'], hash);
    assert.equal(rs.metadata.ownerReferences, ref);
    assert.deepEqual(d.spec.template.metadata.labels, { app: 'nginx' }, 'the deployment template is not modified');
    // After a collision the status' collisionCount gives another name.
    assert.notEqual(newReplicaSetFor(deployment(template(), { collisionCount: 1 }), ref).metadata.name, rs.metadata.name);
  });

  test('finds the oldest ReplicaSet with an equal template as new; the rest are old', () => {
    const d = deployment();
    const mk = (name: string, tpl: object, created: string) => ({ metadata: { name, uid: name, creationTimestamp: created }, spec: { template: tpl } });
    const old = mk('old', template('nginx:1.13'), '2024-01-01T00:00:00Z');
    const newer = mk('dup', template(), '2024-01-03T00:00:00Z');
    const current = mk('cur', template('nginx:1.14.2', { app: 'nginx', 'pod-template-hash': 'x' }), '2024-01-02T00:00:00Z');
    assert.equal(findNewReplicaSet(d, [old, newer, current])?.metadata.name, 'cur');
    assert.deepEqual(findOldReplicaSets(d, [old, newer, current]).map((r) => r.metadata.name), ['old', 'dup']);
    assert.equal(findNewReplicaSet(d, [old]), undefined);
  });
});
