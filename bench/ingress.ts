// Ingress benchmark: wrk through skiff's ingress beside wrk through HAProxy in
// HTTP mode, both in front of the same two backends, all on loopback inside a
// fresh network namespace made for the run.
//   - backends: one HAProxy process answering a fixed 13-byte 200 on
//     127.0.0.2:8080 and 127.0.0.3:8080 (`http-request return`: so cheap that
//     the proxies, not the backends, are measured);
//   - skiff: a real `skiff server --no-agent`, a selector-less Service with an
//     EndpointSlice listing both backends, an Ingress for host bench.example;
//   - peer: HAProxy (HTTP mode, round robin, keep-alive both sides, option
//     forwardfor) with its default threads (one per CPU), and again with one
//     thread, the same shape as skiff's single event loop;
//   - wrk with keep-alive connections, rounds alternating between the proxies
//     so background load hits both alike; the median round is reported.
//   npx node bench/ingress.ts [--duration 10] [--rounds 3] [--connections 64] [--threads 2] [--server-cpu-prof DIR]
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { reexecInFreshNetns } from '../scripts/netns.ts';

reexecInFreshNetns(import.meta.filename, process.argv.slice(2));

const { values: flags } = parseArgs({
  options: {
    duration: { type: 'string', default: '10' },
    rounds: { type: 'string', default: '3' },
    connections: { type: 'string', default: '64' },
    threads: { type: 'string', default: '2' },
    'server-cpu-prof': { type: 'string' },
  },
});
const ROOT = new URL('../', import.meta.url).pathname;
const HOST = 'bench.example';
const BACKENDS = ['127.0.0.2', '127.0.0.3'];
const BACKEND_PORT = 8080;
const INGRESS_PORT = 18080;
const HAPROXY_PORT = 18081;
const HAPROXY_1T_PORT = 18082;
/** How long the ingress may take to serve the Ingress after kubectl apply. */
const READY_TIMEOUT_MS = 30_000;

const work = mkdtempSync(join(tmpdir(), 'skiff-bench-ingress-'));
const children: ChildProcess[] = [];

function startHaproxy(name: string, config: string): ChildProcess {
  const file = join(work, `${name}.cfg`);
  writeFileSync(file, config);
  execFileSync('haproxy', ['-c', '-q', '-f', file]);
  const child = spawn('haproxy', ['-db', '-f', file], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  return child;
}

const DEFAULTS = `defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  timeout http-keep-alive 75s
`;

function backendsConfig(): string {
  return `global
  nbthread 1
${DEFAULTS}
frontend backends
${BACKENDS.map((ip) => `  bind ${ip}:${BACKEND_PORT}`).join('\n')}
  http-request return status 200 content-type text/plain string "hello, world\\n"
`;
}

function peerConfig(port: number, threads?: number): string {
  return `global
${threads ? `  nbthread ${threads}` : ''}
${DEFAULTS}
frontend ingress
  bind 127.0.0.1:${port}
  option forwardfor
  default_backend web
backend web
  balance roundrobin
${BACKENDS.map((ip, i) => `  server b${i} ${ip}:${BACKEND_PORT}`).join('\n')}
`;
}

/** CPU seconds (user, system) a process has used so far. */
function cpuSeconds(pid: number): { user: number; system: number } {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  const ticks = 100; // USER_HZ on Linux
  return { user: Number(fields[11]) / ticks, system: Number(fields[12]) / ticks };
}

async function startSkiff(): Promise<{ pid: number; kubeconfig: string; stop(): Promise<void> }> {
  const dataDir = join(work, 'skiff');
  const prof = flags['server-cpu-prof'] ? ['--cpu-prof', `--cpu-prof-dir=${flags['server-cpu-prof']}`] : [];
  const child = spawn(
    process.execPath,
    [...prof, join(ROOT, 'bin/skiff.js'), 'server', '--data-dir', dataDir, '--port', '0', '--no-agent', '--ingress-http-port', String(INGRESS_PORT), '--ingress-https-port', '0', '--ingress-bind', '127.0.0.1'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SKIFF_LOG: process.env.SKIFF_LOG ?? 'warn' } },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (/ready at /.test(out)) resolve();
    });
    child.stderr!.pipe(process.stderr);
    child.once('exit', (code) => reject(new Error(`server exited ${code}: ${out}`)));
  });
  child.stdout!.resume();
  return {
    pid: child.pid!,
    kubeconfig: join(dataDir, 'kubeconfig.yaml'),
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function objects(backendPort: number): unknown {
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ name: 'http', port: 80 }] } },
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'web-1', labels: { 'kubernetes.io/service-name': 'web' } },
        addressType: 'IPv4',
        ports: [{ name: 'http', port: backendPort, protocol: 'TCP' }],
        endpoints: BACKENDS.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
      },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'web' },
        spec: { rules: [{ host: HOST, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
      },
    ],
  };
}

