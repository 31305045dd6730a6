// Runs short commands (ip, mount, runc, nft, ...) through one long-lived,
// small Perl process instead of forking this process for each.
//
// Why: libuv's spawn forks the whole Node process (page tables of 100+ MB)
// and then blocks the event loop until the child has exec'd. On a busy node
// that is 5–12 ms per command with everything else on the loop waiting, and
// starting a pod takes about five commands. A 5 MB Perl process forks in a
// fraction of a millisecond, and the agent only writes a request to a pipe.
// perl-base is Essential on Debian and Ubuntu (the container shim is Perl
// too). When Perl cannot be started the caller falls back to spawning itself.
//
// Wire format (both directions): a 4-byte big-endian length, then the payload.
//   run:      r \0 id \0 timeoutMs \0 cwd \0 argc \0 arg1 \0 ... argN \0 stdin-bytes
//   launch:   l \0 id \0 timeoutMs \0 stdinPath \0 stdinMode \0 stdoutPath \0 stderrPath \0
//             envc \0 env1 \0 ... \0 argc \0 arg1 \0 ... argN \0
//   response: id \0 code \0 stdoutLength \0 stdout-bytes stderr-bytes
// For run, code is the exit status, 128+signal when killed, 127 with a
// message on stderr when the program could not be run. A launch starts a
// long-lived process in its own session with files for stdio and a pipe as
// fd 3, and answers once fd 3 is closed (code: its pid; stdout: what it
// wrote there); the helper reaps it whenever it ends.
import { type ChildProcess, spawn } from 'node:child_process';

export type SpawnResult = { code: number; stdout: Buffer; stderr: Buffer };
export type SpawnRequest = { argv: string[]; input?: string | Buffer; cwd?: string; timeoutMs: number };
export type LaunchRequest = {
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** A file (e.g. a FIFO) for stdin, opened read-only ('r') or read-write ('rw'); /dev/null when absent. */
  stdin?: { path: string; mode: 'r' | 'rw' };
  /** Files stdout and stderr are appended to. */
  stdout: string;
  stderr: string;
  /** The process is killed if fd 3 is still open after this long. */
  timeoutMs: number;
};

