// Node agent benchmark, inside a fresh network namespace: a `skiff server
// --no-agent` and a separate `skiff agent` process (so its memory is the
// agent's alone) on a dummy node address, the nginx test image imported.
//  1. pod start-up latency: N pods (1, 10, 50) created at once, each timed
//     from its create request to the watch event showing phase Running.
//  2. the physical floor: `runc run -d` of N copies at once of the bundle the
//     agent built for one of those pods (its config.json, a fresh overlay of
//     the same image layers, a fresh network namespace made by runc).
//  3. the agent's VmRSS idle and with 50 pods running.
//   npx node bench/pod-startup.ts [--quick] [--markdown] [--agent-cpu-prof DIR] [--server-cpu-prof DIR]
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { KubeObject } from '../src/api/types.ts';
import { storeLayout } from '../src/agent/images/index-file.ts';
import { containerRootfsPaths, type MountRecord, mountOverlay, unmountOverlay } from '../src/agent/images/mount.ts';
import { cgroupParentFor } from '../src/agent/runtime/cgroups.ts';
import { type Client, createClient, refs } from '../src/client/index.ts';
import { reexecInFreshNetns } from '../scripts/netns.ts';
import { startServer } from '../test/e2e/harness.ts';
import { buildTestImages } from '../test/images/build.ts';

reexecInFreshNetns(import.meta.filename, process.argv.slice(2));
const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    markdown: { type: 'boolean', default: false },
    'agent-cpu-prof': { type: 'string' },
    'server-cpu-prof': { type: 'string' },
  },
});

const ROOT = resolve(import.meta.dirname, '..');
const SKIFF = join(ROOT, 'bin', 'skiff.js');
const NODE_NAME = 'bench-node';
/** TEST-NET-1: a node address that is not loopback (masquerade decisions need one), on lo of this namespace only. */
const NODE_IP = '192.0.2.1';
/** Batch sizes from the issue; rounds per size so that p50/p99 rest on more than one sample at small N. */
const SIZES: [number, number][] = flags.quick ? [[1, 3], [10, 1], [50, 1]] : [[1, 10], [10, 3], [50, 2]];
/** The issue's scale for memory with pods running. */
const RSS_PODS = 50;
/** One batch must be Running well within this on a loaded 2-core machine; past it the bench fails. */
const BATCH_TIMEOUT_MS = 90_000;
const AGENT_READY_TIMEOUT_MS = 60_000;
/** Idle time before the idle RSS sample: start-up garbage collected, informers synced. */
const IDLE_SETTLE_MS = 5000;
/** Between rounds: the previous round's teardown must not overlap the next measurement. */
const TEARDOWN_TIMEOUT_MS = 90_000;
const POLL_MS = 100;
/** USER_HZ, fixed at 100 on Linux. */
const CLOCK_TICKS = 100;
/** ip, runc delete, skiff reset: each takes well under this. */
const COMMAND_TIMEOUT_MS = 60_000;

/** Runs a command (stdin closed); resolves with its exit code and stderr, never rejects. */
function run(cmd: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = execFile(cmd, args, { timeout: COMMAND_TIMEOUT_MS }, (err, _out, stderr) =>
      resolvePromise({ code: err ? Number((err as { code?: unknown }).code) || 1 : 0, stderr }),
    );
    child.stdin?.end();
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.max(0, Math.ceil((p / 100) * xs.length) - 1))];

async function until<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

/**
 * VmRSS, VmHWM and RssAnon of a process, MiB. RssAnon is the process's own
 * memory; the rest of VmRSS is mostly the node binary's pages (~50 MiB),
 * shared with every other node process on the machine.
 */
function memory(pid: number): { rss: number; hwm: number; anon: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
  return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024, anon: kb('RssAnon') / 1024 };
}

/** CPU seconds the process has used itself (utime + stime), or its reaped children (cutime + cstime). */
function cpuSeconds(pid: number, whose: 'self' | 'children' = 'self'): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  // Fields 14-17 of stat(5), counted after the command name; clock ticks of 1/100 s on Linux.
  const at = whose === 'self' ? 11 : 13;
  return (Number(fields[at]) + Number(fields[at + 1])) / CLOCK_TICKS;
}

