// `runc exec` for kubectl exec. Without a tty, runc passes pipes straight to
// the process. With a tty, runc needs a controlling terminal of its own (it
// copies the container's console to it and forwards its size on SIGWINCH),
// and Node can neither make a pty nor receive runc's console fd over a
// socket, so runc runs under util-linux `script`, which gives it one; a resize
// sets that terminal's size with `stty`, and the kernel's SIGWINCH makes runc
// pass it on to the container's console.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile, readlink } from 'node:fs/promises';
import type { ExecStreams } from '../types.ts';
import type { Runc } from './runc.ts';

/** How long to wait for runc to appear under `script` before a resize gives up. */
const PTY_LOOKUP_TIMEOUT_MS = 2000;
const PTY_LOOKUP_POLL_MS = 10;

/** Quotes one word for `sh -c`. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The argv that runs `inner` with a fresh pty as its controlling terminal. */
export function underScript(inner: string[]): string[] {
  // -q: no banners; -E never: the outer pty does not echo (the container's does); -e: the child's exit code.
  return ['script', '-q', '-E', 'never', '-e', '-c', `exec ${inner.map(shellQuote).join(' ')}`, '/dev/null'];
}

/** The pty `script` gave its child (runc): /proc/<child>/fd/0. */
async function childPty(scriptPid: number): Promise<string | undefined> {
  const deadline = Date.now() + PTY_LOOKUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const children = await readFile(`/proc/${scriptPid}/task/${scriptPid}/children`, 'utf8').catch(() => '');
    const child = children.trim().split(/\s+/)[0];
    if (child) {
      const tty = await readlink(`/proc/${child}/fd/0`).catch(() => '');
      if (tty.startsWith('/dev/pts/')) return tty;
    }
    await new Promise((r) => setTimeout(r, PTY_LOOKUP_POLL_MS));
  }
  return undefined;
}

function setSize(pty: string, size: { width: number; height: number }): Promise<void> {
  return new Promise((resolve) => {
    const p = spawn('stty', ['-F', pty, 'rows', String(size.height), 'cols', String(size.width)], { stdio: 'ignore' });
    p.on('error', () => resolve());
    p.on('close', () => resolve());
  });
}

async function forwardResizes(
  child: ChildProcess,
  resize: AsyncIterable<{ width: number; height: number }>,
): Promise<void> {
  let pty: string | undefined;
  for await (const size of resize) {
    if (child.exitCode !== null || child.signalCode !== null) return;
    pty ??= await childPty(child.pid!);
    if (pty) await setSize(pty, size);
  }
}

/** Runs `command` in the container; resolves with its exit code once its output has been handed to the streams. */
export function runcExec(
  runc: Runc,
  id: string,
  command: string[],
  streams: ExecStreams,
): Promise<{ exitCode: number }> {
  const tty = streams.tty === true;
  const inner = runc.argv(['exec', ...(tty ? ['-t'] : []), id, ...command]);
  const argv = tty ? underScript(inner) : inner;
  const child = spawn(argv[0], argv.slice(1), {
    stdio: [
      streams.stdin ? 'pipe' : 'ignore',
      streams.stdout ? 'pipe' : 'ignore',
      streams.stderr || tty ? 'pipe' : 'ignore',
    ],
    env: tty ? { ...process.env, SHELL: '/bin/sh' } : process.env,
  });
  if (streams.stdin && child.stdin) {
    child.stdin.on('error', () => {}); // the process may exit before reading all input
    streams.stdin.pipe(child.stdin);
  }
  if (streams.stdout && child.stdout) child.stdout.pipe(streams.stdout, { end: false });
  // With a tty everything arrives on stdout; script's own complaints go to stderr (or stdout when no stderr is wanted).
  const errOut = streams.stderr ?? streams.stdout;
  if (child.stderr && errOut) child.stderr.pipe(errOut, { end: false });
  if (tty && streams.resize) forwardResizes(child, streams.resize).catch(() => {});
  return new Promise((resolve, reject) => {
    child.on('error', (e) => reject(new Error(`cannot run ${argv[0]}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (streams.stdin && child.stdin) streams.stdin.unpipe(child.stdin);
      resolve({ exitCode: code ?? (signal ? 128 + 9 : 1) });
    });
  });
}
