// Runs system tools (ip, nft, iptables, conntrack, mount, ...): argv only,
// never a shell; stdin for scripts and batches; failures carry the tool's stderr.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

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