/**
 * CPU of the commands the agent ran: those it reaped itself, plus its command
 * helper (skiff-spawner) and the commands that helper reaped.
 */
function commandCpuSeconds(agentPid: number): number {
  let total = cpuSeconds(agentPid, 'children');
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const ppid = Number(stat.split(') ')[1].split(' ')[1]);
      if (ppid !== agentPid || !readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('skiff-spawner')) continue;
      total += cpuSeconds(Number(pid)) + cpuSeconds(Number(pid), 'children');
    } catch {}
  }
  return total;
}

/** The pid of the process whose command line contains `text`. */
function pidWith(text: string): number | undefined {
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(text) && Number(pid) !== process.pid) return Number(pid);
    } catch {}
  }
  return undefined;
}

/** Busy CPU seconds of the whole machine (all cores; other work included). */
function machineBusySeconds(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
  // user nice system idle iowait irq softirq steal: everything but idle and iowait.
  return (ticks.reduce((a, b) => a + b, 0) - ticks[3] - ticks[4]) / CLOCK_TICKS;
}

/** Summed VmRSS (MiB) and count of the container shims (perl, named skiff-shim). */
function shimMemory(): { count: number; rss: number } {
  let count = 0;
  let rss = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('skiff-shim')) continue;
      count++;
      rss += memory(Number(pid)).rss;
    } catch {}
  }
  return { count, rss };
}

