// EndpointSlice mirroring with real kubectl against `skiff server`: a Service
// without a selector plus a hand-written Endpoints object ("Services without
// selectors") gets EndpointSlices the proxy and DNS can read, kept in step
// with the Endpoints, and removed when the Endpoints or Service goes, when the
// Service gains a selector, or when the Endpoints is labelled skip-mirror; and
// the service proxy (nftables, in hand-made pod namespaces as in
// service-proxy.test.ts) sends the Service's traffic to those addresses.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Client } from '../../src/client/index.ts';
import { resetServiceProxy, type ServiceProxy } from '../../src/proxy/index.ts';
import { type TestServer, eventually, startServer } from './harness.ts';
import { adminClient, buildTopology, type Pod, startNodeProxy, type Topology } from './proxy-topology.ts';

/** Slices must follow the Endpoints within about a second; allow for a loaded machine. */
const FOLLOW_MS = 5000;
/** How long a slice that should never appear gets to prove it does not. */
const ABSENT_MS = 1500;
const MANAGED_BY = 'endpointslice.kubernetes.io/managed-by';
const MIRRORING = 'endpointslicemirroring-controller.k8s.io';

// biome-ignore lint/suspicious/noExplicitAny: kubectl's JSON
type Json = any;

const service = (name: string, extra = '') => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
spec:
  ports:
  - name: pg
    port: 5432
${extra}`;

type Address = { ip: string; hostname?: string; nodeName?: string };
const addressYaml = (list: Address[]) =>
  list.map((a) => `    - ip: ${JSON.stringify(a.ip)}${a.hostname ? `\n      hostname: ${a.hostname}` : ''}${a.nodeName ? `\n      nodeName: ${a.nodeName}` : ''}`).join('\n');

const endpoints = (name: string, ready: Address[], notReady: Address[] = [], labels: Record<string, string> = {}) => `apiVersion: v1
kind: Endpoints
metadata:
  name: ${name}
  labels: ${JSON.stringify({ tier: 'db', ...labels })}
  annotations:
    team: data
subsets:
  - ports:
    - name: pg
      port: 5432
      protocol: TCP
