import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { KubeObject } from '../../api/types.ts';
import { createLogger } from '../../lib/log.ts';
import { openSqliteStore, type SqliteStore } from '../../store/index.ts';
import { createIpAllocator, ipRangeSpec, nthServiceIp } from './ip-allocator.ts';
import { createPortAllocator, portRangeSpec } from './port-allocator.ts';
import type { AllocationError } from './range-allocator.ts';
import { releasedBy, repairAllocations, staleCheck } from './repair.ts';
import { serviceAllocationHook } from './service-admission.ts';

const SERVICES = '/registry/core/services/';
const log = createLogger('test');
const own = (name: string) => ({ namespace: 'default', name });

describe('ranges', () => {
  test('IP range skips network and broadcast; static band is the lower 1/16 capped at 256', () => {
    const spec = ipRangeSpec('10.96.0.0/12');
    assert.equal(spec.size, 2 ** 20 - 2);
    assert.equal(spec.staticBand, 256);
    assert.equal(spec.itemAt(0), '10.96.0.1');
    assert.equal(spec.offsetOf('10.96.0.10'), 9);
    assert.equal(spec.offsetOf('10.96.0.0'), undefined);
    assert.equal(spec.offsetOf('10.111.255.255'), undefined);
    assert.equal(spec.offsetOf('10.112.0.1'), undefined);
    assert.equal(spec.offsetOf('nonsense'), undefined);
    assert.equal(nthServiceIp('10.43.0.0/16', 10), '10.43.0.10');
    assert.equal(ipRangeSpec('10.0.0.0/28').staticBand, 0, 'tiny ranges have no static band');
  });

  test('port range 30000-32767 keeps 86 ports for static requests', () => {
    const spec = portRangeSpec({ first: 30000, last: 32767 });
    assert.equal(spec.size, 2768);
    assert.equal(spec.staticBand, 86);
    assert.equal(spec.offsetOf('30000'), 0);
    assert.equal(spec.offsetOf('29999'), undefined);
    assert.equal(spec.offsetOf('32768'), undefined);
  });
});