function startAgent(o: { server: string; token: string; dataDir: string }): Promise<ChildProcess> {
  const prof = flags['agent-cpu-prof'];
  if (prof) mkdirSync(prof, { recursive: true });
  const args = [
    ...(prof ? ['--cpu-prof', '--cpu-prof-dir', resolve(prof)] : []),
    SKIFF,
    'agent',
    '--server',
    o.server,
    '--token',
    o.token,
    '--data-dir',
    o.dataDir,
    '--node-name',
    NODE_NAME,
    '--node-ip',
    NODE_IP,
  ];
  const child = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, SKIFF_LOG: process.env.SKIFF_LOG ?? 'warn' },
  });
  let out = '';
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent not ready:\n${out}`)), AGENT_READY_TIMEOUT_MS);
    const onData = (b: Buffer) => {
      out += b.toString();
      if (out.includes(`node ${NODE_NAME} ready`)) {
        clearTimeout(timer);
        resolvePromise(child);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (b: Buffer) => {
      out += b.toString();
      if (process.env.SKIFF_LOG) process.stderr.write(b);
    });
    child.once('exit', (code) => reject(new Error(`agent exited with ${code}:\n${out}`)));
  });
}

const podObject = (name: string, round: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', labels: { app: 'bench', round } },
  spec: {
    nodeSelector: { 'kubernetes.io/hostname': NODE_NAME },
    // busybox httpd as PID 1 ignores SIGTERM: a short grace keeps teardown between rounds quick.
    terminationGracePeriodSeconds: 1,
    containers: [{ name: 'web', image: 'nginx:1.14.2', imagePullPolicy: 'Never' }],
  },
});

/** Creates n pods at once; resolves with each pod's create-request → watched-Running latency (ms). */
async function podBatch(api: Client, n: number, round: string): Promise<number[]> {
  const stop = new AbortController();
  const sentAt = new Map<string, number>();
  const latencies: number[] = [];
  const list = await api.list(refs.pods, { namespace: 'default', labelSelector: `round=${round}` });
  const watched = (async () => {
    const events = api.watch(refs.pods, {
      namespace: 'default',
      labelSelector: `round=${round}`,
      resourceVersion: list.metadata.resourceVersion,
      signal: stop.signal,
    });
    const seen = new Set<string>();
    for await (const ev of events) {
      const pod = ev.object as KubeObject & { status?: { phase?: string } };
      const name = pod.metadata?.name ?? '';
      if (ev.type !== 'MODIFIED' || pod.status?.phase !== 'Running' || seen.has(name)) continue;
      seen.add(name);
      latencies.push(performance.now() - sentAt.get(name)!);
      if (seen.size === n) return;
    }
  })();
  const timer = setTimeout(() => stop.abort(), BATCH_TIMEOUT_MS);
  await Promise.all(
    Array.from({ length: n }, (_, i) => {
      const name = `b${round}-${i}`;
      sentAt.set(name, performance.now());
      return api.create(refs.pods, podObject(name, round), { namespace: 'default' });
    }),
  );
  await watched.catch(() => {});
  clearTimeout(timer);
  stop.abort();
  if (latencies.length < n) throw new Error(`round ${round}: only ${latencies.length} of ${n} pods Running in time`);
  return latencies;
}

/** Deletes every bench pod and waits until the agent has torn their containers and mounts down. */
async function teardown(api: Client, agentDir: string): Promise<void> {
  await api.deleteCollection(refs.pods, { namespace: 'default', labelSelector: 'app=bench' });
  const containers = join(agentDir, 'agent', 'containers');
  await until('pods deleted and containers removed', TEARDOWN_TIMEOUT_MS, async () => {
    const left = await api.list(refs.pods, { namespace: 'default', labelSelector: 'app=bench' });
    const dirs = existsSync(containers) ? readdirSync(containers) : [];
    return left.items.length === 0 && dirs.length === 0 ? true : undefined;
  });
}

type Template = { config: Record<string, unknown>; record: MountRecord };

/**
 * One pod's bundle as the agent wrote it, made standalone: the files it
 * bind-mounts from the pod's directory (hosts, resolv.conf, token) copied
 * away so they outlive the pod.
 */
function captureTemplate(agentDir: string, floorDir: string): Template {
  const containers = join(agentDir, 'agent', 'containers');
  const id = readdirSync(containers).find((d) => existsSync(join(containers, d, 'config.json')));
  if (!id) throw new Error('no container bundle to copy');
  const config = JSON.parse(readFileSync(join(containers, id, 'config.json'), 'utf8'));
  const record = JSON.parse(readFileSync(join(containers, id, 'rootfs.json'), 'utf8')) as MountRecord;
  const podFiles = join(agentDir, 'agent', 'pods');
  const copies = join(floorDir, 'pod-files');
  for (const m of config.mounts as { source?: string; type?: string; options?: string[] }[]) {
    if (!m.source?.startsWith(`${podFiles}/`)) continue;
    const target = join(copies, m.source.slice(podFiles.length + 1));
    cpSync(m.source, target, { recursive: true, dereference: true });
    m.source = target;
  }
  return { config, record };
}

const floorCgroup = (agentDir: string, id: string) => `/${cgroupParentFor(agentDir)}/floor/${id}`;

/** `runc run -d` of n copies of the template at once; resolves with each one's latency (ms). Bundles are made before the clock starts. */
async function floorBatch(o: { template: Template; agentDir: string; floorDir: string; n: number; round: string }): Promise<number[]> {
  const runcRoot = join(o.floorDir, 'runc');
  const bundles = join(o.floorDir, 'bundles');
  const ids = Array.from({ length: o.n }, (_, i) => `floor-${o.round}-${i}`);
  await Promise.all(
    ids.map(async (id) => {
      const paths = containerRootfsPaths(bundles, id);
      await mountOverlay({
        layersDir: storeLayout(o.agentDir).layers,
        lower: [...o.template.record.layers].reverse().map((l) => `${l.replace(/^sha256:/, '')}/fs`),
        paths,
        record: o.template.record,
      });
      const config = structuredClone(o.template.config) as {
        root: { path: string };
        process: { terminal?: boolean };
        linux: { cgroupsPath: string; namespaces: { type: string; path?: string }[] };
      };
      config.root.path = paths.rootfs;
      config.process.terminal = false;
      config.linux.cgroupsPath = floorCgroup(o.agentDir, id);
      // A fresh network namespace per container, made by runc (the agent joins the one its network set up).
      config.linux.namespaces = config.linux.namespaces.map(({ type }) => ({ type }));
      writeFileSync(join(paths.dir, 'config.json'), JSON.stringify(config));
    }),
  );
  const t0 = performance.now();
  const runs = Promise.allSettled(
    ids.map(
      (id) =>
        new Promise<number>((resolvePromise, reject) => {
          // runc run -d hands its stdio to the container: a file, not a pipe that would stay open while it runs.
          const errFile = join(bundles, id, 'runc.err');
          const errFd = openSync(errFile, 'w');
          const child = spawn('runc', ['--root', runcRoot, 'run', '-d', '--bundle', join(bundles, id), id], {
            stdio: ['ignore', 'ignore', errFd],
          });
          closeSync(errFd);
          child.on('error', reject);
          child.on('exit', (code) =>
            code === 0
              ? resolvePromise(performance.now() - t0)
              : reject(new Error(`runc run ${id}: ${readFileSync(errFile, 'utf8').trim()}`)),
          );
        }),
    ),
  );
  const settled = await runs;
  // delete --force kills what runs and removes its cgroups.
  await Promise.all(ids.map((id) => run('runc', ['--root', runcRoot, 'delete', '--force', id])));
  for (const id of ids) await unmountOverlay(containerRootfsPaths(bundles, id));
  rmSync(bundles, { recursive: true, force: true });
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((r) => (r as PromiseFulfilledResult<number>).value);
}

type Row = { what: string; n: number; samples: number[] };

function summary(rows: Row[], mem: { label: string; value: string }[]): string {
  const fmt = (ms: number) => ms.toFixed(0);
  const target = (r: Row) => (r.what === 'agent' && r.n === 50 ? `p99 < 1000 ms: ${pct(r.samples, 99) < 1000 ? 'MET' : 'MISS'}` : '');
  if (flags.markdown) {
    const lines = ['| measurement | pods at once | samples | p50 ms | p99 ms | max ms | target |', '|---|--:|--:|--:|--:|--:|---|'];
    for (const r of rows)
      lines.push(
        `| ${r.what === 'agent' ? 'create → Running (watch)' : '`runc run -d` floor'} | ${r.n} | ${r.samples.length} | ${fmt(pct(r.samples, 50))} | ${fmt(pct(r.samples, 99))} | ${fmt(Math.max(...r.samples))} | ${target(r)} |`,
      );
    lines.push('', '| agent memory | MiB |', '|---|--:|');
    for (const m of mem) lines.push(`| ${m.label} | ${m.value} |`);
    return lines.join('\n');
  }
  const lines = [`${'measurement'.padEnd(30)} ${'n'.padStart(3)} ${'samples'.padStart(7)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'max ms'.padStart(8)}`];
  for (const r of rows)
    lines.push(
      `${(r.what === 'agent' ? 'create → Running (watch)' : 'runc run -d (floor)').padEnd(30)} ${String(r.n).padStart(3)} ${String(r.samples.length).padStart(7)} ${fmt(pct(r.samples, 50)).padStart(8)} ${fmt(pct(r.samples, 99)).padStart(8)} ${fmt(Math.max(...r.samples)).padStart(8)}  ${target(r)}`,
    );
  for (const m of mem) lines.push(`${m.label.padEnd(46)} ${m.value} MiB`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const started = Date.now();
  await run('ip', ['addr', 'add', `${NODE_IP}/32`, 'dev', 'lo']);
  const images = await buildTestImages();
  const benchDir = mkdtempSync(join(tmpdir(), 'skiff-bench-pods-'));
  const agentDir = join(benchDir, 'agent');
  const floorDir = join(benchDir, 'floor');
  mkdirSync(join(agentDir, 'images'), { recursive: true });
  cpSync(images.nginx1142, join(agentDir, 'images', 'nginx.tar'));
  const serverProf = flags['server-cpu-prof'];
  if (serverProf) mkdirSync(serverProf, { recursive: true });
  const server = await startServer([], { nodeArgs: serverProf ? ['--cpu-prof', '--cpu-prof-dir', resolve(serverProf)] : [] });
  let agent: ChildProcess | undefined;
  const api = createClient({
    server: server.url,
    caPem: readFileSync(join(server.dataDir, 'tls', 'ca.crt'), 'utf8'),
    token: readFileSync(join(server.dataDir, 'admin-token'), 'utf8').trim(),
  });
  const rows: Row[] = [];
  const mem: { label: string; value: string }[] = [];
  const cpuRows: { label: string; value: string }[] = [];
  try {
    const token = readFileSync(join(server.dataDir, 'token'), 'utf8').trim();
    agent = await startAgent({ server: server.url, token, dataDir: agentDir });
    const agentPid = agent.pid!;
    const serverPid = pidWith(server.dataDir);
    if (!serverPid) throw new Error('server process not found');
    await until('node Ready', AGENT_READY_TIMEOUT_MS, async () => {
      const node = (await api.get(refs.nodes, NODE_NAME).catch(() => undefined)) as
        | (KubeObject & { status?: { conditions?: { type: string; status: string }[] } })
        | undefined;
      return node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
    });
    await until('default ServiceAccount', AGENT_READY_TIMEOUT_MS, () =>
      api.get(refs.serviceaccounts, 'default', { namespace: 'default' }).then(
        () => true,
        () => undefined,
      ),
    );
    await sleep(IDLE_SETTLE_MS);
    const idle = memory(agentPid);
    mem.push({ label: 'agent VmRSS idle', value: idle.rss.toFixed(0) });
    mem.push({ label: 'agent RssAnon idle (VmRSS less file pages)', value: idle.anon.toFixed(0) });

    let round = 0;
    let template: Template | undefined;
    for (const [n, rounds] of SIZES) {
      const samples: number[] = [];
      for (let r = 0; r < rounds; r++) {
        const before = [cpuSeconds(agentPid), commandCpuSeconds(agentPid), cpuSeconds(serverPid), machineBusySeconds()];
        const t0 = performance.now();
        samples.push(...(await podBatch(api, n, String(round++))));
        if (r === 0) {
          const [agentCpu, childCpu, serverCpu, busy] = [
            cpuSeconds(agentPid),
            commandCpuSeconds(agentPid),
            cpuSeconds(serverPid),
            machineBusySeconds(),
          ].map((v, i) => (v - before[i]).toFixed(2));
          cpuRows.push({
            label: `${n} pods at once, CPU s until the last Running`,
            value: `agent ${agentCpu}, its commands (and command helper) ${childCpu}, server ${serverCpu}, whole machine ${busy} (wall ${((performance.now() - t0) / 1000).toFixed(2)} s, 2 cores)`,
          });
        }
        if (n === RSS_PODS && r === 0) {
          await sleep(1000);
          const busy = memory(agentPid);
          const shims = shimMemory();
          mem.push({ label: `agent VmRSS with ${n} pods running`, value: busy.rss.toFixed(0) });
          mem.push({ label: `agent RssAnon with ${n} pods running`, value: busy.anon.toFixed(0) });
          mem.push({ label: 'agent VmHWM (peak) so far', value: busy.hwm.toFixed(0) });
          mem.push({ label: `container shims (${shims.count} perl processes), summed VmRSS`, value: shims.rss.toFixed(0) });
        }
        template ??= captureTemplate(agentDir, floorDir);
        await teardown(api, agentDir);
      }
      rows.push({ what: 'agent', n, samples });
      process.stderr.write(`agent ${n} pods: p50 ${pct(samples, 50).toFixed(0)} ms, p99 ${pct(samples, 99).toFixed(0)} ms\n`);
    }
    if (!template) throw new Error('no bundle captured');
    for (const [n, rounds] of SIZES) {
      const samples: number[] = [];
      for (let r = 0; r < rounds; r++)
        samples.push(...(await floorBatch({ template, agentDir, floorDir, n, round: String(round++) })));
      rows.push({ what: 'floor', n, samples });
    }
  } finally {
    api.close();
    if (agent && agent.exitCode === null) {
      const exited = new Promise((r) => agent!.once('exit', r));
      agent.kill('SIGTERM');
      const timer = setTimeout(() => agent!.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    await server.stop();
    const reset = await run(process.execPath, [SKIFF, 'reset', '--data-dir', agentDir]);
    if (reset.code !== 0) process.stderr.write(`skiff reset: ${reset.stderr}`);
    rmSync(benchDir, { recursive: true, force: true });
  }
  rows.sort((a, b) => a.n - b.n || (a.what === 'agent' ? -1 : 1));
  process.stdout.write(`${summary(rows, mem)}\n`);
  for (const c of cpuRows) process.stdout.write(`${c.label}: ${c.value}\n`);
  process.stderr.write(`(${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : err}\n`);
    process.exit(1);
  },
);
