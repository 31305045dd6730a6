// Starts a real `skiff server` for the API benchmark (as test/e2e/harness.ts
// does) and talks to it with a raw keep-alive HTTPS client carrying the admin
// kubeconfig's CA and token — no kubectl, no typed client in the hot path.
import { waitForReady } from '../test/e2e/harness.ts';
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';

const ROOT = new URL('../', import.meta.url).pathname;
/** A server that has not said "ready" by then is broken. */
/** Grace for a clean shutdown (and writing a CPU profile) before SIGKILL. */
const STOP_TIMEOUT_MS = 10_000;
/** Sockets per agent: above the highest client concurrency (100) so no request queues in the client. */
const MAX_SOCKETS = 256;
/** One non-watch request should never take this long against a local server. */
const REQUEST_TIMEOUT_MS = 60_000;

export type Reply = { status: number; body: string };

export type WatchHandlers = {
  /** One complete JSON line of the stream, with the time its chunk arrived. */
  onLine(line: string, at: number): void;
};

export type ApiClient = {
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Reply>;
  /** Opens a watch; resolves once the response headers arrived (the watch is registered). */
  watch(path: string, handlers: WatchHandlers, signal: AbortSignal): Promise<void>;
  close(): void;
};

export type BenchServer = {
  pid: number;
  url: string;
  dataDir: string;
  client: ApiClient;
  /** Resident set size of the server process, from /proc/<pid>/status. */
  rssBytes(): { rss: number; peak: number };
  stop(): Promise<void>;
};

export class RequestError extends Error {
  readonly status: number;
  constructor(method: string, path: string, reply: Reply) {
    super(`${method} ${path}: ${reply.status} ${reply.body.slice(0, 300)}`);
    this.status = reply.status;
  }
}

function readKubeconfig(path: string): { server: string; ca: string; token: string } {
  const doc = YAML.parse(readFileSync(path, 'utf8'));
  return {
    server: doc.clusters[0].cluster.server,
    ca: Buffer.from(doc.clusters[0].cluster['certificate-authority-data'], 'base64').toString(),
    token: doc.users[0].user.token,
  };
}

export function createClient(kubeconfigPath: string): ApiClient {
  const { server, ca, token } = readKubeconfig(kubeconfigPath);
  const base = new URL(server);
  const agent = new Agent({ keepAlive: true, maxSockets: MAX_SOCKETS, ca });
  const watchAgent = new Agent({ keepAlive: false, maxSockets: MAX_SOCKETS, ca });
  const common = (method: string, path: string, headers: Record<string, string>) => ({
    method,
    host: base.hostname,
    port: base.port,
    path,
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/json', 'User-Agent': 'skiff-bench', ...headers },
  });
  return {
    request(method, path, body, headers = {}) {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const h = payload === undefined ? headers : { 'Content-Type': 'application/json', ...headers };
      return new Promise((resolve, reject) => {
        const req = request({ ...common(method, path, h), agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
          res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
        req.on('error', reject);
        req.end(payload);
      });
    },
    watch(path, handlers, signal) {
      return new Promise((resolve, reject) => {
        const req = request({ ...common('GET', path, {}), agent: watchAgent, signal }, (res) => {
          if (res.statusCode !== 200) {
            reject(new Error(`watch ${path}: ${res.statusCode}`));
            res.resume();
            return;
          }
          let pending = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            const at = performance.now();
            pending += chunk;
            let nl = pending.indexOf('\n');
            while (nl >= 0) {
              handlers.onLine(pending.slice(0, nl), at);
              pending = pending.slice(nl + 1);
              nl = pending.indexOf('\n');
            }
          });
          res.on('error', () => {}); // aborted at the end of the phase
          resolve();
        });
        req.on('error', (err) => {
          if (!signal.aborted) reject(err);
        });
        req.end();
      });
    },
    close() {
      agent.destroy();
      watchAgent.destroy();
    },
  };
}

function readRss(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN);
  return { rss: kb('VmRSS') * 1024, peak: kb('VmHWM') * 1024 };
}

export type StartOptions = {
  /** Directory for a V8 CPU profile of the server (written when it exits), or none. */
  cpuProfDir?: string;
  /** More node flags for the server (e.g. --trace-gc). */
  nodeArgs?: string[];
  /** File that receives the server's stdout and stderr (default: discarded). */
  logPath?: string;
};

export async function startBenchServer(options: StartOptions = {}): Promise<BenchServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'skiff-bench-api-'));
  const nodeArgs = [...(options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfDir}`] : []), ...(options.nodeArgs ?? [])];
  const child = spawn(
    process.execPath,
    [...nodeArgs, join(ROOT, 'bin/skiff.js'), 'server', '--data-dir', dataDir, '--port', '0', '--no-agent', '--disable-controller-manager'],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SKIFF_LOG: process.env.SKIFF_LOG ?? 'warn' } },
  );
  const stopChild = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };
  let url: string;
  try {
    url = await waitForReady(child);
  } catch (err) {
    await stopChild();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  if (options.logPath) {
    const log = createWriteStream(options.logPath);
    child.stdout!.pipe(log);
    child.stderr!.pipe(log);
  } else {
    child.stdout!.resume();
    child.stderr!.resume();
  }
  const client = createClient(join(dataDir, 'kubeconfig.yaml'));
  return {
    pid: child.pid!,
    url,
    dataDir,
    client,
    rssBytes: () => readRss(child.pid!),
    async stop() {
      client.close();
      await stopChild();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
