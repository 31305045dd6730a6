// Runs system tools (ip, nft, iptables, conntrack, mount, runc, ...): argv
// only, never a shell; stdin for scripts and batches; failures carry the
// tool's stderr. Commands go through one shared helper process (spawner.ts)
// so this process never forks itself on the hot path; if the helper cannot
// run, they are spawned directly.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { type SpawnResult, Spawner } from './spawner.ts';

/** These tools answer in milliseconds; a minute means something is wedged (e.g. a netlink socket). */
const COMMAND_TIMEOUT_MS = 60_000;
/** Enough of a tool's stderr to explain a failure without flooding logs. */
const MAX_STDERR_IN_MESSAGE = 2000;

export class CommandError extends Error {
  readonly argv: string[];
  readonly exitCode: number | null;
  readonly stderr: string;
  constructor(argv: string[], exitCode: number | null, stderr: string) {
    super(`${argv.join(' ')}: ${stderr.trim().slice(0, MAX_STDERR_IN_MESSAGE) || `exit code ${exitCode}`}`);
    this.name = 'CommandError';
    this.argv = argv;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

export type CommandOptions = { input?: string; cwd?: string; timeoutMs?: number };
/** What a command did: its exit code (128+signal when killed; null when it could not be started) and output. */
export type CommandResult = { code: number | null; stdout: string; stderr: string };

let spawner: Spawner | undefined;

/** The process-wide command helper, unless it failed or SKIFF_DIRECT_SPAWN=1 asks for plain spawns. */
export function commandHelper(): Spawner | undefined {
  if (process.env.SKIFF_DIRECT_SPAWN === '1') return undefined;
  spawner ??= new Spawner();
  return spawner.usable ? spawner : undefined;
}

/** Runs argv[0] with the rest as arguments and reports how it went, whatever the exit code. */
export async function runCommand(argv: string[], options: CommandOptions = {}): Promise<CommandResult> {
  const timeoutMs = options.timeoutMs ?? COMMAND_TIMEOUT_MS;
  const helper = commandHelper();
  if (helper) {
    try {
      const r: SpawnResult = await helper.run({ argv, input: options.input, cwd: options.cwd, timeoutMs });
      return { code: r.code, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
    } catch (err) {
      // A helper that never answered (no perl) ran nothing: spawn instead. One that died mid-command may have run it.
      if (helper.proven) return { code: null, stdout: '', stderr: (err as Error).message };
    }
  }
  return spawnDirectly(argv, { ...options, timeoutMs });
}

/** The fallback: this process forks the command itself. */
function spawnDirectly(argv: string[], options: CommandOptions & { timeoutMs: number }): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'], timeout: options.timeoutMs, cwd: options.cwd });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => resolve({ code: null, stdout: '', stderr: e.message }));
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    child.stdin.on('error', () => {}); // the tool may exit before reading everything; its exit code tells
    child.stdin.end(options.input ?? '');
  });
}

/** Runs argv[0] with the rest as arguments; resolves with stdout, rejects with CommandError. */
export async function run(argv: string[], options: CommandOptions = {}): Promise<string> {
  const r = await runCommand(argv, options);
  if (r.code === 0) return r.stdout;
  throw new CommandError(argv, r.code, r.stderr);
}

/** Runs and treats failures whose stderr matches `benign` as success (e.g. "Cannot find device" when deleting). */
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
