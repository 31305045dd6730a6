import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../api/types.ts';
import {
  desiredMirror,
  MIRROR_CONTROLLER_NAME,
  parseAddress,
  planMirroredSlices,
  shouldMirror,
  wantsMirror,
} from './endpointslice-mirroring-plan.ts';

// biome-ignore lint/suspicious/noExplicitAny: test fixtures are plain JSON
type Json = any;

const eps = (subsets: Json[], meta: Partial<KubeObject['metadata']> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Endpoints',
  metadata: { name: 'db', namespace: 'default', uid: 'ep-uid', ...meta },
  subsets,
});

const port = { name: 'pg', port: 5432, protocol: 'TCP' };

/** What the apiserver would hand back after creating a planned slice. */
let made = 0;
const stored = (slice: KubeObject): KubeObject => ({
  ...slice,
  metadata: { ...slice.metadata, name: slice.metadata.name ?? `${slice.metadata.generateName}x${++made}`, resourceVersion: String(made) },
});

describe('shouldMirror and wantsMirror', () => {
  test('skip-mirror label and leader-election annotation opt out', () => {
    assert.equal(shouldMirror(eps([])), true);
    assert.equal(shouldMirror(eps([], { labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } })), false);
    assert.equal(shouldMirror(eps([], { labels: { 'endpointslice.kubernetes.io/skip-mirror': 'false' } })), true);
    assert.equal(shouldMirror(eps([], { annotations: { 'control-plane.alpha.kubernetes.io/leader': '{}' } })), false);
    assert.equal(shouldMirror(undefined), false);
  });

  test('needs a Service without a selector (an empty selector counts as none)', () => {
    const e = eps([]);
    assert.equal(wantsMirror(e, undefined), false);
    assert.equal(wantsMirror(e, { metadata: { name: 'db' }, spec: {} }), true);
    assert.equal(wantsMirror(e, { metadata: { name: 'db' }, spec: { selector: {} } }), true);
    assert.equal(wantsMirror(e, { metadata: { name: 'db' }, spec: { selector: { app: 'db' } } }), false);
  });
});

describe('parseAddress', () => {
  test('IPv4, sloppy leading zeros, IPv6 canonical form, mapped IPv4, junk', () => {
    assert.deepEqual(parseAddress('10.0.0.1'), { address: '10.0.0.1', addressType: 'IPv4' });
    assert.deepEqual(parseAddress('010.000.0.01'), { address: '10.0.0.1', addressType: 'IPv4' });
    assert.deepEqual(parseAddress('FD00:0:0:0:0:0:0:1'), { address: 'fd00::1', addressType: 'IPv6' });
    assert.deepEqual(parseAddress('::ffff:192.168.1.2'), { address: '192.168.1.2', addressType: 'IPv4' });
    assert.equal(parseAddress('256.0.0.1'), undefined);
    assert.equal(parseAddress('db.example.com'), undefined);
    assert.equal(parseAddress('fe80::1%eth0'), undefined);
    assert.equal(parseAddress(''), undefined);
  });
});

