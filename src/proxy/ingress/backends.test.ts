import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../api/types.ts';
import { BackendPools, resolveEndpoints } from './backends.ts';

const service = (ports: { name?: string; port: number; protocol?: string }[], name = 'web'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default' },
  spec: { ports },
});

type Ep = { ip: string; ready?: boolean; serving?: boolean; terminating?: boolean };
const slice = (
  name: string,
  ports: { name?: string; port: number }[],
  eps: Ep[],
  svc = 'web',
  addressType = 'IPv4',
): KubeObject =>
  ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': svc } },
    addressType,
    ports,
    endpoints: eps.map((e) => ({
      addresses: [e.ip],
      conditions: {
        ...(e.ready === undefined ? {} : { ready: e.ready }),
        ...(e.serving === undefined ? {} : { serving: e.serving }),
        ...(e.terminating === undefined ? {} : { terminating: e.terminating }),
      },
    })),
  }) as KubeObject;

describe('resolveEndpoints', () => {
  test('a port by number or by name maps to the slice port of the same name', () => {
    const svc = service([
      { name: 'http', port: 80 },
      { name: 'admin', port: 9000 },
    ]);
    const slices = [
      slice(
        'a',
        [
          { name: 'http', port: 8080 },
          { name: 'admin', port: 9090 },
        ],
        [{ ip: '10.0.0.1', ready: true }, { ip: '10.0.0.2' }],
      ),
    ];
    assert.deepEqual(resolveEndpoints(svc, slices, 80), [
      { address: '10.0.0.1', port: 8080 },
      { address: '10.0.0.2', port: 8080 },
    ]);
    assert.deepEqual(resolveEndpoints(svc, slices, 'admin'), [
      { address: '10.0.0.1', port: 9090 },
      { address: '10.0.0.2', port: 9090 },
    ]);
    assert.deepEqual(resolveEndpoints(svc, slices, 81), []);
    assert.deepEqual(resolveEndpoints(svc, slices, 'nope'), []);
    assert.deepEqual(resolveEndpoints(undefined, slices, 80), []);
  });

  test('not-ready endpoints are skipped; serving terminating ones answer only when none is ready', () => {
    const svc = service([{ port: 80 }]);
    const mixed = [
      slice(
        'a',
        [{ port: 8080 }],
        [
          { ip: '10.0.0.1', ready: false },
          { ip: '10.0.0.2', ready: false, serving: true, terminating: true },
          { ip: '10.0.0.3', ready: true },
        ],
      ),
    ];
    assert.deepEqual(resolveEndpoints(svc, mixed, 80), [{ address: '10.0.0.3', port: 8080 }]);
    const draining = [
      slice(
        'a',
        [{ port: 8080 }],
        [
          { ip: '10.0.0.1', ready: false },
          { ip: '10.0.0.2', ready: false, serving: true, terminating: true },
        ],
      ),
    ];
    assert.deepEqual(resolveEndpoints(svc, draining, 80), [{ address: '10.0.0.2', port: 8080 }]);
  });

  test('FQDN slices and UDP ports are ignored; duplicates across slices count once', () => {
    const svc = service([{ port: 80 }, { name: 'dns', port: 53, protocol: 'UDP' }]);
    const slices = [
      slice('a', [{ port: 8080 }], [{ ip: '10.0.0.1' }]),
      slice('b', [{ port: 8080 }], [{ ip: '10.0.0.1' }, { ip: 'fd00::1' }], 'web', 'IPv6'),
      slice('c', [{ port: 8080 }], [{ ip: 'example.com' }], 'web', 'FQDN'),
    ];
    assert.deepEqual(resolveEndpoints(svc, slices, 80), [
      { address: '10.0.0.1', port: 8080 },
      { address: 'fd00::1', port: 8080 },
    ]);
    assert.deepEqual(resolveEndpoints(svc, slices, 'dns'), []);
  });
});

describe('BackendPools', () => {
  test('round robin over every ready endpoint, following slice changes', () => {
    const pools = new BackendPools();
    const ref = { namespace: 'default', service: 'web', port: 80 };
    assert.equal(pools.pick(ref), undefined);
    pools.upsertService(service([{ port: 80 }]));
    const first = slice('a', [{ port: 8080 }], [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }, { ip: '10.0.0.3' }]);
    pools.upsertSlice(first);
    const counts = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const ep = pools.pick(ref)!;
      counts.set(ep.address, (counts.get(ep.address) ?? 0) + 1);
    }
    assert.deepEqual([...counts.values()], [100, 100, 100]);
    const second = slice('a', [{ port: 8080 }], [{ ip: '10.0.0.1' }, { ip: '10.0.0.2', ready: false }]);
    pools.upsertSlice(second, first);
    assert.deepEqual(pools.endpoints(ref), [{ address: '10.0.0.1', port: 8080 }]);
    pools.deleteSlice(second);
    assert.equal(pools.pick(ref), undefined);
  });

  test("a slice moving to another Service leaves the first one's pool", () => {
    const pools = new BackendPools();
    pools.upsertService(service([{ port: 80 }], 'a'));
    pools.upsertService(service([{ port: 80 }], 'b'));
    const s1 = slice('s', [{ port: 1 }], [{ ip: '10.0.0.9' }], 'a');
    pools.upsertSlice(s1);
    assert.equal(pools.endpoints({ namespace: 'default', service: 'a', port: 80 }).length, 1);
    pools.upsertSlice(slice('s', [{ port: 1 }], [{ ip: '10.0.0.9' }], 'b'), s1);
    assert.equal(pools.endpoints({ namespace: 'default', service: 'a', port: 80 }).length, 0);
    assert.equal(pools.endpoints({ namespace: 'default', service: 'b', port: 80 }).length, 1);
    pools.deleteService(service([], 'b'));
    assert.equal(pools.endpoints({ namespace: 'default', service: 'b', port: 80 }).length, 0);
  });
});
