// Runs a real `skiff server` (as a user would, from bin/skiff.js) and real
// kubectl against it. Tests run inside the network namespace npm test makes.
import { type ChildProcess, spawn } from 'node:child_process';
import { resetNode } from '../../src/cli/reset.ts';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

const ROOT = new URL('../../', import.meta.url).pathname;
/** A server that has not said "ready" by then is broken. */
const START_TIMEOUT_MS = 30_000;
/** Enough of a failed server's stderr to explain it. */
const MAX_STDERR_KEPT = 50_000;
/** One kubectl call should never take this long against a local server. */
const KUBECTL_TIMEOUT_MS = 60_000;

export type RunResult = { code: number; stdout: string; stderr: string };

export type TestServer = {
  dataDir: string;
  kubeconfig: string;
  url: string;
  kubectl(args: string[], options?: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv }): Promise<RunResult>;
  /** kubectl that must succeed; returns stdout. */
  k(args: string[], input?: string): Promise<string>;
  restart(): Promise<void>;
  /** Stops the server process only, keeping its data directory and whatever it left on the node. */
  halt(): Promise<void>;
  stop(): Promise<void>;
};

/** Resolves with the server's URL once it prints "ready at <url>"; rejects if it exits or stays silent too long. */
export function waitForReady(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const onOut = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /ready at (\S+)/.exec(out);
      if (m) finish(() => resolve(m[1]));
    };
    const onErr = (chunk: Buffer) => {
      err = (err + chunk.toString()).slice(-MAX_STDERR_KEPT);
    };
    const onExit = (code: number | null) => finish(() => reject(new Error(`server exited with ${code}:\n${out}\n${err}`)));
    const timer = setTimeout(() => finish(() => reject(new Error(`server did not start:\n${out}\n${err}`))), START_TIMEOUT_MS);
    // Once ready, stop collecting output, but keep draining the pipes so the server never blocks on them.
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      child.stdout!.off('data', onOut);
      child.stderr!.off('data', onErr);
      child.off('exit', onExit);
      child.stdout!.resume();
      child.stderr!.resume();
      settle();
    };
    child.stdout!.on('data', onOut);
    child.stderr!.on('data', onErr);
    child.once('exit', onExit);
  });
}

export function run(cmd: string, args: string[], options: { input?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? KUBECTL_TIMEOUT_MS);
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
    // A command that exits without reading stdin must not fail the test with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

export type StartServerOptions = {
  /** Run the embedded node agent (real runc containers; needs root and the namespaces npm test makes). */
  agent?: boolean;
  /** Image tarballs copied into <data-dir>/images/, imported when the agent starts. */
  images?: string[];
  /** Options for Node itself (e.g. --cpu-prof for a benchmark's profile). */
  nodeArgs?: string[];
};

export async function startServer(extraArgs: string[] = [], options: StartServerOptions = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'skiff-e2e-'));
  if (options.images?.length) {
    mkdirSync(join(dataDir, 'images'), { recursive: true });
    for (const file of options.images) copyFileSync(file, join(dataDir, 'images', basename(file)));
  }
  const cacheDir = join(dataDir, 'kubectl-cache');
  const kubeconfig = join(dataDir, 'kubeconfig.yaml');
  let child: ChildProcess;
  let url = '';
  const launch = async () => {
    child = spawn(process.execPath, [...(options.nodeArgs ?? []), join(ROOT, 'bin/skiff.js'), 'server', '--data-dir', dataDir, '--port', '0', ...(options.agent ? [] : ['--no-agent']), ...extraArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SKIFF_LOG: process.env.SKIFF_LOG ?? 'warn' },
    });
    url = await waitForReady(child);
  };
  const stopChild = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  await launch();
  const kubectl: TestServer['kubectl'] = (args, options = {}) =>
    run('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', cacheDir, ...args], options);
  return {
    dataDir,
    kubeconfig,
    get url() {
      return url;
    },
    kubectl,
    async k(args, input) {
      const result = await kubectl(args, { input });
      if (result.code !== 0) throw new Error(`kubectl ${args.join(' ')} failed (${result.code}):\n${result.stderr}${result.stdout}`);
      return result.stdout;
    },
    async restart() {
      await stopChild();
      await launch();
    },
    halt: stopChild,
    async stop() {
      await stopChild();
      if (options.agent) await resetNode(dataDir);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a value that is not undefined/false, or fails after timeoutMs. */
export async function eventually<T>(check: () => Promise<T | undefined | false>, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
