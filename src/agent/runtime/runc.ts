// Thin wrapper around the runc command line: argv only, the state root
// always explicit (several clusters run side by side), errors typed.
import { runCommand } from '../../lib/exec.ts';

/** runc answers in tens of milliseconds; anything far longer is wedged (e.g. a D-state process). */
const RUNC_TIMEOUT_MS = 30_000;

export type RuntimeErrorReason =
  | 'NotFound'
  | 'AlreadyExists'
  | 'NotStopped'
  | 'NotRunning'
  | 'CreateFailed'
  | 'StartFailed'
  | 'RuncFailed';

export class RuntimeError extends Error {
  readonly reason: RuntimeErrorReason;
  constructor(reason: RuntimeErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RuntimeError';
    this.reason = reason;
  }
}

export function isRuntimeError(err: unknown, reason?: RuntimeErrorReason): err is RuntimeError {
  return err instanceof RuntimeError && (reason === undefined || err.reason === reason);
}

/** runc's own message out of its logrus line: `time="…" level=error msg="container does not exist"`. */
export function runcMessage(stderr: string): string {
  const msgs = [...stderr.matchAll(/msg="((?:[^"\\]|\\.)*)"/g)].map((m) => m[1].replace(/\\"/g, '"'));
  return msgs.length ? msgs.join('; ') : stderr.trim();
}

export type RuncResult = { stdout: string; stderr: string; code: number };

export class Runc {
  readonly root: string;
  readonly binary: string;

  constructor(options: { root: string; binary?: string }) {
    this.root = options.root;
    this.binary = options.binary ?? 'runc';
  }

  /** argv for `runc --root <root> ...args`, for callers that spawn it themselves. */
  argv(args: string[]): string[] {
    return [this.binary, '--root', this.root, ...args];
  }

  /** Runs runc; resolves with its output whatever the exit code. */
  async exec(args: string[]): Promise<RuncResult> {
    const r = await runCommand(this.argv(args), { timeoutMs: RUNC_TIMEOUT_MS });
    if (r.code === null) throw new RuntimeError('RuncFailed', `cannot run ${this.binary}: ${r.stderr}`);
    return { stdout: r.stdout, stderr: r.stderr, code: r.code };
  }

  /** Runs runc and rejects with its message unless it succeeds. */
  async run(args: string[]): Promise<string> {
    const r = await this.exec(args);
    if (r.code === 0) return r.stdout;
    const msg = runcMessage(r.stderr) || `exit code ${r.code}`;
    throw new RuntimeError(/does not exist/.test(msg) ? 'NotFound' : 'RuncFailed', `runc ${args[0]}: ${msg}`);
  }

  /** Sends a signal; a container that already stopped is not an error. */
  async kill(id: string, signal: string, options: { all?: boolean } = {}): Promise<void> {
    const r = await this.exec(['kill', ...(options.all ? ['--all'] : []), id, signal]);
    if (r.code === 0) return;
    const msg = runcMessage(r.stderr);
    if (/not running|process already finished|container .*stopped|no such process/i.test(msg)) return;
    throw new RuntimeError(/does not exist/.test(msg) ? 'NotFound' : 'RuncFailed', `runc kill ${id}: ${msg}`);
  }

  /** Deletes runc's state and cgroup; a container runc does not know is not an error. */
  async delete(id: string, options: { force?: boolean } = {}): Promise<void> {
    const r = await this.exec(['delete', ...(options.force ? ['--force'] : []), id]);
    if (r.code === 0) return;
    const msg = runcMessage(r.stderr);
    if (/does not exist/.test(msg)) return;
    throw new RuntimeError('RuncFailed', `runc delete ${id}: ${msg}`);
  }

  async state(
    id: string,
  ): Promise<{ id: string; pid: number; status: string; bundle: string; created: string } | undefined> {
    const r = await this.exec(['state', id]);
    if (r.code !== 0) return undefined;
    return JSON.parse(r.stdout);
  }

  async list(): Promise<{ id: string; pid: number; status: string; bundle: string }[]> {
    const out = await this.run(['list', '--format', 'json']);
    return JSON.parse(out.trim() || 'null') ?? [];
  }

  /** Host pids of the container's processes. */
  async ps(id: string): Promise<number[]> {
    return JSON.parse((await this.run(['ps', '--format', 'json', id])).trim() || '[]');
  }
}
