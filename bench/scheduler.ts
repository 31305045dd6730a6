// Scheduler benchmark: a real `skiff server --simulated-nodes N` in a fresh
// loopback-only network namespace.
//   1. throughput: 1,000 pods created directly (100 concurrent creates, as a
//      ReplicaSet's burst would) with 100 and with 1,000 simulated nodes;
//      pods bound per second, from the first binding to the last, and the
//      time from the first create until all are bound and Running;
//   2. `kubectl scale deployment --replicas=1000` → all 1,000 pods bound and
//      reported Running on simulated nodes (Deployment and ReplicaSet
//      controllers at work), with the server's VmRSS.
//   npx node bench/scheduler.ts [--pods 1000] [--nodes 100,1000] [--scale-nodes 100] [--no-scale] [--server-cpu-prof DIR]
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { reexecInFreshNetns } from '../scripts/netns.ts';
import { type ApiClient, createClient } from './api-server.ts';

reexecInFreshNetns(import.meta.filename, process.argv.slice(2));

const { values: flags } = parseArgs({
  options: {
    pods: { type: 'string', default: '1000' },
    'scale-nodes': { type: 'string', default: '100' },
    /** Node counts for the throughput phase. */
    nodes: { type: 'string', default: '100,1000' },
    'no-scale': { type: 'boolean', default: false },
    'server-cpu-prof': { type: 'string' },
  },
});
const PODS = Number(flags.pods);
const SCALE_NODES = Number(flags['scale-nodes']);
const ROOT = new URL('../', import.meta.url).pathname;
/** Creates in flight at once: a ReplicaSet's burst size (client-go's slow start tops out near this). */
const CREATE_CONCURRENCY = 100;
/** Give up on a phase after this long. */
const PHASE_TIMEOUT_MS = 120_000;
const NS = 'bench';

type Server = { pid: number; dataDir: string; kubeconfig: string; client: ApiClient; stop(): Promise<void> };

async function startServer(nodes: number): Promise<Server> {
  const dataDir = mkdtempSync(join(tmpdir(), 'skiff-bench-sched-'));
  const prof = flags['server-cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${flags['server-cpu-prof']}`] : [];
  const child: ChildProcess = spawn(
    process.execPath,
    [...prof, join(ROOT, 'bin/skiff.js'), 'server', '--data-dir', dataDir, '--port', '0', '--no-agent', '--simulated-nodes', String(nodes)],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SKIFF_LOG: process.env.SKIFF_LOG ?? 'warn' } },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (/ready at /.test(out)) resolve();
    });
    child.stderr!.resume();
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
  const kubeconfig = join(dataDir, 'kubeconfig.yaml');
  const client = createClient(kubeconfig);
  return {
    pid: child.pid!,
    dataDir,
    kubeconfig,
    client,
    async stop() {
      client.close();
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function rssMiB(pid: number): number {
  const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return Math.round(kb / 1024);
}

/** Watches pods in the namespace; resolves when `want` pods are bound and Running, with timings. */
async function track(server: Server, want: number, signal: AbortSignal) {
  const bound = new Map<string, number>();
  const running = new Set<string>();
  let allBound = 0;
  let allRunning = 0;
  let done!: () => void;
  const finished = new Promise<void>((r) => {
    done = r;
  });
  await server.client.watch(`/api/v1/namespaces/${NS}/pods?watch=true`, {
    onLine(line, at) {
      const ev = JSON.parse(line);
      const pod = ev.object;
      const name = pod?.metadata?.name;
      if (!name || ev.type === 'DELETED') return;
      if (pod.spec?.nodeName && !bound.has(name)) bound.set(name, at);
      if (pod.status?.phase === 'Running') running.add(name);
      if (!allBound && bound.size >= want) allBound = at;
      if (!allRunning && running.size >= want) {
        allRunning = at;
        done();
      }
    },
  }, signal);
  return {
    finished,
    progress: () => `${bound.size} bound, ${running.size} running`,
    result: () => {
      const times = [...bound.values()].sort((a, b) => a - b);
      return { firstBind: times[0], lastBind: times.at(-1)!, allBound, allRunning };
    },
  };
}

async function withTimeout<T>(p: Promise<T>, what: string, progress: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${PHASE_TIMEOUT_MS / 1000}s (${progress()})`)), PHASE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function ensureNamespace(server: Server): Promise<void> {
  await server.client.request('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
}

async function throughput(nodes: number) {
  const server = await startServer(nodes);
  try {
    await ensureNamespace(server);
    const stop = new AbortController();
    const tracker = await track(server, PODS, stop.signal);
    const started = performance.now();
    let next = 0;
    // A real owner (the garbage collector removes pods whose owner does not exist), so replicas spread as one workload's.
    const cm = await server.client.request('POST', `/api/v1/namespaces/${NS}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'owner' } });
    const owner = { apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: JSON.parse(cm.body).metadata.uid, controller: true };
    const worker = async () => {
      while (next < PODS) {
        const i = next++;
        const reply = await server.client.request('POST', `/api/v1/namespaces/${NS}/pods`, {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: `p-${i}`, labels: { app: 'bench' }, ownerReferences: [owner] },
          spec: { containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
        });
        if (reply.status !== 201) throw new Error(`create: ${reply.status} ${reply.body.slice(0, 200)}`);
      }
    };
    await Promise.all(Array.from({ length: CREATE_CONCURRENCY }, worker));
    const created = performance.now();
    await withTimeout(tracker.finished, `${nodes} nodes`, tracker.progress);
    stop.abort();
    const r = tracker.result();
    return {
      nodes,
      createSec: (created - started) / 1000,
      bindRate: (PODS - 1) / ((r.lastBind - r.firstBind) / 1000),
      boundSec: (r.allBound - started) / 1000,
      runningSec: (r.allRunning - started) / 1000,
      rssMiB: rssMiB(server.pid),
    };
  } finally {
    await server.stop();
  }
}

