// Service proxy benchmark, inside a fresh network namespace (a hand-made
// node: bridge, pod namespaces, test/e2e/proxy-topology.ts) against a real
// `skiff server` (no agent) whose Services and EndpointSlices the proxy
// programs into this namespace's kernel:
//  1. wrk through the ClusterIP beside wrk straight to the pod IP (same
//     single backend, a Node http server in a pod namespace; from another
//     pod namespace), keep-alive and one connection per request.
//  2. programming latency: an EndpointSlice's endpoint turns ready (API
//     write) → its first answer through the VIP, with 1,000 other Services
//     loaded; polled from the node every 2 ms.
//  3. rule sync time with 1,000 Services × 2 endpoints: first full sync
//     (table replaced), periodic full resync, one endpoint changed.
//   npx node bench/service-vip.ts [--quick] [--markdown]
import { type ChildProcess, spawn } from 'node:child_process';
import { request } from 'node:http';
import { parseArgs } from 'node:util';
import type { KubeObject } from '../src/api/types.ts';
import { refs } from '../src/client/index.ts';
import { ProxyRules, resetServiceProxy, servicePorts } from '../src/proxy/index.ts';
import { reexecInFreshNetns } from '../scripts/netns.ts';
import { startServer } from '../test/e2e/harness.ts';
import { adminClient, buildTopology, CLUSTER_CIDR, NODE_IP, startNodeProxy } from '../test/e2e/proxy-topology.ts';

reexecInFreshNetns(import.meta.filename, process.argv.slice(2));
const { values: flags } = parseArgs({
  options: { quick: { type: 'boolean', default: false }, markdown: { type: 'boolean', default: false } },
});

/** The scale for rule sync. */
const SERVICES = 1000;
const WRK_SECONDS = flags.quick ? 3 : 6;
/** wrk threads and connections: two cores here; 32 connections keep one backend busy. */
const WRK_THREADS = 2;
const WRK_CONNECTIONS = 32;
/** Alternating rounds per target, median reported. */
const ROUNDS = flags.quick ? 1 : 3;
const LATENCY_SAMPLES = flags.quick ? 15 : 40;
/** Gap between endpoint flips: longer than kube-proxy's minSyncPeriod, as separate pod starts would be. */
const FLIP_GAP_MS = 1100;
const POLL_MS = 2;
const BACKEND = `require('node:http').createServer((q, r) => r.end(process.argv[1] + '\\n')).listen(80, '0.0.0.0')`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function wrk(netns: string, url: string, close: boolean): Promise<number> {
  const args = [
    '--net=' + netns,
    'wrk',
    '-t',
    String(WRK_THREADS),
    '-c',
    String(WRK_CONNECTIONS),
    '-d',
    `${WRK_SECONDS}s`,
    ...(close ? ['-H', 'Connection: close'] : []),
    url,
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('nsenter', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    child.on('close', () => {
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
      if (Number.isFinite(rps)) resolve(rps);
      else reject(new Error(`wrk said:\n${out}`));
    });
  });
}

/** One GET from the node; resolves with the body or undefined (refused, reset, timeout). */
function getOnce(url: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, timeout: 200 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve(body.trim()));
    });
    req.on('error', () => resolve(undefined));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

