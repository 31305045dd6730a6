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
//   request:  id \0 timeoutMs \0 cwd \0 argc \0 arg1 \0 ... argN \0 stdin-bytes
//   response: id \0 code \0 stdoutLength \0 stdout-bytes stderr-bytes
// code is the exit status, 128+signal when killed, 127 with a message on
// stderr when the program could not be run.
import { type ChildProcess, spawn } from 'node:child_process';

export type SpawnResult = { code: number; stdout: Buffer; stderr: Buffer };
export type SpawnRequest = { argv: string[]; input?: string | Buffer; cwd?: string; timeoutMs: number };

const SPAWNER_SCRIPT = String.raw`
use strict;
use POSIX ();
$0 = 'skiff-spawner';
$SIG{PIPE} = 'IGNORE';
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

sub start {
  my $payload = shift;
  my ($id, $timeout, $cwd, $argc, $rest) = split /\0/, $payload, 5;
  my @argv = split /\0/, $rest, $argc + 1;
  my $input = pop @argv;
  my ($ir, $iw, $or, $ow, $er, $ew);
  pipe($or, $ow) && pipe($er, $ew) or return respond($id, 127, '', "skiff-spawner: pipe: $!\n");
  if (length $input) { pipe($ir, $iw) or return respond($id, 127, '', "skiff-spawner: pipe: $!\n") }
  my $pid = fork();
  return respond($id, 127, '', "skiff-spawner: fork: $!\n") unless defined $pid;
  if (!$pid) {
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
  while ((my $p = waitpid(-1, $WNOHANG)) > 0) { $reaped{$p} = $? }
  for my $j (values %jobs) {
    if (!$j->{out} && !$j->{err} && exists $reaped{$j->{pid}}) {
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
    vec($rin, fileno($j->{$_}), 1) = 1 for grep { $j->{$_} } qw(out err);
    vec($win, fileno($j->{in}), 1) = 1 if $j->{in};
    $waiting = 1 if !$j->{out} && !$j->{err};
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

  /** Whether requests can go through the helper (false once it failed to start or died). */
  get usable(): boolean {
    return this.#broken === undefined;
  }

  run(request: SpawnRequest): Promise<SpawnResult> {
    if (this.#broken) return Promise.reject(this.#broken);
    if (request.argv.some((a) => a.includes('\0')) || request.cwd?.includes('\0')) {
      return Promise.reject(new Error('arguments cannot contain NUL bytes'));
    }
    const child = this.#start();
    const id = this.#nextId++;
    const head = Buffer.from(`${id}\0${request.timeoutMs}\0${request.cwd ?? ''}\0${request.argv.length}\0${request.argv.map((a) => `${a}\0`).join('')}`);
    const input = typeof request.input === 'string' ? Buffer.from(request.input) : (request.input ?? Buffer.alloc(0));
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
