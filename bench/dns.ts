// Cluster DNS benchmark: dnsperf against skiff's DNS (a real `skiff server`
// with 1,000 Services made through the API, answering from its informer-fed
// index) beside dnsmasq serving the same 1,000 records from an addn-hosts
// file, both on loopback inside a fresh network namespace. Two workloads:
// hits (the 1,000 service names) and the ndots:5 search-path misses of
// external names (NXDOMAIN). Throughput is dnsperf at saturation; latency is
// from a separate run at a fixed rate (dnsperf -v, every query's time), so
// p99 is the server's and not a queue's. Runs alternate servers to share the noise.
//   npx node bench/dns.ts              full run (~2 min)
//   npx node bench/dns.ts --quick      shorter runs
//   npx node bench/dns.ts --markdown   also print the table as Markdown
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { reexecInFreshNetns } from '../scripts/netns.ts';
import { run, startSkiff, waitForAnswer } from './dns-servers.ts';

reexecInFreshNetns(import.meta.filename, process.argv.slice(2));

const { values: flags } = parseArgs({ options: { quick: { type: 'boolean', default: false }, markdown: { type: 'boolean', default: false } } });

/** Services (and dnsmasq host records): the 1,000 names. */
const SERVICES = 1000;
const SKIFF_PORT = 1053;
const DNSMASQ_PORT = 1054;
const ECHO_PORT = 1055;
/**
 * The floor of any Node.js UDP server: echo each query back with QR set, no
 * DNS work at all. Where skiff lands near it, the rest is Node's per-datagram
 * cost (libuv, dgram), not the DNS code.
 */
const ECHO_SERVER = `const s = require('node:dgram').createSocket('udp4');
s.on('message', (m, r) => { m[2] |= 0x80; s.send(m, r.port, r.address); });
s.bind(${ECHO_PORT}, '127.0.0.1');`;
/** Seconds per throughput run, and rounds per server (alternating). */
const THROUGHPUT_SECONDS = flags.quick ? 3 : 8;
const ROUNDS = flags.quick ? 1 : 3;
/** Queries in flight per dnsperf client (its default, 100, keeps both servers saturated on loopback). */
const OUTSTANDING = 100;
/**
 * Client sockets per dnsperf run (its -c). Pods' resolvers query from a fresh
 * source port per lookup, so a node's DNS sees many; one socket would pin
 * every query to one of the sockets that share the port (SO_REUSEPORT hashes
 * by source address and port). The same for every server.
 */
const CLIENTS = 8;
/** The fixed rate of the latency runs: well below either server's saturation, as a busy node's DNS would see. */
const LATENCY_QPS = 10_000;
const LATENCY_SECONDS = flags.quick ? 3 : 6;

type Workload = { name: string; file: string };
type Result = { qps: number[]; p50: number; p99: number; p999: number; max: number; lost: number };

async function dnsperfThroughput(port: number, file: string): Promise<{ qps: number; lost: number }> {
  const out = await run('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', file, '-l', String(THROUGHPUT_SECONDS), '-q', String(OUTSTANDING), '-c', String(CLIENTS)]);
  const qps = Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1]);
  const lost = Number(/Queries lost:\s+(\d+)/.exec(out)?.[1] ?? 0);
  if (!Number.isFinite(qps)) throw new Error(`dnsperf said:\n${out}`);
  return { qps, lost };
}

async function dnsperfLatency(port: number, file: string): Promise<{ p50: number; p99: number; p999: number; max: number }> {
  const child = spawn('dnsperf', ['-s', '127.0.0.1', '-p', String(port), '-d', file, '-l', String(LATENCY_SECONDS), '-Q', String(LATENCY_QPS), '-c', String(CLIENTS), '-v'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const samples: number[] = [];
  let rest = '';
  child.stdout.on('data', (chunk: Buffer) => {
    const lines = (rest + chunk.toString()).split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) {
      if (line.startsWith('> ')) samples.push(Number(line.slice(line.lastIndexOf(' ') + 1)) * 1000);
    }
  });
  await new Promise((resolve) => child.on('close', resolve));
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];
  return { p50: at(0.5), p99: at(0.99), p999: at(0.999), max: samples[samples.length - 1] };
}