describe('desiredMirror', () => {
  test('ready and not-ready addresses keep hostname, nodeName and targetRef; IPv6 gets its own group', () => {
    const targetRef = { kind: 'Pod', namespace: 'default', name: 'p1', uid: 'u1' };
    const { groups, invalid, skipped } = desiredMirror(
      eps([
        {
          addresses: [{ ip: '10.0.0.1', hostname: 'a', nodeName: 'n1', targetRef }, { ip: 'fd00::2' }],
          notReadyAddresses: [{ ip: '10.0.0.3' }, { ip: 'nope' }],
          ports: [port],
        },
      ]),
    );
    assert.equal(invalid, 1);
    assert.equal(skipped, 1);
    const v4 = [...groups.values()].find((g) => g.addressType === 'IPv4');
    const v6 = [...groups.values()].find((g) => g.addressType === 'IPv6');
    assert.deepEqual([...(v4?.endpoints.values() ?? [])], [
      { addresses: ['10.0.0.1'], conditions: { ready: true }, hostname: 'a', nodeName: 'n1', targetRef },
      { addresses: ['10.0.0.3'], conditions: { ready: false } },
    ]);
    assert.deepEqual([...(v6?.endpoints.values() ?? [])], [{ addresses: ['fd00::2'], conditions: { ready: true } }]);
    assert.deepEqual(v4?.ports, [port]);
  });

  test('subsets with the same ports (in any order) share a group; an address listed twice appears once', () => {
    const p2 = { name: 'metrics', port: 9000, protocol: 'TCP' };
    const { groups } = desiredMirror(
      eps([
        { addresses: [{ ip: '10.0.0.1' }], ports: [port, p2] },
        { addresses: [{ ip: '10.0.0.2' }], notReadyAddresses: [{ ip: '10.0.0.1' }], ports: [p2, port] },
        { addresses: [{ ip: '10.0.0.9' }], ports: [{ port: 80 }] },
      ]),
    );
    const v4 = [...groups.values()].filter((g) => g.addressType === 'IPv4' && g.endpoints.size > 0);
    assert.equal(v4.length, 2);
    const shared = v4.find((g) => g.ports.length === 2);
    // The later listing wins: 10.0.0.1 is not ready.
    assert.deepEqual([...(shared?.endpoints.values() ?? [])].map((e) => [e.addresses[0], e.conditions.ready]), [
      ['10.0.0.1', false],
      ['10.0.0.2', true],
    ]);
    assert.deepEqual(v4.find((g) => g.ports.length === 1)?.ports, [{ name: '', port: 80, protocol: 'TCP' }]);
  });

  test('at most maxPerSubset addresses per subset, ready ones first', () => {
    const addresses = Array.from({ length: 4 }, (_, i) => ({ ip: `10.0.0.${i + 1}` }));
    const { groups, skipped } = desiredMirror(eps([{ addresses, notReadyAddresses: [{ ip: '10.0.1.1' }], ports: [port] }]), { maxPerSubset: 3 });
    const v4 = [...groups.values()].find((g) => g.addressType === 'IPv4');
    assert.deepEqual([...(v4?.endpoints.keys() ?? [])].length, 3);
    assert.ok([...(v4?.endpoints.values() ?? [])].every((e) => e.conditions.ready));
    assert.equal(skipped, 2);
  });
});