async function scaleDeployment(nodes: number) {
  const server = await startServer(nodes);
  try {
    await ensureNamespace(server);
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', namespace: NS },
      spec: {
        replicas: 0,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
        },
      },
    };
    const reply = await server.client.request('POST', `/apis/apps/v1/namespaces/${NS}/deployments`, deployment);
    if (reply.status !== 201) throw new Error(`deployment: ${reply.status} ${reply.body.slice(0, 200)}`);
    const rssBefore = rssMiB(server.pid);
    const stop = new AbortController();
    const tracker = await track(server, PODS, stop.signal);
    const started = performance.now();
    execFileSync('kubectl', ['--kubeconfig', server.kubeconfig, '-n', NS, 'scale', 'deployment/web', `--replicas=${PODS}`]);
    await withTimeout(tracker.finished, 'scale', tracker.progress);
    stop.abort();
    const r = tracker.result();
    return {
      nodes,
      boundSec: (r.allBound - started) / 1000,
      runningSec: (r.allRunning - started) / 1000,
      bindRate: (PODS - 1) / ((r.lastBind - r.firstBind) / 1000),
      rssBefore,
      rssAfter: rssMiB(server.pid),
    };
  } finally {
    await server.stop();
  }
}

const fmt = (n: number, digits = 1) => n.toFixed(digits);
console.log(`scheduler benchmark: ${PODS} pods; node ${process.version}`);
for (const nodes of flags.nodes.split(',').map(Number)) {
  const r = await throughput(nodes);
  console.log(
    `${PODS} pods created (${CREATE_CONCURRENCY} at once) while scheduling, ${nodes} simulated nodes: bound ${fmt(r.bindRate, 0)} pods/s (first→last binding); all bound ${fmt(r.boundSec)} s, all Running ${fmt(r.runningSec)} s after the first create (creates took ${fmt(r.createSec)} s); server VmRSS ${r.rssMiB} MiB  [target ≥ 300 pods/s: ${r.bindRate >= 300 ? 'PASS' : 'MISS'}]`,
  );
}
if (flags['no-scale']) process.exit(0);
const s = await scaleDeployment(SCALE_NODES);
console.log(
  `kubectl scale --replicas=${PODS}, ${s.nodes} simulated nodes: all bound ${fmt(s.boundSec)} s, all Running ${fmt(s.runningSec)} s; bound ${fmt(s.bindRate, 0)} pods/s; server VmRSS ${s.rssBefore} → ${s.rssAfter} MiB  [target ≤ 10 s: ${s.runningSec <= 10 ? 'PASS' : 'MISS'}]`,
);
