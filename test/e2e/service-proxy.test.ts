// The service proxy against a real skiff server (no agent): Services and
// EndpointSlices made with kubectl, rules programmed into this network
// namespace's kernel, traffic from hand-made pod namespaces, the node and an
// "outside" namespace (test/e2e/proxy-topology.ts). Run by npm test inside its
// fresh namespaces; every address used is inside them.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import type { Client } from '../../src/client/index.ts';
import { resetServiceProxy, type ServiceProxy } from '../../src/proxy/index.ts';
import { eventually, startServer, type TestServer } from './harness.ts';
import { adminClient, buildTopology, NODE_IP, type Pod, startNodeProxy, type Topology } from './proxy-topology.ts';

const NODE = 'node-a';

function sliceYaml(
  service: string,
  pods: { ip: string; ready?: boolean }[],
  ports = [{ name: 'http', port: 80 }],
): string {
  return JSON.stringify({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${service}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: pods.map((p) => ({ addresses: [p.ip], nodeName: NODE, conditions: { ready: p.ready ?? true } })),
    ports: ports.map((p) => ({ ...p, protocol: 'TCP' })),
  });
}

function serviceYaml(name: string, spec: Record<string, unknown>): string {
  // No selector: the endpoint controllers leave these Services' slices to the test.
  return JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec });
}

