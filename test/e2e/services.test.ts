// Services on `skiff server --simulated-nodes 3` with real kubectl: ClusterIP,
// NodePort, LoadBalancer, ExternalName and headless as kubectl prints them,
// allocation conflicts, the kubernetes and kube-dns Services, endpoints that
// follow the seed's deployments and pod readiness, and allocations that
// survive a restart and are freed on delete.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestServer, eventually, startServer } from './harness.ts';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;
/** Endpoints must follow pods within about a second; allow for a loaded machine. */
const FOLLOW_MS = 5000;

type Row = { type: string; clusterIp: string; externalIp: string; ports: string };

describe('services', () => {
  let s: TestServer;
  const row = async (name: string, namespace = 'default'): Promise<Row> => {
    const [, type, clusterIp, externalIp, ports] = (await s.k(['get', 'svc', name, '-n', namespace, '--no-headers'])).trim().split(/\s+/);
    return { type, clusterIp, externalIp, ports };
  };
  const json = async (args: string[]) => JSON.parse(await s.k([...args, '-o', 'json']));
  const readyIps = async (name: string): Promise<string[]> => {
    const ep = await json(['get', 'endpoints', name]);
    return (ep.subsets ?? []).flatMap((ss: { addresses?: { ip: string }[] }) => (ss.addresses ?? []).map((a) => a.ip)).sort();
  };
  const sliceIps = async (name: string): Promise<string[]> => {
    const list = await json(['get', 'endpointslices', '-l', `kubernetes.io/service-name=${name}`]);
    return list.items.flatMap((sl: { endpoints?: { addresses: string[]; conditions: { ready: boolean } }[] }) =>
      (sl.endpoints ?? []).filter((e) => e.conditions.ready).map((e) => e.addresses[0]),
    ).sort();
  };

  before(async () => {
    s = await startServer(['--simulated-nodes', '3']);
  });
  after(async () => {
    await s?.stop();
  });

  test('kubernetes and kube-dns Services have their fixed addresses', async () => {
    assert.deepEqual(await row('kubernetes'), { type: 'ClusterIP', clusterIp: '10.96.0.1', externalIp: '<none>', ports: '443/TCP' });
    assert.deepEqual(await row('kube-dns', 'kube-system'), { type: 'ClusterIP', clusterIp: '10.96.0.10', externalIp: '<none>', ports: '53/UDP,53/TCP,9153/TCP' });
    const port = new URL(s.url).port;
    assert.equal((await s.k(['get', 'endpoints', 'kubernetes', '--no-headers'])).trim().split(/\s+/)[1], `127.0.0.1:${port}`);
    const slice = await json(['get', 'endpointslice', 'kubernetes']);
    assert.deepEqual(slice.ports, [{ name: 'https', port: Number(port), protocol: 'TCP' }]);
    const dns = await json(['get', 'svc', 'kube-dns', '-n', 'kube-system']);
    assert.deepEqual(dns.spec.selector, { 'k8s-app': 'kube-dns' });
  });

  test('each type as kubectl prints it', async () => {
    await s.k(['create', 'deployment', 'web', '--image=nginx', '--port=80', '--replicas=1']);
    await s.k(['expose', 'deployment', 'web', '--port=80', '--name=web-cip']);
    await s.k(['expose', 'deployment', 'web', '--port=80', '--type=NodePort', '--name=web-np']);
    await s.k(['create', 'service', 'loadbalancer', 'web-lb', '--tcp=80:80']);
    await s.k(['create', 'service', 'externalname', 'web-ext', '--external-name=example.com']);
    await s.k(['create', 'service', 'clusterip', 'web-headless', '--clusterip=None']);
    const cip = await row('web-cip');
    assert.equal(cip.type, 'ClusterIP');
    assert.match(cip.clusterIp, /^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/);
    assert.equal(cip.ports, '80/TCP');
    const np = await row('web-np');
    assert.match(np.ports, /^80:(3[0-2]\d{3})\/TCP$/);
    const nodePort = Number(/:(\d+)/.exec(np.ports)![1]);
    assert.ok(nodePort >= 30000 && nodePort <= 32767);
    const lb = await eventually(async () => {
      const r = await row('web-lb');
      return r.externalIp !== '<pending>' ? r : undefined;
    }, FOLLOW_MS, 'load balancer ingress');
    assert.equal(lb.externalIp, '198.18.0.1,198.18.0.129,198.18.1.1', 'the nodes’ addresses, as k3s ServiceLB reports them');
    assert.match(lb.ports, /^80:\d+\/TCP$/);
    assert.deepEqual(await row('web-ext'), { type: 'ExternalName', clusterIp: '<none>', externalIp: 'example.com', ports: '<none>' });
    assert.equal((await row('web-headless')).clusterIp, 'None');
    const full = await json(['get', 'svc', 'web-cip']);
    assert.deepEqual(full.spec.clusterIPs, [full.spec.clusterIP]);
    assert.deepEqual(full.spec.ipFamilies, ['IPv4']);
    assert.equal(full.spec.ipFamilyPolicy, 'SingleStack');
  });

  test('requested addresses and ports are honoured once; conflicts are 422 with the reason', async () => {
    await s.k(['create', 'service', 'clusterip', 'fixed', '--tcp=80:80', '--clusterip=10.96.0.5']);
    assert.equal((await row('fixed')).clusterIp, '10.96.0.5');
    const ip = await s.kubectl(['create', 'service', 'clusterip', 'fixed2', '--tcp=80:80', '--clusterip=10.96.0.5']);
    assert.notEqual(ip.code, 0);
    assert.match(ip.stderr, /Service "fixed2" is invalid: spec\.clusterIPs: Invalid value: .*"10\.96\.0\.5".*: failed to allocate IP 10\.96\.0\.5: provided IP is already allocated/);
    await s.k(['create', 'service', 'nodeport', 'fixed-np', '--tcp=80:80', '--node-port=30080']);
    assert.equal((await row('fixed-np')).ports, '80:30080/TCP');
    const port = await s.kubectl(['create', 'service', 'nodeport', 'fixed-np2', '--tcp=80:80', '--node-port=30080']);
    assert.match(port.stderr, /spec\.ports\[0\]\.nodePort: Invalid value: 30080: provided port is already allocated/);
    const range = await s.kubectl(['create', 'service', 'clusterip', 'outside', '--tcp=80:80', '--clusterip=10.0.0.5']);
    assert.match(range.stderr, /the provided IP \(10\.0\.0\.5\) is not in the valid range\. The range of valid IPs is 10\.96\.0\.0\/12/);
  });

  test('type changes allocate and release node ports; the ClusterIP stays', async () => {
    const before = await row('web-cip');
    await s.k(['patch', 'svc', 'web-cip', '-p', '{"spec":{"type":"NodePort"}}']);
    const np = await row('web-cip');
    assert.equal(np.clusterIp, before.clusterIp);
    const port = /:(\d+)/.exec(np.ports)![1];
    await s.k(['patch', 'svc', 'web-cip', '-p', '{"spec":{"type":"ClusterIP"}}']);
    assert.deepEqual(await row('web-cip'), before);
    // The released port can be asked for by name at once.
    await eventually(async () => (await s.kubectl(['create', 'service', 'nodeport', 'takes-port', '--tcp=80:80', `--node-port=${port}`])).code === 0, FOLLOW_MS, 'released node port');
  });

  test('a Service selecting version=v1 over the seed deployments has five endpoints; scaling down removes them', async () => {
    await s.k(['apply', '-f', `${FIXTURES}seed-deployment-v1.yaml`, '-f', `${FIXTURES}seed-new-deployment.yaml`]);
    await s.k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'nginx-v1' },
      spec: { selector: { version: 'v1' }, ports: [{ port: 80, targetPort: 80 }] },
    }));
    const five = await eventually(async () => {
      const ips = await readyIps('nginx-v1');
      return ips.length === 5 ? ips : undefined;
    }, 30_000, 'five endpoints');
    assert.deepEqual(await eventually(async () => ((await sliceIps('nginx-v1')).length === 5 ? sliceIps('nginx-v1') : undefined), FOLLOW_MS, 'five slice endpoints'), five);
    const printed = (await s.k(['get', 'endpoints', 'nginx-v1', '--no-headers'])).trim();
    assert.match(printed, /^nginx-v1\s+198\.18\.\d+\.\d+:80,198\.18\.\d+\.\d+:80,198\.18\.\d+\.\d+:80 \+ 2 more\.\.\./);
    const slices = await s.k(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=nginx-v1', '--no-headers']);
    assert.match(slices, /^nginx-v1-[a-z0-9]{5}\s+IPv4\s+80\s+/);

    await s.k(['scale', 'deployment', 'new-nginx-deployment', '--replicas=0']);
    await eventually(async () => (await readyIps('nginx-v1')).length === 3 && (await sliceIps('nginx-v1')).length === 3, FOLLOW_MS, 'three endpoints after scale-down');
  });

  test('readiness moves an address between addresses and notReadyAddresses within seconds', async () => {
    // A node no agent runs for: the test plays its kubelet and reports pod status itself.
    await s.k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'manual-node' } }));
    // Ready with a fresh heartbeat, or node lifecycle marks its pods not ready (the node grace period outlasts this test).
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const nodeReady = { type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: now, lastTransitionTime: now };
    await s.k(['patch', 'node', 'manual-node', '--subresource=status', '--type=merge', '-p', JSON.stringify({ status: { conditions: [nodeReady] } })]);
    await s.k(['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'manual', labels: { app: 'manual' } },
      spec: { nodeName: 'manual-node', containers: [{ name: 'c', image: 'nginx', ports: [{ name: 'web', containerPort: 8080 }] }] },
    }));
    await s.k(['create', 'service', 'clusterip', 'manual', '--tcp=80:8080']);
    await s.k(['patch', 'svc', 'manual', '-p', '{"spec":{"selector":{"app":"manual"},"ports":[{"name":"80-8080","port":80,"targetPort":"web"}]}}']);
    const status = (ready: boolean) =>
      JSON.stringify({ status: { phase: 'Running', podIP: '10.99.0.5', podIPs: [{ ip: '10.99.0.5' }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } });
    await s.k(['patch', 'pod', 'manual', '--subresource=status', '--type=merge', '-p', status(true)]);
    await eventually(async () => (await readyIps('manual'))[0] === '10.99.0.5', FOLLOW_MS, 'ready address');
    const ep = await json(['get', 'endpoints', 'manual']);
    assert.deepEqual(ep.subsets[0].ports, [{ name: '80-8080', port: 8080, protocol: 'TCP' }], 'the named port resolved on the pod');
    assert.equal(ep.subsets[0].addresses[0].nodeName, 'manual-node');
    assert.equal(ep.subsets[0].addresses[0].targetRef.name, 'manual');

    const started = Date.now();
    await s.k(['patch', 'pod', 'manual', '--subresource=status', '--type=merge', '-p', status(false)]);
    await eventually(async () => {
      const e = await json(['get', 'endpoints', 'manual']);
      return e.subsets?.[0]?.notReadyAddresses?.[0]?.ip === '10.99.0.5' && !e.subsets[0].addresses;
    }, FOLLOW_MS, 'not-ready address');
    await eventually(async () => {
      const list = await json(['get', 'endpointslices', '-l', 'kubernetes.io/service-name=manual']);
      const e = list.items[0]?.endpoints?.[0];
      return e?.conditions.ready === false && e.conditions.serving === false;
    }, FOLLOW_MS, 'slice endpoint not ready');
    assert.ok(Date.now() - started < FOLLOW_MS);
  });

  test('allocations survive a restart; deleting a Service frees its address and port', async () => {
    const lbBefore = await row('web-lb');
    const npBefore = await row('web-np');
    await s.restart();
    assert.deepEqual(await row('web-lb'), lbBefore);
    assert.deepEqual(await row('web-np'), npBefore);
    assert.equal((await row('kubernetes')).clusterIp, '10.96.0.1');
    // The kubernetes Service follows the API server to its new port.
    const port = new URL(s.url).port;
    await eventually(async () => (await s.k(['get', 'endpoints', 'kubernetes', '--no-headers'])).includes(`127.0.0.1:${port}`), FOLLOW_MS, 'kubernetes endpoints on the new port');
    assert.equal((await json(['get', 'svc', 'kubernetes'])).spec.ports[0].targetPort, Number(port));
    // Still taken after the restart…
    const again = await s.kubectl(['create', 'service', 'clusterip', 'fixed3', '--tcp=80:80', '--clusterip=10.96.0.5']);
    assert.match(again.stderr, /provided IP is already allocated/);
    // …and free once its Service is gone.
    await s.k(['delete', 'svc', 'fixed', 'fixed-np']);
    await eventually(async () => (await s.kubectl(['create', 'service', 'clusterip', 'fixed3', '--tcp=80:80', '--clusterip=10.96.0.5'])).code === 0, FOLLOW_MS, 'freed IP');
    await eventually(async () => (await s.kubectl(['create', 'service', 'nodeport', 'fixed-np3', '--tcp=80:80', '--node-port=30080'])).code === 0, FOLLOW_MS, 'freed port');
    assert.equal((await row('fixed3')).clusterIp, '10.96.0.5');
    assert.equal((await row('fixed-np3')).ports, '80:30080/TCP');
  });
});
