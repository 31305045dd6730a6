// Runs the network tools (ip, nsenter, unshare, mount, nft, iptables): argv
// only, never a shell; stdin for batch input; failures carry the tool's stderr.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A tool that is supposed to answer in milliseconds; anything longer is stuck (e.g. a wedged netlink socket). */
const COMMAND_TIMEOUT_MS = 15_000;

export class CommandError extends Error {
  readonly argv: string[];
  readonly exitCode: number | null;
  readonly stderr: string;
  constructor(argv: string[], exitCode: number | null, stderr: string) {
    super(`${argv.join(' ')}: ${stderr.trim() || `exit code ${exitCode}`}`);
    this.name = 'CommandError';
    this.argv = argv;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

/** Runs argv[0] with the rest as arguments; resolves with stdout, rejects with CommandError. */
export function run(argv: string[], options: { input?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], timeout: COMMAND_TIMEOUT_MS });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new CommandError(argv, null, e.message)));
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString());
      else reject(new CommandError(argv, code, Buffer.concat(err).toString()));
    });
    child.stdin.on('error', () => {}); // the tool may exit before reading everything; its exit code tells
    child.stdin.end(options.input ?? '');
  });
}

/** Runs and ignores failures whose stderr matches `benign` (e.g. "Cannot find device" when deleting). */
export async function runIgnoring(argv: string[], benign: RegExp, options: { input?: string } = {}): Promise<string> {
  try {
    return await run(argv, options);
  } catch (err) {
    if (err instanceof CommandError && benign.test(err.stderr)) return '';
    throw err;
  }
}

/** Whether an executable of this name is on PATH. */
export function hasCommand(name: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {}
  }
  return false;
}

/** iproute2's marker after each failed line of a forced batch: "Command failed -:<line>". */
const BATCH_FAILURE = /^Command failed -:(\d+)$/;

/** Per-line errors of an `ip -force -batch` run, from its stderr: line number (1-based) → message. Pure. */
export function batchFailures(stderr: string): Map<number, string> {
  const failures = new Map<number, string>();
  let pending: string[] = [];
  for (const line of stderr.split('\n')) {
    const m = BATCH_FAILURE.exec(line.trim());
    if (m) {
      failures.set(Number(m[1]), pending.join('\n').trim() || 'failed');
      pending = [];
    } else if (line.trim()) pending.push(line.trim());
  }
  return failures;
}

type BatchJob = { lines: string[]; resolve(): void; reject(err: Error): void };

/**
 * Coalesces `ip` commands from concurrent callers into one `ip -force -batch`
 * process: starting a process costs milliseconds here, so 50 pods starting
 * at once share a few runs instead of making 50. Each caller learns only
 * about its own lines' failures.
 */
export class IpBatcher {
  #queue: BatchJob[] = [];
  #draining = false;

  run(lines: string[]): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ lines, resolve, reject });
      if (!this.#draining) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    while (this.#queue.length > 0) {
      const jobs = this.#queue.splice(0);
      const input = `${jobs.flatMap((j) => j.lines).join('\n')}\n`;
      let failures = new Map<number, string>();
      try {
        await run(['ip', '-force', '-batch', '-'], { input });
      } catch (err) {
        failures = err instanceof CommandError ? batchFailures(err.stderr) : new Map();
        if (failures.size === 0) {
          for (const job of jobs) job.reject(err as Error);
          continue;
        }
      }
      let line = 1;
      for (const job of jobs) {
        const own = job.lines.map((text, i) => [text, failures.get(line + i)] as const).filter(([, e]) => e !== undefined);
        line += job.lines.length;
        if (own.length === 0) job.resolve();
        else job.reject(new CommandError(['ip', '-batch', ...own.map(([text]) => `"${text}"`)], 1, own.map(([, e]) => e).join('\n')));
      }
    }
    this.#draining = false;
  }
}
