// The per-container shim: the one process that stays with a container for
// its whole life, so that its exit status is known even when the agent is
// down or restarted (runc itself exits after `create`, and an orphaned
// container's status would go to whichever process reaps it).
//
// It is a short Perl program: perl-base is an Essential package on Debian
// and Ubuntu (always installed, unlike python or a C compiler), and an idle
// perl costs ~0.5 MB of private memory, against ~2 MB private + 7 MB shared
// for a foreground `runc run` (measured; see the runtime's README notes).
//
// "create" mode (ordinary containers): the shim makes itself a child
// subreaper, runs `runc create`, and so becomes the parent of the container's
// init when runc exits; it reports "created <pid>" on fd 3 and waits.
// "run" mode (tty containers): runc needs a controlling terminal for its
// console, so the shim runs `script -c 'runc run ...'` (util-linux) and waits
// for it, reporting once runc has written the pid file.
// Either way it writes the exit code (128+signal when killed) to the exit
// file, atomically, and exits. Its stdio are the container's.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { commandHelper } from '../../lib/exec.ts';

/** prctl(2) syscall numbers: perl-base has no syscall.ph, so the shim is told. */
const PRCTL_SYSCALL: Record<string, number> = {
  x64: 157,
  arm64: 167,
  riscv64: 167,
  ia32: 172,
  arm: 172,
  s390x: 172,
  ppc64: 171,
};
/** How often run mode looks for runc's pid file (it appears within tens of milliseconds). */
const PID_FILE_POLL_S = 0.005;
/** A shim that has not reported after this long is stuck (runc create takes ~50 ms). */
const SHIM_REPORT_TIMEOUT_MS = 30_000;

export const SHIM_MARKER = 'skiff-shim';

// No modules (POSIX alone costs ~20 ms of startup and 1.5 MB): wait statuses are decoded by hand.
const SHIM_SCRIPT = `
use strict;
$0 = '${SHIM_MARKER}';
my ($mode, $nr, $exit_file, $pid_file, @cmd) = @ARGV;
my @sigs = qw(HUP INT PIPE TERM QUIT USR1 USR2);
$SIG{$_} = 'IGNORE' for @sigs;
open(my $ctl, '>&=', 3) or die "shim: fd 3: $!";
sub report { syswrite($ctl, "$_[0]\\n"); close($ctl); }
sub code_of { my $st = shift; ($st & 127) ? 128 + ($st & 127) : ($st >> 8) }
sub read_pid { open(my $f, '<', $pid_file) or return 0; my $p = <$f>; close($f); return ($p // '') =~ /^(\\d+)/ ? $1 : 0 }
if ($mode eq 'create') { syscall($nr, 36, 1, 0, 0, 0) == 0 or do { report("failed prctl: $!"); exit 1 }; }
my $child = fork() // do { report("failed fork: $!"); exit 1 };
if (!$child) {
  close($ctl); $SIG{$_} = 'DEFAULT' for @sigs;
  exec(@cmd) or exit 127;
}
my ($wait_for, $st, %reaped);
if ($mode eq 'create') {
  # Reap whatever comes (waiting for runc's pid alone was measured ~30 ms slower), remembering each status.
  while ((my $p = waitpid(-1, 0)) > 0) { $reaped{$p} = $?; last if $p == $child }
  if ($reaped{$child}) { report('failed ' . code_of($reaped{$child})); exit 1 }
  $wait_for = read_pid() or do { report('failed no pid file'); exit 1 };
  $st = $reaped{$wait_for};
} else {
  my $init;
  until ($init = read_pid()) {
    if (waitpid($child, 1) > 0) { report('failed ' . code_of($?)); exit 1 } # 1 = WNOHANG
    select(undef, undef, undef, ${PID_FILE_POLL_S});
  }
  $wait_for = $child;
  report("created $init");
}
report("created $wait_for") if $mode eq 'create';
while (!defined $st && (my $p = waitpid(-1, 0)) > 0) { $st = $? if $p == $wait_for }
exit 1 unless defined $st;
open(my $ef, '>', "$exit_file.tmp") or exit 1;
print $ef code_of($st), "\\n"; close($ef);
rename("$exit_file.tmp", $exit_file);
`;

export type ShimOptions = {
  mode: 'create' | 'run';
  /** argv the shim runs: `runc create ...` or `script ... runc run ...`. */
  command: string[];
  exitFile: string;
  pidFile: string;
  /** The container's stdin (a FIFO, read-only or read-write; none: /dev/null), and the files its output goes to. */
  files: { stdin?: { path: string; mode: 'r' | 'rw' }; stdout: string; stderr: string };
  env?: NodeJS.ProcessEnv;
};

/** What a shim reported on fd 3: "created <pid>", or why it failed. */
function parseReport(text: string): number {
  const line = text.trim();
  const m = /^created (\d+)$/.exec(line);
  if (m) return Number(m[1]);
  throw new Error(line.replace(/^failed\s*/, 'runc failed: ') || 'container shim exited without a report');
}

/**
 * Starts a shim in its own session; resolves once the container exists
 * (init pid), rejects with runc's failure. The command helper starts it when
 * it can (no fork of the agent, whose event loop would wait for the exec).
 */
export async function startShim(options: ShimOptions): Promise<{ shimPid: number; initPid: number }> {
  const nr = PRCTL_SYSCALL[process.arch];
  if (nr === undefined) throw new Error(`the container shim does not know prctl's syscall number on ${process.arch}`);
  const argv = ['perl', '-e', SHIM_SCRIPT, options.mode, String(nr), options.exitFile, options.pidFile, ...options.command];
  const helper = commandHelper();
  if (helper) {
    const { pid, report } = await helper
      .launch({ argv, env: options.env ?? process.env, ...options.files, timeoutMs: SHIM_REPORT_TIMEOUT_MS })
      .catch((err: Error) => {
        throw new Error(`cannot start the container shim (perl): ${err.message}`);
      });
    return { shimPid: pid, initPid: parseReport(report) };
  }
  const { stdin, stdout, stderr } = options.files;
  const fds = [stdin ? openSync(stdin.path, stdin.mode === 'rw' ? 'r+' : 'r') : undefined, openSync(stdout, 'a'), openSync(stderr, 'a')];
  try {
    return await spawnShim(argv, [fds[0] ?? 'ignore', fds[1]!, fds[2]!], options.env ?? process.env);
  } finally {
    for (const fd of fds) if (fd !== undefined) closeSync(fd);
  }
}

/** The fallback: the agent spawns the shim itself, detached, with the container's stdio. */
function spawnShim(argv: string[], stdio: [number | 'ignore', number, number], env: NodeJS.ProcessEnv): Promise<{ shimPid: number; initPid: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { detached: true, stdio: [...stdio, 'pipe'], env });
    const ctl = child.stdio[3] as NodeJS.ReadableStream;
    let text = '';
    let settled = false;
    const settle = (err?: Error, initPid?: number) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.unref();
      (ctl as unknown as { destroy(): void }).destroy();
      if (err) reject(err);
      else resolve({ shimPid: child.pid!, initPid: initPid! });
    };
    const timer = setTimeout(() => settle(new Error('container shim did not report in time')), SHIM_REPORT_TIMEOUT_MS);
    child.on('error', (e) => settle(new Error(`cannot start the container shim (perl): ${e.message}`)));
    ctl.on('data', (b: Buffer) => {
      text += b.toString();
    });
    ctl.on('end', () => {
      try {
        settle(undefined, parseReport(text));
      } catch (err) {
        settle(err as Error);
      }
    });
  });
}