describe('service proxy (nftables) with real kernel networking', { timeout: 90_000 }, () => {
  let s: TestServer;
  let topo: Topology;
  let proxy: ServiceProxy;
  let api: Client;
  let p1: Pod;
  let p2: Pod;
  let client: Pod;
  const stop = new AbortController();
  const vip: Record<string, string> = {};

  before(async () => {
    s = await startServer();
    topo = buildTopology();
    p1 = topo.addPod('pod1', '10.244.0.2');
    p2 = topo.addPod('pod2', '10.244.0.3');
    client = topo.addPod('client', '10.244.0.4', { serve: false });
    await s.k(
      ['apply', '-f', '-'],
      serviceYaml('web', { type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080 }] }),
    );
    await s.k(
      ['apply', '-f', '-'],
      serviceYaml('sticky', {
        sessionAffinity: 'ClientIP',
        sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
        ports: [{ name: 'http', port: 80 }],
      }),
    );
    await s.k(['apply', '-f', '-'], serviceYaml('empty', { ports: [{ name: 'http', port: 80 }] }));
    await s.k(['apply', '-f', '-'], sliceYaml('web', [p1, p2]));
    await s.k(['apply', '-f', '-'], sliceYaml('sticky', [p1, p2]));
    for (const name of ['web', 'sticky', 'empty'])
      vip[name] = (await s.k(['get', 'svc', name, '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    api = adminClient(s);
    proxy = await startNodeProxy({ client: api, nodeName: NODE, signal: stop.signal, backend: 'nftables' });
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

  /** Bodies of n requests. */
  const bodies = async (netns: string | undefined, url: string, n: number) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(await topo.get(netns, url));
    return out;
  };

  test('the ClusterIP answers from both endpoints, from a pod and from the node', async () => {
    const fromPod = new Set(await bodies(client.netns, `http://${vip.web}/`, 24));
    assert.deepEqual([...fromPod].sort(), ['pod1', 'pod2']);
    const fromNode = new Set(await bodies(undefined, `http://${vip.web}/`, 24));
    assert.deepEqual([...fromNode].sort(), ['pod1', 'pod2']);
  });

  test('hairpin: a pod reaches itself through the VIP', async () => {
    const seen = new Set(await bodies(p1.netns, `http://${vip.web}/`, 16));
    assert.ok(seen.has('pod1'), `pod1 never reached itself: ${[...seen]}`);
    assert.ok(![...seen].some((b) => b.startsWith('ERR')), [...seen].join(', '));
  });

  test('NodePort answers on the node IP from outside the pod network, from the node and from pods', async () => {
    for (const netns of [topo.outside, undefined, client.netns]) {
      const seen = new Set(await bodies(netns, `http://${NODE_IP}:30080/`, 16));
      assert.deepEqual([...seen].sort(), ['pod1', 'pod2'], `from ${netns ?? 'the node'}`);
    }
  });

  test('session affinity ClientIP pins a client to one endpoint', async () => {
    const seen = new Set(await bodies(client.netns, `http://${vip.sticky}/`, 12));
    assert.equal(seen.size, 1, [...seen].join(', '));
  });

  test('a Service without endpoints rejects at once (connection refused, not a timeout)', async () => {
    const started = Date.now();
    const body = await topo.get(client.netns, `http://${vip.empty}/`, 5);
    assert.match(body, /^ERR .*(refused|Failed to connect|Couldn't connect)/i);
    assert.ok(Date.now() - started < 2000, 'rejected, not dropped');
  });

  test('removing an endpoint stops traffic to it within a second', async () => {
    await s.k(['apply', '-f', '-'], sliceYaml('web', [p2]));
    const removedAt = Date.now();
    await eventually(
      async () => {
        const seen = await bodies(client.netns, `http://${vip.web}/`, 12);
        return seen.every((b) => b === 'pod2');
      },
      5000,
      'traffic only to pod2',
    );
    const took = Date.now() - removedAt;
    assert.ok(took < 2500, `took ${took} ms`);
    await s.k(['apply', '-f', '-'], sliceYaml('web', [p1, p2]));
    await eventually(
      async () => new Set(await bodies(client.netns, `http://${vip.web}/`, 16)).size === 2,
      5000,
      'pod1 back',
    );
  });

  /** A LoadBalancer Service on NODE_IP:8080; its class keeps the ServiceLB controller away, so the test sets the status. */
  const guardedYaml = (ranges: string[]) =>
    serviceYaml('guarded', {
      type: 'LoadBalancer',
      loadBalancerClass: 'skiff.test/manual',
      loadBalancerSourceRanges: ranges,
      ports: [{ name: 'http', port: 8080, targetPort: 80, nodePort: 30081 }],
    });
  const LB_URL = `http://${NODE_IP}:8080/`;
  /** Sources outside the ranges are dropped (not rejected): curl gives up after this long. */
  const BLOCKED_TIMEOUT_SEC = 1;
  const SERVED = /^pod[12]$/;
  const DROPPED = /^ERR .*(timed out|timeout)/i;

  test('loadBalancerSourceRanges: only admitted sources reach the LB IP, the NodePort stays open, bad ranges are refused', async () => {
    const bad = await s.kubectl(['apply', '-f', '-'], { input: guardedYaml(['10.244.0.4/32', 'nope']) });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /spec\.LoadBalancerSourceRanges\[1\]: Invalid value: "nope": must be a valid CIDR value/);
    await s.k(['apply', '-f', '-'], guardedYaml([`${client.ip}/32`]));
    const status = { status: { loadBalancer: { ingress: [{ ip: NODE_IP, ipMode: 'VIP' }] } } };
    await s.k(['patch', 'svc', 'guarded', '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
    await s.k(['apply', '-f', '-'], sliceYaml('guarded', [p1, p2]));
    await eventually(
      async () => SERVED.test(await topo.get(client.netns, LB_URL)),
      5000,
      'the admitted pod via the LB IP',
    );
    assert.deepEqual([...new Set(await bodies(client.netns, LB_URL, 12))].sort(), ['pod1', 'pod2']);
    for (const [who, netns] of [
      ['outside', topo.outside],
      ['another pod', p2.netns],
      ['the node', undefined],
    ] as const) {
      assert.match(await topo.get(netns, LB_URL, BLOCKED_TIMEOUT_SEC), DROPPED, who);
    }
    // The ranges guard the LB address only: the NodePort and the ClusterIP stay open.
    assert.match(await topo.get(topo.outside, `http://${NODE_IP}:30081/`), SERVED);
    const clusterIp = (await s.k(['get', 'svc', 'guarded', '-o', 'jsonpath={.spec.clusterIP}'])).trim();
    assert.match(await topo.get(p2.netns, `http://${clusterIp}:8080/`), SERVED);

    // Widened to the node's subnet: the outside client and the node itself get in (an incremental nft update).
    await s.k(['apply', '-f', '-'], guardedYaml([`${client.ip}/32`, '192.168.50.0/24']));
    await eventually(
      async () => SERVED.test(await topo.get(topo.outside, LB_URL, BLOCKED_TIMEOUT_SEC)),
      5000,
      'outside admitted',
    );
    assert.match(await topo.get(undefined, LB_URL), SERVED, 'the node');
    assert.match(await topo.get(p2.netns, LB_URL, BLOCKED_TIMEOUT_SEC), DROPPED, 'another pod still out');
  });

  test('resetServiceProxy removes the table and the route it added', async () => {
    assert.equal(spawnSync('nft', ['list', 'table', 'ip', 'skiff-proxy']).status, 0);
    stop.abort();
    await proxy.stopped;
    await resetServiceProxy();
    assert.notEqual(spawnSync('nft', ['list', 'table', 'ip', 'skiff-proxy']).status, 0);
    assert.doesNotMatch(spawnSync('ip', ['route'], { encoding: 'utf8' }).stdout, /10\.96\.0\.0\/12/);
  });

  test('iptables fallback: same VIP, NodePort and no-endpoint behaviour', async () => {
    const again = new AbortController();
    const ipt = await startNodeProxy({ client: api, nodeName: NODE, signal: again.signal, backend: 'iptables', logName: 'proxy-iptables' });
    try {
      assert.equal(await ipt.synced, true);
      assert.deepEqual([...new Set(await bodies(client.netns, `http://${vip.web}/`, 24))].sort(), ['pod1', 'pod2']);
      assert.deepEqual([...new Set(await bodies(undefined, `http://${vip.web}/`, 16))].sort(), ['pod1', 'pod2']);
      assert.deepEqual([...new Set(await bodies(topo.outside, `http://${NODE_IP}:30080/`, 16))].sort(), [
        'pod1',
        'pod2',
      ]);
      assert.ok(new Set(await bodies(p1.netns, `http://${vip.web}/`, 12)).has('pod1'), 'hairpin');
      assert.equal(new Set(await bodies(client.netns, `http://${vip.sticky}/`, 10)).size, 1, 'affinity');
      assert.match(
        await topo.get(client.netns, `http://${vip.empty}/`, 5),
        /^ERR .*(refused|Failed to connect|Couldn't connect)/i,
      );
    } finally {
      again.abort();
      await ipt.stopped;
      await resetServiceProxy();
    }
    assert.doesNotMatch(spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout, /SKIFF-/);
  });

  test('iptables fallback: loadBalancerSourceRanges', async () => {
    await s.k(['apply', '-f', '-'], guardedYaml([`${client.ip}/32`]));
    const again = new AbortController();
    const ipt = await startNodeProxy({ client: api, nodeName: NODE, signal: again.signal, backend: 'iptables', logName: 'proxy-iptables' });
    try {
      assert.equal(await ipt.synced, true);
      assert.deepEqual([...new Set(await bodies(client.netns, LB_URL, 12))].sort(), ['pod1', 'pod2']);
      for (const netns of [topo.outside, undefined]) {
        assert.match(await topo.get(netns, LB_URL, BLOCKED_TIMEOUT_SEC), DROPPED, `from ${netns ?? 'the node'}`);
      }
      assert.match(await topo.get(topo.outside, `http://${NODE_IP}:30081/`), SERVED);
    } finally {
      again.abort();
      await ipt.stopped;
      await resetServiceProxy();
    }
    assert.doesNotMatch(spawnSync('iptables-save', [], { encoding: 'utf8' }).stdout, /SKIFF-/);
  });
});