function startDnsmasq(hostsFile: string): ChildProcess {
  // --local: dnsmasq answers NXDOMAIN itself for unknown cluster names, as an authoritative cluster DNS does.
  return spawn(
    'dnsmasq',
    [
      '--keep-in-foreground',
      `--port=${DNSMASQ_PORT}`,
      '--listen-address=127.0.0.1',
      '--bind-interfaces',
      '--no-resolv',
      '--no-hosts',
      `--addn-hosts=${hostsFile}`,
      '--local=/cluster.local/',
      '--user=root',
      '--pid-file=',
    ],
    { stdio: 'inherit' },
  );
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-bench-dns-'));
  const skiff = await startSkiff({ dataDir: join(dir, 'skiff'), dnsPort: SKIFF_PORT, services: SERVICES });
  let dnsmasq: ChildProcess | undefined;
  const echo = spawn(process.execPath, ['-e', ECHO_SERVER], { stdio: 'inherit' });
  try {
    writeFileSync(join(dir, 'hosts'), skiff.records.map(([name, ip]) => `${ip} ${name}`).join('\n'));
    dnsmasq = startDnsmasq(join(dir, 'hosts'));
    await waitForAnswer(DNSMASQ_PORT, skiff.records[0][0]);
    const hits = join(dir, 'hits');
    writeFileSync(hits, skiff.records.map(([name]) => `${name} A`).join('\n'));
    const misses = join(dir, 'misses');
    const suffixes = ['bench.svc.cluster.local', 'svc.cluster.local', 'cluster.local'];
    writeFileSync(misses, Array.from({ length: SERVICES }, (_, i) => `host-${i}.example.com.${suffixes[i % 3]} A`).join('\n'));
    const workloads: Workload[] = [
      { name: 'hits (1,000 service names)', file: hits },
      { name: 'ndots:5 misses (NXDOMAIN)', file: misses },
    ];
    const servers = [
      { name: 'skiff', port: SKIFF_PORT },
      { name: 'dnsmasq', port: DNSMASQ_PORT },
      { name: 'node echo (floor)', port: ECHO_PORT },
    ];
    const results = new Map<string, Result>();
    for (const w of workloads) {
      for (const s of servers) results.set(`${w.name}/${s.name}`, { qps: [], p50: 0, p99: 0, p999: 0, max: 0, lost: 0 });
      for (let round = 0; round < ROUNDS; round++) {
        for (const s of round % 2 ? [...servers].reverse() : servers) {
          const r = await dnsperfThroughput(s.port, w.file);
          const entry = results.get(`${w.name}/${s.name}`)!;
          entry.qps.push(r.qps);
          entry.lost += r.lost;
        }
      }
      for (const s of servers) Object.assign(results.get(`${w.name}/${s.name}`)!, await dnsperfLatency(s.port, w.file));
    }
    const rss = skiff.rssMiB();
    const rows: string[][] = [];
    for (const w of workloads) {
      const mine = results.get(`${w.name}/skiff`)!;
      const theirs = results.get(`${w.name}/dnsmasq`)!;
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      const ratio = median(mine.qps) / median(theirs.qps);
      const floor = results.get(`${w.name}/node echo (floor)`)!;
      for (const [name, r] of [['skiff', mine], ['dnsmasq', theirs], ['node echo (floor)', floor]] as const) {
        rows.push([
          w.name,
          name,
          `${Math.round(median(r.qps)).toLocaleString('en')} (${r.qps.map((q) => Math.round(q / 1000)).join('/')}k)`,
          r.p50.toFixed(3),
          r.p99.toFixed(3),
          r.p999.toFixed(3),
          String(r.lost),
          name === 'skiff' ? `${ratio.toFixed(2)}× qps ${ratio >= 1 ? 'PASS' : 'MISS'}, p99 ${mine.p99 < theirs.p99 ? 'lower PASS' : 'not lower MISS'}` : '',
        ]);
      }
    }
    const header = ['workload', 'server', 'queries/s median (runs)', `p50 ms @${LATENCY_QPS / 1000}k/s`, 'p99 ms', 'p99.9 ms', 'lost', 'target: ≥1.0× dnsmasq, lower p99'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join('  ');
    console.log(`\ncluster DNS, ${SERVICES} services, dnsperf ${THROUGHPUT_SECONDS}s × ${ROUNDS} rounds per server, ${OUTSTANDING} in flight from ${CLIENTS} sockets; skiff server VmRSS ${rss} MiB`);
    console.log(line(header));
    for (const r of rows) console.log(line(r));
    if (flags.markdown) {
      console.log(`\n| ${header.join(' | ')} |\n|${header.map(() => '---').join('|')}|`);
      for (const r of rows) console.log(`| ${r.join(' | ')} |`);
    }
  } finally {
    dnsmasq?.kill('SIGTERM');
    echo.kill('SIGTERM');
    await skiff.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