describe('persistent allocators', () => {
  let dir: string;
  let store: SqliteStore;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-alloc-'));
    store = await openSqliteStore({ path: join(dir, 'db') });
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('dynamic IPs avoid the static band; requested ones conflict with a clear reason', async () => {
    const ips = createIpAllocator({ store, serviceCidr: '10.96.0.0/12' });
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const ip = await ips.allocateNext(own(`s${i}`));
      assert.ok(ipRangeSpec('10.96.0.0/12').offsetOf(ip)! >= 256, ip);
      seen.add(ip);
    }
    assert.equal(seen.size, 20);
    await ips.allocate('10.96.0.5', own('a'));
    await ips.allocate('10.96.0.5', own('a')); // the same owner again: a retried write
    await assert.rejects(ips.allocate('10.96.0.5', own('b')), (err: AllocationError) => err.kind === 'allocated' && err.message === 'provided IP is already allocated');
    await assert.rejects(ips.allocate('10.0.0.5', own('b')), /the provided IP \(10\.0\.0\.5\) is not in the valid range\. The range of valid IPs is 10\.96\.0\.0\/12/);
    assert.equal(await ips.release('10.96.0.5', own('b')), false, 'only the holder releases');
    assert.equal(await ips.release('10.96.0.5', own('a')), true);
    await ips.allocate('10.96.0.5', own('b'));
  });

  test('a small range fills up, then falls back to the static band, then is full', async () => {
    const ports = createPortAllocator({ store, range: { first: 40000, last: 40019 } });
    const got = new Set<string>();
    for (let i = 0; i < 20; i++) got.add(await ports.allocateNext(own(`p${i}`)));
    assert.equal(got.size, 20);
    await assert.rejects(ports.allocateNext(own('late')), (err: AllocationError) => err.kind === 'full');
    await assert.rejects(ports.allocate('40001', own('late')), /provided port is already allocated/);
    await assert.rejects(ports.allocate('40020', own('late')), /provided port is not in the valid range\. The range of valid ports is 40000-40019/);
  });

  test('allocations survive a restart of the store', async () => {
    const path = join(dir, 'restart-db');
    let s = await openSqliteStore({ path });
    await createIpAllocator({ store: s, serviceCidr: '10.96.0.0/12' }).allocate('10.96.0.77', own('keep'));
    await s.close();
    s = await openSqliteStore({ path });
    const ips = createIpAllocator({ store: s, serviceCidr: '10.96.0.0/12' });
    assert.deepEqual((await ips.holder('10.96.0.77'))?.owner, own('keep'));
    await assert.rejects(ips.allocate('10.96.0.77', own('other')), /already allocated/);
    await s.close();
  });

  test('repair frees leaks after the grace period and re-reserves what Services use', async () => {
    const path = join(dir, 'repair-db');
    const s = await openSqliteStore({ path });
    let nowMs = Date.parse('2025-01-01T00:00:00Z');
    const now = () => new Date(nowMs);
    const base = { store: s, servicesPrefix: SERVICES, log, now, leakGraceMs: 30_000 };
    const allocators = {
      ips: createIpAllocator({ store: s, serviceCidr: '10.96.0.0/12', now, isStale: staleCheck(base, 'ips') }),
      ports: createPortAllocator({ store: s, now, isStale: staleCheck(base, 'ports') }),
    };
    // A Service stored without reservations (e.g. written before a crash), and a reservation nobody uses.
    const svc: KubeObject = {
      metadata: { name: 'web', namespace: 'default' },
      spec: { type: 'NodePort', clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], ports: [{ port: 80, nodePort: 30080 }] },
    };
    await s.create(`${SERVICES}default/web`, JSON.stringify(svc));
    await allocators.ips.allocate('10.96.0.30', own('crashed'));
    await allocators.ports.allocate('30090', own('crashed'));

    let result = await repairAllocations({ ...base, allocators });
    assert.deepEqual(result.reserved.sort(), ['10.96.0.20', '30080']);
    assert.deepEqual(result.freed, [], 'young leaks may be writes in flight');
    await assert.rejects(allocators.ips.allocate('10.96.0.30', own('new')), /already allocated/);

    nowMs += 31_000;
    // The conflict path takes over a stale reservation at once…
    await allocators.ips.allocate('10.96.0.30', own('new'));
    // …and the repair loop frees the rest.
    result = await repairAllocations({ ...base, allocators });
    assert.deepEqual(result.freed, ['30090']);
    assert.equal(await allocators.ports.holder('30090'), undefined);
    assert.deepEqual((await allocators.ports.holder('30080'))?.owner, own('web'));
    await s.close();
  });

  test('releasedBy: deletes free everything, updates what they stopped using', () => {
    const kv = (obj: KubeObject) => ({ key: `${SERVICES}default/web`, value: JSON.stringify(obj), createRevision: 1, modRevision: 2 });
    const np: KubeObject = { metadata: { name: 'web', namespace: 'default' }, spec: { type: 'NodePort', clusterIP: '10.96.0.20', ports: [{ port: 80, nodePort: 30080 }] } };
    const cip: KubeObject = { metadata: { name: 'web', namespace: 'default' }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.20', ports: [{ port: 80 }] } };
    assert.deepEqual(releasedBy({ type: 'delete', kv: kv(np) }), { owner: own('web'), ips: ['10.96.0.20'], ports: ['30080'] });
    assert.deepEqual(releasedBy({ type: 'update', kv: kv(cip), prev: kv(np) }), { owner: own('web'), ips: [], ports: ['30080'] });
    assert.equal(releasedBy({ type: 'update', kv: kv(np), prev: kv(cip) }), undefined);
  });
});