function status(port: number): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host: HOST }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

async function waitFor200(port: number): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while ((await status(port)) !== 200) {
    if (Date.now() > deadline) throw new Error(`nothing answers 200 on port ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

type Result = { rps: number; p50: number; p99: number; errors: number; userUs: number; systemUs: number };

function ms(value: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(value);
  if (!m) return Number.NaN;
  return Number(m[1]) * (m[2] === 'us' ? 0.001 : m[2] === 's' ? 1000 : 1);
}

function wrk(port: number, pid: number): Result {
  const before = cpuSeconds(pid);
  const out = execFileSync('wrk', ['--latency', '-t', flags.threads!, '-c', flags.connections!, '-d', `${flags.duration}s`, '-H', `Host: ${HOST}`, `http://127.0.0.1:${port}/`], {
    encoding: 'utf8',
  });
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const result: Result = {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]),
    p50: ms(/^\s+50%\s+(\S+)/m.exec(out)?.[1] ?? ''),
    p99: ms(/^\s+99%\s+(\S+)/m.exec(out)?.[1] ?? ''),
    errors: Number(errors?.[1] ?? 0) + (socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0),
    userUs: 0,
    systemUs: 0,
  };
  const after = cpuSeconds(pid);
  const requests = result.rps * Number(flags.duration);
  result.userUs = ((after.user - before.user) * 1e6) / requests;
  result.systemUs = ((after.system - before.system) * 1e6) / requests;
  return result;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  startHaproxy('backends', backendsConfig());
  const peer = startHaproxy('peer', peerConfig(HAPROXY_PORT));
  const peer1 = startHaproxy('peer-1t', peerConfig(HAPROXY_1T_PORT, 1));
  const skiff = await startSkiff();
  try {
    execFileSync('kubectl', ['--kubeconfig', skiff.kubeconfig, 'apply', '-f', '-'], { input: JSON.stringify(objects(BACKEND_PORT)), stdio: ['pipe', 'ignore', 'inherit'] });
    for (const port of [INGRESS_PORT, HAPROXY_PORT, HAPROXY_1T_PORT]) await waitFor200(port);
    const targets = [
      { name: 'skiff ingress', port: INGRESS_PORT, pid: skiff.pid },
      { name: 'HAProxy (default threads)', port: HAPROXY_PORT, pid: peer.pid! },
      { name: 'HAProxy (1 thread)', port: HAPROXY_1T_PORT, pid: peer1.pid! },
    ];
    wrk(INGRESS_PORT, skiff.pid); // warm-up: JIT, pooled upstream connections
    const results = new Map<string, Result[]>(targets.map((t) => [t.name, []]));
    const rounds = Number(flags.rounds);
    for (let r = 0; r < rounds; r++) {
      for (const t of targets) {
        const result = wrk(t.port, t.pid);
        results.get(t.name)!.push(result);
        console.error(`round ${r + 1}/${rounds} ${t.name}: ${result.rps.toFixed(0)} req/s, p50 ${result.p50} ms, p99 ${result.p99} ms, errors ${result.errors}, CPU/request ${result.userUs.toFixed(1)} µs user + ${result.systemUs.toFixed(1)} µs system`);
      }
    }
    const summary = targets.map((t) => {
      const rs = results.get(t.name)!;
      return { name: t.name, rps: median(rs.map((x) => x.rps)), p50: median(rs.map((x) => x.p50)), p99: median(rs.map((x) => x.p99)), errors: rs.reduce((a, x) => a + x.errors, 0), userUs: median(rs.map((x) => x.userUs)), systemUs: median(rs.map((x) => x.systemUs)) };
    });
    // Load from elsewhere drifts between rounds; ratios within a round compare like with like.
    const ratios = (name: string) => median(results.get('skiff ingress')!.map((r, i) => r.rps / results.get(name)![i].rps));
    console.log(`\nwrk -t${flags.threads} -c${flags.connections} -d${flags.duration}s, ${rounds} rounds (median), ${BACKENDS.length} backends\n`);
    console.log('| proxy | req/s | p50 ms | p99 ms | errors | CPU µs/request (user + sys) | skiff ÷ this, per round (median) |');
    console.log('|---|--:|--:|--:|--:|--:|--:|');
    for (const s of summary) {
      console.log(`| ${s.name} | ${s.rps.toFixed(0)} | ${s.p50.toFixed(2)} | ${s.p99.toFixed(2)} | ${s.errors} | ${s.userUs.toFixed(1)} + ${s.systemUs.toFixed(1)} | ${ratios(s.name).toFixed(2)} |`);
    }
  } finally {
    await skiff.stop();
  }
}

main()
  .catch((err) => {
    console.error(err);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const child of children) child.kill('SIGTERM');
    rmSync(work, { recursive: true, force: true });
  });
