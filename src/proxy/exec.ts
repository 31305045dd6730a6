// Runs nft, iptables-restore, conntrack and ip: argv only, never a shell;
// stdin for scripts; failures carry the tool's stderr.
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** These tools answer in milliseconds; a minute means a wedged netlink socket. */
const COMMAND_TIMEOUT_MS = 60_000;

export class CommandError extends Error {
  readonly exitCode: number | null;
  readonly stderr: string;
  constructor(argv: string[], exitCode: number | null, stderr: string) {
    super(`${argv.join(' ')}: ${stderr.trim().slice(0, 2000) || `exit code ${exitCode}`}`);
    this.name = 'CommandError';
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

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
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

/** Runs and treats failures whose stderr matches `benign` as success. */
export async function runIgnoring(argv: string[], benign: RegExp, options: { input?: string } = {}): Promise<string> {
  try {
    return await run(argv, options);
  } catch (err) {
    if (err instanceof CommandError && benign.test(err.stderr)) return '';
    throw err;
  }
}

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