const SPAWNER_SCRIPT = String.raw`
use strict;
use POSIX ();
$0 = 'skiff-spawner';
$SIG{PIPE} = 'IGNORE';
# A Ctrl-C or TERM meant for the agent's process group must not end the helper mid-command: it ends when the agent
# closes its stdin. Children get the default dispositions back before they exec.
my @GROUP_SIGNALS = qw(INT TERM HUP QUIT);
$SIG{$_} = 'IGNORE' for @GROUP_SIGNALS;
my ($F_GETFL, $F_SETFL, $O_NONBLOCK, $WNOHANG) = (3, 4, 2048, 1);
binmode STDIN; binmode STDOUT;
my ($buf, $open, %jobs, %reaped) = ('', 1);

sub respond {
  my ($id, $code, $out, $err) = @_;
  my $p = join("\0", $id, $code, length($out)) . "\0" . $out . $err;
  my $frame = pack('N', length $p) . $p;
  while (length $frame) {
    my $n = syswrite(STDOUT, $frame);
    exit 0 unless defined $n;
    substr($frame, 0, $n) = '';
  }
}

sub launch {
  my ($id, $timeout, $in, $in_mode, $out, $err, $envc, $rest) = split /\0/, shift, 8;
  my @fields = split /\0/, $rest, -1;
  my @env = splice(@fields, 0, $envc);
  my $argc = shift @fields;
  my @argv = @fields[0 .. $argc - 1];
  pipe(my $cr, my $cw) or return respond($id, 0, '', "skiff-spawner: pipe: $!\n");
  my $pid = fork();
  return respond($id, 0, '', "skiff-spawner: fork: $!\n") unless defined $pid;
  if (!$pid) {
    $SIG{$_} = 'DEFAULT' for @GROUP_SIGNALS, 'PIPE';
    POSIX::setsid();
    my $ok = length $in ? open(STDIN, $in_mode eq 'rw' ? '+<' : '<', $in) : open(STDIN, '<', '/dev/null');
    $ok = $ok && open(STDOUT, '>>', $out) && open(STDERR, '>>', $err);
    defined POSIX::dup2(fileno($cw), 3) or $ok = 0;
    if (!$ok) { syswrite($cw, "failed stdio: $!\n"); POSIX::_exit(127) }
    %ENV = map { split /=/, $_, 2 } @env;
    exec { $argv[0] } @argv;
    syswrite($cw, "failed cannot run $argv[0]: $!\n");
    POSIX::_exit(127);
  }
  close($cw);
  $jobs{$pid} = { id => $id, pid => $pid, ctl => $cr, c => '', launch => 1, deadline => time() + $timeout / 1000 };
}

sub start {
  my $payload = shift;
  my ($kind, $rest0) = split /\0/, $payload, 2;
  return launch($rest0) if $kind eq 'l';
  my ($id, $timeout, $cwd, $argc, $rest) = split /\0/, $rest0, 5;
  my @argv = split /\0/, $rest, $argc + 1;
  my $input = pop @argv;
  my ($ir, $iw, $or, $ow, $er, $ew);
  pipe($or, $ow) && pipe($er, $ew) or return respond($id, 127, '', "skiff-spawner: pipe: $!\n");
  if (length $input) { pipe($ir, $iw) or return respond($id, 127, '', "skiff-spawner: pipe: $!\n") }
  my $pid = fork();
  return respond($id, 127, '', "skiff-spawner: fork: $!\n") unless defined $pid;
  if (!$pid) {
    $SIG{$_} = 'DEFAULT' for @GROUP_SIGNALS, 'PIPE';
    if ($ir) { open(STDIN, '<&', $ir) } else { open(STDIN, '<', '/dev/null') }
    open(STDOUT, '>&', $ow); open(STDERR, '>&', $ew);
    if (length $cwd && !chdir($cwd)) { print STDERR "skiff-spawner: cd $cwd: $!\n"; POSIX::_exit(127) }
    exec { $argv[0] } @argv;
    print STDERR "skiff-spawner: cannot run $argv[0]: $!\n";
    POSIX::_exit(127);
  }
  close($ow); close($ew);
  my $job = { id => $id, pid => $pid, out => $or, err => $er, o => '', e => '', deadline => time() + $timeout / 1000 };
  if ($iw) {
    close($ir);
    fcntl($iw, $F_SETFL, fcntl($iw, $F_GETFL, 0) | $O_NONBLOCK);
    @$job{qw(in inbuf)} = ($iw, $input);
  }
  $jobs{$pid} = $job;
}

sub code_of { my $st = shift; ($st & 127) ? 128 + ($st & 127) : ($st >> 8) }

while ($open || %jobs) {
  # Launched processes are reaped whenever they end; only run jobs need their status.
  while ((my $p = waitpid(-1, $WNOHANG)) > 0) { $reaped{$p} = $? if $jobs{$p} && !$jobs{$p}{launch} }
  for my $j (values %jobs) {
    if (!$j->{launch} && !$j->{out} && !$j->{err} && exists $reaped{$j->{pid}}) {
      respond($j->{id}, code_of(delete $reaped{$j->{pid}}), $j->{o}, $j->{e});
      close($j->{in}) if $j->{in};
      delete $jobs{$j->{pid}};
    } elsif (time() > $j->{deadline} && !$j->{killed}) {
      kill('KILL', $j->{pid}); $j->{killed} = 1;
    }
  }
  my ($rin, $win) = ('', '');
  vec($rin, fileno(STDIN), 1) = 1 if $open;
  my $waiting = 0;
  for my $j (values %jobs) {
    vec($rin, fileno($j->{$_}), 1) = 1 for grep { $j->{$_} } qw(out err ctl);
    vec($win, fileno($j->{in}), 1) = 1 if $j->{in};
    $waiting = 1 if !$j->{launch} && !$j->{out} && !$j->{err};
  }
  # Output closed but not yet reaped: look again soon. Otherwise wake for deadlines.
  my $n = select(my $rout = $rin, my $wout = $win, undef, $waiting ? 0.002 : 0.25);
  next if $n <= 0;
  if ($open && vec($rout, fileno(STDIN), 1)) {
    my $got = sysread(STDIN, $buf, 65536, length $buf);
    if (!$got) { $open = 0 }
    while (length($buf) >= 4) {
      my $len = unpack('N', $buf);
      last if length($buf) < 4 + $len;
      my $payload = substr($buf, 4, $len);
      substr($buf, 0, 4 + $len) = '';
      start($payload);
    }
  }
  for my $j (values %jobs) {
    if ($j->{ctl} && vec($rout, fileno($j->{ctl}), 1)) {
      next if sysread($j->{ctl}, $j->{c}, 4096, length $j->{c});
      close($j->{ctl});
      respond($j->{id}, $j->{pid}, $j->{c}, '');
      delete $jobs{$j->{pid}};
      next;
    }
    for my $k (qw(out err)) {
      next unless $j->{$k} && vec($rout, fileno($j->{$k}), 1);
      my $got = sysread($j->{$k}, $j->{substr($k, 0, 1)}, 65536, length $j->{substr($k, 0, 1)});
      if (!$got) { close($j->{$k}); $j->{$k} = undef }
    }
    if ($j->{in} && vec($wout, fileno($j->{in}), 1)) {
      my $n = syswrite($j->{in}, $j->{inbuf});
      if (!defined $n) { close($j->{in}); $j->{in} = undef; next }
      substr($j->{inbuf}, 0, $n) = '';
      if (!length $j->{inbuf}) { close($j->{in}); $j->{in} = undef }
    }
  }
}
`;