describe('planMirroredSlices', () => {
  const annotations = {
    team: 'data',
    'kubectl.kubernetes.io/last-applied-configuration': '{}',
    'endpoints.kubernetes.io/last-change-trigger-time': '2025-01-01T00:00:00Z',
  };
  const base = eps([{ addresses: [{ ip: '10.0.0.1' }], notReadyAddresses: [{ ip: '10.0.0.2' }], ports: [port] }], { labels: { tier: 'db' }, annotations });

  test('creates one labelled, owned slice per address type and port set', () => {
    const plan = planMirroredSlices(base, []);
    assert.equal(plan.update.length + plan.delete.length, 0);
    assert.equal(plan.create.length, 1);
    const [slice] = plan.create;
    assert.equal(slice.metadata.generateName, 'db-');
    assert.equal(slice.metadata.name, undefined);
    assert.deepEqual(slice.metadata.labels, {
      tier: 'db',
      'kubernetes.io/service-name': 'db',
      'endpointslice.kubernetes.io/managed-by': MIRROR_CONTROLLER_NAME,
    });
    assert.deepEqual(slice.metadata.annotations, { team: 'data' });
    assert.deepEqual(slice.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Endpoints', name: 'db', uid: 'ep-uid', controller: true, blockOwnerDeletion: true }]);
    assert.equal(slice.addressType, 'IPv4');
    assert.deepEqual(slice.ports, [port]);
    assert.deepEqual(slice.endpoints, [
      { addresses: ['10.0.0.1'], conditions: { ready: true } },
      { addresses: ['10.0.0.2'], conditions: { ready: false } },
    ]);
  });

  test('an up-to-date mirror needs no writes, even with endpoints in another order', () => {
    const [slice] = planMirroredSlices(base, []).create.map(stored);
    assert.deepEqual(planMirroredSlices(base, [slice]).update, []);
    const reordered = { ...slice, endpoints: [...slice.endpoints].reverse() };
    const plan = planMirroredSlices(base, [reordered]);
    assert.equal(plan.create.length + plan.update.length + plan.delete.length, 0);
  });

  test('a changed address, readiness, label or annotation rewrites the slice in place', () => {
    const [slice] = planMirroredSlices(base, []).create.map(stored);
    const moved = eps([{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }, { ip: '10.0.0.3' }], ports: [port] }], { labels: { tier: 'db' }, annotations });
    const plan = planMirroredSlices(moved, [slice]);
    assert.equal(plan.create.length + plan.delete.length, 0);
    assert.equal(plan.update.length, 1);
    assert.equal(plan.update[0].metadata.name, slice.metadata.name);
    assert.equal(plan.update[0].metadata.resourceVersion, slice.metadata.resourceVersion);
    assert.deepEqual(
      plan.update[0].endpoints.map((e: Json) => [e.addresses[0], e.conditions.ready]),
      [
        ['10.0.0.1', true],
        ['10.0.0.2', true],
        ['10.0.0.3', true],
      ],
    );
    const relabelled = { ...base, metadata: { ...base.metadata, labels: { tier: 'primary' } } };
    assert.equal(planMirroredSlices(relabelled, [slice]).update[0].metadata.labels?.tier, 'primary');
    const reannotated = { ...base, metadata: { ...base.metadata, annotations: {} } };
    assert.equal(planMirroredSlices(reannotated, [slice]).update[0].metadata.annotations, undefined);
  });

  test('a changed port set reuses the old slice by name; extra slices of a port set are deleted', () => {
    const [slice] = planMirroredSlices(base, []).create.map(stored);
    const newPorts = eps([{ addresses: [{ ip: '10.0.0.1' }], ports: [{ name: 'pg', port: 6432, protocol: 'TCP' }] }], base.metadata);
    const plan = planMirroredSlices(newPorts, [slice]);
    assert.equal(plan.create.length + plan.delete.length, 0);
    assert.equal(plan.update[0].metadata.name, slice.metadata.name);
    assert.deepEqual(plan.update[0].ports, [{ name: 'pg', port: 6432, protocol: 'TCP' }]);

    const dup = stored({ ...slice, metadata: { ...slice.metadata, name: undefined } });
    const twice = planMirroredSlices(base, [slice, dup]);
    assert.deepEqual(twice.delete.map((s) => s.metadata.name), [dup.metadata.name]);
    assert.equal(twice.update.length + twice.create.length, 0);
  });

  test('no addresses left: every mirrored slice goes (no placeholder)', () => {
    const [slice] = planMirroredSlices(base, []).create.map(stored);
    const plan = planMirroredSlices(eps([], base.metadata), [slice]);
    assert.deepEqual(plan.delete.map((s) => s.metadata.name), [slice.metadata.name]);
    assert.equal(plan.create.length + plan.update.length, 0);
    assert.deepEqual(planMirroredSlices(eps([{ ports: [port] }]), []).create, []);
  });

  test('IPv6 addresses go to their own slice; the IPv4 slice is not reused for them', () => {
    const [v4] = planMirroredSlices(base, []).create.map(stored);
    const v6only = eps([{ addresses: [{ ip: 'fd00::1' }], ports: [port] }], base.metadata);
    const plan = planMirroredSlices(v6only, [v4]);
    assert.equal(plan.create.length, 1);
    assert.equal(plan.create[0].addressType, 'IPv6');
    assert.deepEqual(plan.delete.map((s) => s.metadata.name), [v4.metadata.name]);
  });

  test('a re-created Endpoints (new uid) takes the slices over', () => {
    const [slice] = planMirroredSlices(base, []).create.map(stored);
    const again = { ...base, metadata: { ...base.metadata, uid: 'ep-uid-2' } };
    const plan = planMirroredSlices(again, [slice]);
    assert.equal(plan.update.length, 1);
    assert.equal(plan.update[0].metadata.ownerReferences?.[0].uid, 'ep-uid-2');
  });

  test('long names leave room for the generated suffix', () => {
    const name = 'x'.repeat(253);
    const plan = planMirroredSlices(eps([{ addresses: [{ ip: '10.0.0.1' }] }], { name }), []);
    assert.equal(plan.create[0].metadata.generateName?.length, 248);
    assert.deepEqual(plan.create[0].ports, []);
  });
});