describe('admission', () => {
  let dir: string;
  let store: SqliteStore;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-svc-adm-'));
    store = await openSqliteStore({ path: join(dir, 'db') });
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const def = { group: '', kind: 'Service' } as never;
  const ctx = { dryRun: false } as never;

  test('ClusterIP, NodePort, LoadBalancer health check, headless and conflicts', async () => {
    const allocators = { ips: createIpAllocator({ store, serviceCidr: '10.96.0.0/12' }), ports: createPortAllocator({ store }) };
    const admit = serviceAllocationHook(allocators);
    const hook = async (args: Parameters<typeof admit>[0]) => admit(args);
    const svc = (name: string, spec: Record<string, unknown>): KubeObject => ({ metadata: { name, namespace: 'default' }, spec });

    const a = svc('a', { type: 'NodePort', clusterIP: '10.96.0.5', ports: [{ port: 53, protocol: 'UDP' }, { port: 53, protocol: 'TCP' }, { port: 80, protocol: 'TCP', nodePort: 30080 }] });
    await hook({ operation: 'create', def, obj: a, old: undefined, subresource: '', ctx });
    assert.deepEqual(a.spec.clusterIPs, ['10.96.0.5']);
    assert.deepEqual(a.spec.ipFamilies, ['IPv4']);
    assert.equal(a.spec.ipFamilyPolicy, 'SingleStack');
    assert.equal(a.spec.ports[0].nodePort, a.spec.ports[1].nodePort, 'TCP and UDP on one port share a node port');
    assert.equal(a.spec.ports[2].nodePort, 30080);

    const b = svc('b', { type: 'ClusterIP', clusterIP: '10.96.0.5', ports: [{ port: 80 }] });
    await assert.rejects(hook({ operation: 'create', def, obj: b, old: undefined, subresource: '', ctx }), (err: Error) => {
      assert.equal(err.message, 'Service "b" is invalid: spec.clusterIPs: Invalid value: []string{"10.96.0.5"}: failed to allocate IP 10.96.0.5: provided IP is already allocated');
      return true;
    });
    const c = svc('c', { type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] });
    await assert.rejects(hook({ operation: 'create', def, obj: c, old: undefined, subresource: '', ctx }), /spec\.ports\[0\]\.nodePort: Invalid value: 30080: provided port is already allocated/);
    assert.equal(await allocators.ips.holder(c.spec.clusterIP ?? 'none'), undefined, 'the failed request gave back its ClusterIP');

    const lb = svc('lb', { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80 }] });
    await hook({ operation: 'create', def, obj: lb, old: undefined, subresource: '', ctx });
    assert.ok(lb.spec.healthCheckNodePort >= 30000 && lb.spec.ports[0].nodePort >= 30000);

    const headless = svc('h', { type: 'ClusterIP', clusterIP: 'None', selector: { app: 'x' } });
    await hook({ operation: 'create', def, obj: headless, old: undefined, subresource: '', ctx });
    assert.deepEqual(headless.spec.clusterIPs, ['None']);

    // ClusterIP → NodePort allocates; the IP stays.
    const before = svc('d', { type: 'ClusterIP', ports: [{ port: 80 }] });
    await hook({ operation: 'create', def, obj: before, old: undefined, subresource: '', ctx });
    const changed = structuredClone(before);
    changed.spec.type = 'NodePort';
    await hook({ operation: 'update', def, obj: changed, old: before, subresource: '', ctx });
    assert.equal(changed.spec.clusterIP, before.spec.clusterIP);
    assert.ok(changed.spec.ports[0].nodePort >= 30000);

    const dry = svc('dry', { type: 'NodePort', ports: [{ port: 80, nodePort: 30099 }] });
    await hook({ operation: 'create', def, obj: dry, old: undefined, subresource: '', ctx: { dryRun: true } as never });
    assert.equal(await allocators.ports.holder('30099'), undefined, 'dry run reserves nothing');
  });
});
