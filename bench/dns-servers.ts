// Helpers for bench/dns.ts: a real `skiff server` with N Services made through
// the API (kubectl), a one-shot DNS probe, and a command runner.
import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import packet from 'dns-packet';

const ROOT = new URL('../', import.meta.url).pathname;
/** A server that has not said "ready" by then is broken. */
const START_TIMEOUT_MS = 30_000;
/** How long the Services may take to show up in DNS after kubectl returns. */
const RECORDS_TIMEOUT_MS = 60_000;

export function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      out += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${out}`))));
    child.stdin.end(input ?? '');
  });
}

/** One UDP query; resolves with the answer count (0 on NXDOMAIN/NODATA), rejects after a short wait. */
export function probe(port: number, name: string): Promise<number> {
  const socket = createSocket('udp4');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.close();
      reject(new Error('no answer'));
    }, 500);
    socket.on('message', (msg) => {
      clearTimeout(timer);
      socket.close();
      resolve(packet.decode(msg).answers?.length ?? 0);
    });
    socket.send(packet.encode({ type: 'query', id: 1, questions: [{ name, type: 'A', class: 'IN' }] }), port, '127.0.0.1');
  });
}

export async function waitForAnswer(port: number, name: string, timeoutMs = RECORDS_TIMEOUT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await probe(port, name).catch(() => 0)) > 0) return;
    if (Date.now() > deadline) throw new Error(`${name} not answered on port ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export type SkiffDns = {
  /** [name, ClusterIP] of every Service made. */
  records: [string, string][];
  rssMiB(): number;
  stop(): Promise<void>;
};

export async function startSkiff(options: { dataDir: string; dnsPort: number; services: number }): Promise<SkiffDns> {
  mkdirSync(options.dataDir, { recursive: true });
  const child: ChildProcess = spawn(
    process.execPath,
    [join(ROOT, 'bin/skiff.js'), 'server', '--data-dir', options.dataDir, '--port', '0', '--no-agent', '--no-upstream-dns', '--dns-port', String(options.dnsPort)],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SKIFF_LOG: process.env.SKIFF_LOG ?? 'warn' } },
  );
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), START_TIMEOUT_MS);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (/ready at/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    let err = '';
    child.stderr!.on('data', (c: Buffer) => {
      err = (err + c.toString()).slice(-20_000);
    });
    child.once('exit', (code) => reject(new Error(`server exited ${code}:\n${out}\n${err}`)));
  });
  try {
    const kubeconfig = join(options.dataDir, 'kubeconfig.yaml');
    const kubectl = (args: string[], input?: string) => run('kubectl', ['--kubeconfig', kubeconfig, ...args], input);
    await kubectl(['create', 'namespace', 'bench']);
    const items = Array.from({ length: options.services }, (_, i) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `svc-${i}`, namespace: 'bench' },
      spec: { selector: { app: `app-${i}` }, ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    }));
    await kubectl(['apply', '--server-side', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
    const ips = await kubectl(['get', 'services', '-n', 'bench', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.clusterIP}{"\\n"}{end}']);
    const records = ips
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const [name, ip] = l.split(' ');
        return [`${name}.bench.svc.cluster.local`, ip] as [string, string];
      });
    await waitForAnswer(options.dnsPort, records[records.length - 1][0]);
    return {
      records,
      rssMiB: () => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