const svcObject = (name: string, ports = [{ name: 'http', port: 80 }]): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name, namespace: 'default' },
  spec: { ports },
});
const sliceObject = (svc: string, endpoints: { ip: string; ready: boolean }[]): KubeObject => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name: `${svc}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': svc } },
  addressType: 'IPv4',
  endpoints: endpoints.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready } })),
  ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
});

async function main(): Promise<void> {
  const server = await startServer();
  const topo = buildTopology();
  const backends: ChildProcess[] = [];
  const stop = new AbortController();
  const rows: [string, string, string][] = [];
  try {
    const pod1 = topo.addPod('pod1', '10.244.0.2', { serve: false });
    const pod2 = topo.addPod('pod2', '10.244.0.3', { serve: false });
    const client = topo.addPod('client', '10.244.0.4', { serve: false });
    for (const pod of [pod1, pod2]) {
      backends.push(
        spawn('nsenter', [`--net=${pod.netns}`, process.execPath, '-e', BACKEND, pod.name], { stdio: 'ignore' }),
      );
    }
    const api = adminClient(server);
    const proxy = await startNodeProxy({ client: api, nodeName: 'node-a', signal: stop.signal });
    await proxy.synced;

    // 1,000 background Services, two endpoints each, through the API.
    const started = Date.now();
    for (let i = 0; i < SERVICES; i += 50) {
      await Promise.all(
        Array.from({ length: Math.min(50, SERVICES - i) }, async (_, j) => {
          const name = `bg-${i + j}`;
          await api.create(refs.services, svcObject(name), { namespace: 'default' });
          const n = i + j;
          await api.create(
            refs.endpointslices,
            sliceObject(name, [
              { ip: `10.244.${2 + (n >> 8)}.${n & 255}`, ready: true },
              { ip: `10.244.9.${n & 255}`, ready: true },
            ]),
            {
              namespace: 'default',
            },
          );
        }),
      );
    }
    process.stderr.write(`created ${SERVICES} Services + slices in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);

    // --- 1. throughput ---
    const web = await api.create(refs.services, svcObject('web'), { namespace: 'default' });
    await api.create(refs.endpointslices, sliceObject('web', [{ ip: pod1.ip, ready: true }]), { namespace: 'default' });
    const vip = (web.spec as { clusterIP: string }).clusterIP;
    for (let i = 0; i < 500 && (await getOnce(`http://${vip}/`)) !== 'pod1'; i++) await sleep(10);
    for (const close of [false, true]) {
      const direct: number[] = [];
      const viaVip: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        direct.push(await wrk(client.netns, `http://${pod1.ip}/`, close));
        viaVip.push(await wrk(client.netns, `http://${vip}/`, close));
      }
      const ratio = median(viaVip) / median(direct);
      const label = close ? 'wrk, new connection per request' : 'wrk, keep-alive';
      rows.push([`${label}: direct to pod IP`, `${Math.round(median(direct)).toLocaleString('en-US')} req/s`, '']);
      rows.push([
        `${label}: through the ClusterIP`,
        `${Math.round(median(viaVip)).toLocaleString('en-US')} req/s (${ratio.toFixed(2)}×)`,
        `≥ 0.95× direct: ${ratio >= 0.95 ? 'MET' : 'MISS'}`,
      ]);
    }

    // --- 2. programming latency ---
    const lat = await api.create(refs.services, svcObject('lat'), { namespace: 'default' });
    const latVip = (lat.spec as { clusterIP: string }).clusterIP;
    const slicePath = { namespace: 'default' };
    let slice = await api.create(refs.endpointslices, sliceObject('lat', [{ ip: pod2.ip, ready: false }]), slicePath);
    const samples: number[] = [];
    for (let i = 0; i < LATENCY_SAMPLES; i++) {
      await sleep(FLIP_GAP_MS);
      const t0 = performance.now();
      slice = await api.update(
        refs.endpointslices,
        { ...slice, endpoints: [{ addresses: [pod2.ip], conditions: { ready: true } }] },
        slicePath,
      );
      while ((await getOnce(`http://${latVip}/`)) !== 'pod2') await sleep(POLL_MS);
      samples.push(performance.now() - t0);
      await sleep(FLIP_GAP_MS);
      slice = await api.update(
        refs.endpointslices,
        { ...slice, endpoints: [{ addresses: [pod2.ip], conditions: { ready: false } }] },
        slicePath,
      );
      while ((await getOnce(`http://${latVip}/`)) === 'pod2') await sleep(POLL_MS);
    }
    const p99 = pct(samples, 99);
    rows.push([
      `endpoint ready → answering via VIP (${samples.length} flips, ${SERVICES} other Services)`,
      `p50 ${median(samples).toFixed(0)} ms, p99 ${p99.toFixed(0)} ms, max ${Math.max(...samples).toFixed(0)} ms`,
      `p99 < 1 s: ${p99 < 1000 ? 'MET' : 'MISS'}`,
    ]);
    stop.abort();
    await proxy.stopped;
    api.close();

    // --- 3. rule sync time, 1,000 Services × 2 endpoints, straight into the kernel ---
    await resetServiceProxy();
    const services = Array.from({ length: SERVICES }, (_, n) => ({
      ...svcObject(`s-${n}`),
      spec: { clusterIP: `10.96.${4 + (n >> 8)}.${n & 255}`, ports: [{ name: 'http', port: 80 }] },
    }));
    const slices = services.map((s, n) =>
      sliceObject(s.metadata.name!, [
        { ip: `10.244.${2 + (n >> 8)}.${n & 255}`, ready: true },
        { ip: `10.244.9.${n & 255}`, ready: true },
      ]),
    );
    const rules = new ProxyRules({
      backend: 'nftables',
      nodeIps: [NODE_IP],
      clusterCidr: CLUSTER_CIDR,
      serviceCidr: '10.96.0.0/12',
    });
    const timed = async (fn: () => Promise<unknown>) => {
      const t = performance.now();
      await fn();
      return performance.now() - t;
    };
    const ports = () => servicePorts(services, slices, 'node-a');
    const first = await timed(() => rules.sync(ports()));
    const full = await timed(() => rules.sync(ports(), { full: true }));
    slices[500] = sliceObject('s-500', [{ ip: '10.244.8.8', ready: true }]);
    const incremental = await timed(() => rules.sync(ports()));
    const target = (ms: number) => `< 1 s: ${ms < 1000 ? 'MET' : 'MISS'}`;
    rows.push([
      `rule sync, ${SERVICES} Services × 2 endpoints: first (table replaced)`,
      `${first.toFixed(0)} ms`,
      target(first),
    ]);
    rows.push([`rule sync, ${SERVICES} Services: periodic full resync`, `${full.toFixed(0)} ms`, target(full)]);
    rows.push([
      `rule sync, ${SERVICES} Services: one endpoint changed`,
      `${incremental.toFixed(0)} ms`,
      target(incremental),
    ]);
  } finally {
    stop.abort();
    for (const b of backends) b.kill('SIGKILL');
    await resetServiceProxy().catch(() => {});
    topo.close();
    await server.stop();
  }
  const width = Math.max(...rows.map((r) => r[0].length));
  for (const [what, result, goal] of rows)
    process.stdout.write(`${what.padEnd(width)}  ${result.padEnd(40)}  ${goal}\n`);
  if (flags.markdown) {
    process.stdout.write('\n| measurement | result | target |\n|---|--:|---|\n');
    for (const [what, result, goal] of rows) process.stdout.write(`| ${what} | ${result} | ${goal} |\n`);
  }
}

await main();