type Pending = { resolve(r: SpawnResult): void; reject(e: Error): void };

/** One Perl helper process; requests are multiplexed over its stdin/stdout. */
export class Spawner {
  #child: ChildProcess | undefined;
  #pending = new Map<number, Pending>();
  #nextId = 1;
  #buffer: Buffer = Buffer.alloc(0);
  #broken: Error | undefined;
  #answered = false;

  /** Whether requests can go through the helper (false once it failed to start or died). */
  get usable(): boolean {
    return this.#broken === undefined;
  }

  /** Whether the helper has answered at least once (so a failure now may come after a command already ran). */
  get proven(): boolean {
    return this.#answered;
  }

  run(request: SpawnRequest): Promise<SpawnResult> {
    const input = typeof request.input === 'string' ? Buffer.from(request.input) : (request.input ?? Buffer.alloc(0));
    return this.#send((id) => ['r', id, request.timeoutMs, request.cwd ?? '', request.argv.length, ...request.argv], input);
  }

  /**
   * Starts a long-lived process in its own session (setsid), its stdio the
   * given files (opened by the helper: stdin read-only or read-write, output
   * appended), fd 3 a pipe; resolves once fd 3 closes with the pid and what
   * the process wrote there (the container shim reports "created <pid>").
   */
  async launch(request: LaunchRequest): Promise<{ pid: number; report: string }> {
    const env = Object.entries(request.env).map(([k, v]) => `${k}=${v}`);
    const { stdin } = request;
    const r = await this.#send((id) => [
      'l', id, request.timeoutMs, stdin?.path ?? '', stdin?.mode ?? 'r', request.stdout, request.stderr,
      env.length, ...env, request.argv.length, ...request.argv,
    ]);
    if (r.code <= 0) throw new Error(r.stderr.toString().trim() || 'the command helper could not start the process');
    return { pid: r.code, report: r.stdout.toString() };
  }

  #send(fields: (id: number) => (string | number)[], input: Buffer = Buffer.alloc(0)): Promise<SpawnResult> {
    if (this.#broken) return Promise.reject(this.#broken);
    const id = this.#nextId++;
    const list = fields(id).map(String);
    if (list.some((f) => f.includes('\0'))) return Promise.reject(new Error('arguments cannot contain NUL bytes'));
    const child = this.#start();
    const head = Buffer.from(list.map((f) => `${f}\0`).join(''));
    const length = Buffer.alloc(4);
    length.writeUInt32BE(head.length + input.length);
    return new Promise<SpawnResult>((resolve, reject) => {
      if (this.#pending.size === 0) this.#hold(true);
      this.#pending.set(id, { resolve, reject });
      child.stdin!.write(Buffer.concat([length, head, input]));
    });
  }

  /** Ends the helper (it also ends by itself when this process goes). */
  close(): void {
    this.#child?.stdin?.end();
  }

  #start(): ChildProcess {
    if (this.#child) return this.#child;
    const child = spawn('perl', ['-e', SPAWNER_SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.#child = child;
    child.stdout!.on('data', (chunk: Buffer) => this.#onData(chunk));
    child.stdin!.on('error', () => {}); // reported through 'exit'
    const fail = (why: string) => {
      this.#broken ??= new Error(`the command helper (perl) ${why}`);
      for (const p of this.#pending.values()) p.reject(this.#broken);
      this.#pending.clear();
    };
    child.on('error', (err) => fail(`cannot start: ${err.message}`));
    child.on('exit', (code, signal) => fail(`exited (${signal ?? code})`));
    this.#hold(false);
    return child;
  }

  /** Keeps this process alive only while commands are running (an idle helper must not hold it open). */
  #hold(on: boolean): void {
    const child = this.#child;
    if (!child) return;
    for (const s of [child, child.stdin, child.stdout] as { ref?(): void; unref?(): void }[]) {
      if (on) s?.ref?.();
      else s?.unref?.();
    }
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length ? Buffer.concat([this.#buffer, chunk]) : chunk;
    while (this.#buffer.length >= 4) {
      const length = this.#buffer.readUInt32BE(0);
      if (this.#buffer.length < 4 + length) return;
      const frame = this.#buffer.subarray(4, 4 + length);
      this.#buffer = this.#buffer.subarray(4 + length);
      this.#settle(frame);
    }
  }

  #settle(frame: Buffer): void {
    const fields: string[] = [];
    let at = 0;
    for (let i = 0; i < 3; i++) {
      const end = frame.indexOf(0, at);
      fields.push(frame.toString('latin1', at, end));
      at = end + 1;
    }
    const [id, code, outLength] = fields.map(Number);
    this.#answered = true;
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#hold(false);
    pending.resolve({
      code,
      stdout: Buffer.from(frame.subarray(at, at + outLength)),
      stderr: Buffer.from(frame.subarray(at + outLength)),
    });
  }
}