${ready.length ? `    addresses:\n${addressYaml(ready)}\n` : ''}${notReady.length ? `    notReadyAddresses:\n${addressYaml(notReady)}\n` : ''}`;

describe('endpointslice mirroring', () => {
  let s: TestServer;
  const apply = (yaml: string) => s.k(['apply', '-f', '-'], yaml);
  const slicesOf = async (name: string, managedBy = MIRRORING): Promise<Json[]> => {
    const list = JSON.parse(await s.k(['get', 'endpointslices', '-l', `kubernetes.io/service-name=${name},${MANAGED_BY}=${managedBy}`, '-o', 'json']));
    return list.items;
  };
  /** address → ready, over every mirrored slice of the address type. */
  const endpointsIn = (slices: Json[], addressType = 'IPv4') =>
    Object.fromEntries(
      slices
        .filter((sl) => sl.addressType === addressType)
        .flatMap((sl) => (sl.endpoints ?? []) as Json[])
        .map((e) => [e.addresses[0], e.conditions.ready]),
    );
  const settled = <T>(what: string, check: () => Promise<T | undefined | false>) => eventually(check, FOLLOW_MS, what);
  const gone = (name: string) => settled(`mirrored slices of ${name} removed`, async () => (await slicesOf(name)).length === 0);

  before(async () => {
    s = await startServer();
  });
  after(async () => {
    await s?.stop();
  });

  test('a selectorless Service with a hand-written Endpoints gets mirrored slices', async () => {
    await apply(service('db'));
    await apply(endpoints('db', [{ ip: '10.1.0.5', hostname: 'primary', nodeName: 'db-node' }, { ip: 'fd00::5' }], [{ ip: '10.1.0.6' }]));
    const slices = await settled('IPv4 and IPv6 slices', async () => {
      const got = await slicesOf('db');
      return got.length === 2 ? got : undefined;
    });
    const v4 = slices.find((sl) => sl.addressType === 'IPv4');
    const v6 = slices.find((sl) => sl.addressType === 'IPv6');
    assert.ok(v4 && v6, 'one slice per address type');
    assert.match(v4.metadata.name, /^db-[a-z0-9]{5}$/);
    assert.deepEqual(v4.metadata.labels, { tier: 'db', 'kubernetes.io/service-name': 'db', [MANAGED_BY]: MIRRORING });
    assert.deepEqual(v4.metadata.annotations, { team: 'data' }, 'annotations copied except last-applied-configuration');
    const ep = JSON.parse(await s.k(['get', 'endpoints', 'db', '-o', 'json']));
    assert.deepEqual(v4.metadata.ownerReferences, [{ apiVersion: 'v1', kind: 'Endpoints', name: 'db', uid: ep.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    assert.deepEqual(v4.ports, [{ name: 'pg', port: 5432, protocol: 'TCP' }]);
    assert.deepEqual(v4.endpoints, [
      { addresses: ['10.1.0.5'], conditions: { ready: true }, hostname: 'primary', nodeName: 'db-node' },
      { addresses: ['10.1.0.6'], conditions: { ready: false } },
    ]);
    assert.deepEqual(v6.endpoints, [{ addresses: ['fd00::5'], conditions: { ready: true } }]);
    assert.deepEqual(await slicesOf('kubernetes'), [], "the API server's own Endpoints is labelled skip-mirror");
    // kubectl's table shows the mirrored addresses.
    assert.match(await s.k(['get', 'endpointslice', v4.metadata.name, '--no-headers']), /IPv4\s+5432\s+10\.1\.0\.5,10\.1\.0\.6/);
  });

  test('slices follow Endpoints updates in place; a deleted slice comes back', async () => {
    const before = (await slicesOf('db')).find((sl) => sl.addressType === 'IPv4');
    await apply(endpoints('db', [{ ip: '10.1.0.6' }, { ip: '10.1.0.7' }], [{ ip: '10.1.0.5', hostname: 'primary', nodeName: 'db-node' }]));
    const after = await settled('the slice to follow', async () => {
      const got = await slicesOf('db');
      const eps = endpointsIn(got);
      return got.length === 1 && eps['10.1.0.5'] === false && eps['10.1.0.6'] === true && eps['10.1.0.7'] === true ? got : undefined;
    });
    assert.equal(after[0].metadata.name, before.metadata.name, 'updated, not replaced');
    assert.deepEqual(endpointsIn(after, 'IPv6'), {}, 'the IPv6 slice went with the last IPv6 address');

    await s.k(['delete', 'endpointslice', before.metadata.name]);
    const again = await settled('a new mirrored slice', async () => {
      const got = await slicesOf('db');
      return got.length === 1 && got[0].metadata.name !== before.metadata.name ? got : undefined;
    });
    assert.deepEqual(endpointsIn(again), { '10.1.0.5': false, '10.1.0.6': true, '10.1.0.7': true });
  });

  test('skip-mirror keeps an Endpoints out; removing the label mirrors it', async () => {
    await apply(service('skipped'));
    await apply(service('sentinel'));
    await apply(endpoints('skipped', [{ ip: '10.2.0.1' }], [], { 'endpointslice.kubernetes.io/skip-mirror': 'true' }));
    await apply(endpoints('sentinel', [{ ip: '10.2.0.2' }]));
    // Created after the skipped one, so once it is mirrored the other has been looked at.
    await settled('the sentinel mirrored', async () => (await slicesOf('sentinel')).length === 1);
    await new Promise((r) => setTimeout(r, ABSENT_MS));
    assert.deepEqual(await slicesOf('skipped'), []);
    await s.k(['label', 'endpoints', 'skipped', 'endpointslice.kubernetes.io/skip-mirror-']);
    const slices = await settled('mirrored once the label is gone', async () => {
      const got = await slicesOf('skipped');
      return got.length === 1 ? got : undefined;
    });
    assert.deepEqual(endpointsIn(slices), { '10.2.0.1': true });
    await s.k(['label', 'endpoints', 'skipped', 'endpointslice.kubernetes.io/skip-mirror=true']);
    await gone('skipped');
  });

  test('a Service that gains a selector loses its mirrored slices; slices of others stay', async () => {
    await apply(service('cache'));
    await apply(endpoints('cache', [{ ip: '10.3.0.1' }]));
    // A slice someone else manages for the same Service.
    await apply(`apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: cache-manual
  labels:
    kubernetes.io/service-name: cache
    ${MANAGED_BY}: someone-else
addressType: IPv4
ports:
- name: pg
  port: 5432
endpoints:
- addresses: ["10.3.0.9"]
`);
    await settled('cache mirrored', async () => (await slicesOf('cache')).length === 1);
    await apply(service('cache', '  selector:\n    app: cache\n'));
    await gone('cache');
    // The selector-based controller takes over with its own (empty) slice and leaves the foreign one alone.
    await settled('the endpointslice controller’s slice', async () => (await slicesOf('cache', 'endpointslice-controller.k8s.io')).length === 1);
    const manual = JSON.parse(await s.k(['get', 'endpointslice', 'cache-manual', '-o', 'json']));
    assert.deepEqual(manual.endpoints, [{ addresses: ['10.3.0.9'] }]);
  });

  test('at most 1000 addresses of a subset are mirrored, with a warning Event on the Endpoints', async () => {
    await apply(service('big'));
    const many = Array.from({ length: 1001 }, (_, i) => ({ ip: `10.4.${i >> 8}.${i & 255}` }));
    await s.k(['create', '-f', '-'], endpoints('big', many));
    const [slice] = await settled('the big slice', async () => {
      const got = await slicesOf('big');
      return got.length === 1 ? got : undefined;
    });
    assert.equal(slice.endpoints.length, 1000);
    const event = await settled('a TooManyAddressesToMirror Event', async () => {
      const list = JSON.parse(await s.k(['get', 'events', '--field-selector', 'involvedObject.name=big,involvedObject.kind=Endpoints', '-o', 'json']));
      return list.items.find((e: Json) => e.reason === 'TooManyAddressesToMirror');
    });
    assert.equal(event.type, 'Warning');
    assert.equal(event.message, 'A max of 1000 addresses can be mirrored to EndpointSlices per Endpoints subset. 1 addresses were skipped');
    assert.equal(event.source.component, 'endpoint-slice-mirroring-controller');
  });

  test('deleting the Endpoints, or the Service, removes the mirrored slices', async () => {
    await s.k(['delete', 'endpoints', 'db']);
    await gone('db');
    assert.equal((await slicesOf('sentinel')).length, 1);
    await s.k(['delete', 'service', 'sentinel']);
    await gone('sentinel');
  });
});

// The point of mirroring: the service proxy reads only EndpointSlices, so a
// selectorless Service answers through its VIP once its Endpoints is mirrored.
describe('endpointslice mirroring: traffic through the VIP', { timeout: 90_000 }, () => {
  let s: TestServer;
  let topo: Topology;
  let proxy: ServiceProxy;
  let api: Client;
  let p1: Pod;
  let p2: Pod;
  let vip = '';
  const stop = new AbortController();
  const webEndpoints = (ready: Pod[], notReady: Pod[] = []) =>
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name: 'web', namespace: 'default' },
      subsets: [{ addresses: ready.map((p) => ({ ip: p.ip })), notReadyAddresses: notReady.map((p) => ({ ip: p.ip })), ports: [{ name: 'http', port: 80 }] }],
    });
  /** The set of pods that answered n requests from the node. */
  const answers = async (n = 16) => {
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) seen.add(await topo.get(undefined, `http://${vip}/`));
    return [...seen].sort().join(',');
  };

  before(async () => {
    s = await startServer();
    topo = buildTopology();
    p1 = topo.addPod('pod1', '10.244.0.2');
    p2 = topo.addPod('pod2', '10.244.0.3');
    await s.k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ name: 'http', port: 80 }] } }));
    vip = (await s.k(['get', 'svc', 'web', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    api = adminClient(s);
    proxy = await startNodeProxy({ client: api, nodeName: 'node-a', signal: stop.signal, backend: 'nftables' });
    assert.equal(await proxy.synced, true);
  });

  after(async () => {
    stop.abort();
    await proxy?.stopped;
    api?.close();
    await resetServiceProxy();
    topo?.close();
    await s?.stop();
  });

  test('the VIP answers from the hand-written addresses and follows their readiness', async () => {
    assert.match(await topo.get(undefined, `http://${vip}/`, 1), /^ERR/, 'no endpoints yet');
    await s.k(['apply', '-f', '-'], webEndpoints([p1]));
    await eventually(async () => (await answers(4)) === 'pod1', FOLLOW_MS, 'pod1 behind the VIP');
    await s.k(['apply', '-f', '-'], webEndpoints([p1, p2]));
    await eventually(async () => (await answers()) === 'pod1,pod2', FOLLOW_MS, 'both pods behind the VIP');
    await s.k(['apply', '-f', '-'], webEndpoints([p2], [p1]));
    await eventually(async () => (await answers()) === 'pod2', FOLLOW_MS, 'only the ready pod');
    await s.k(['delete', 'endpoints', 'web']);
    await eventually(async () => (await topo.get(undefined, `http://${vip}/`, 1)).startsWith('ERR'), FOLLOW_MS, 'the VIP to stop answering');
  });
});
