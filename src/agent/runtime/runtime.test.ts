// The runc runtime against real runc, cgroups and namespaces (root only).
// Containers run a static busybox root filesystem made in a temp dir.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { cgroupParentFor } from './cgroups.ts';
import { parseCriLine } from './cri-log.ts';
import { resetRuntime } from './reset.ts';
import { isRuntimeError } from './runc.ts';
import { createRuncRuntime, type RuncRuntime } from './runtime.ts';
import { canRunContainers, makeBusyboxRootfs, testSpec } from './testing.ts';

const skip = canRunContainers();
const POLL_MS = 10;

async function until<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  ms = 5000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

function logLines(path: string) {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => parseCriLine(l)!);
}

function collect(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  const chunks: Buffer[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c));
  return { stream, text: () => Buffer.concat(chunks).toString() };
}

describe('runc runtime', { skip }, () => {
  let dataDir: string;
  let rootfs: string;
  let rt: RuncRuntime;
  const spec = (id: string, args: string[], extra = {}) => testSpec(dataDir, rootfs, id, args, extra);
  const run = async (id: string, args: string[], extra = {}) => {
    const s = spec(id, args, extra);
    await rt.create(s);
    await rt.start(id);
    return s;
  };
  const stopped = (id: string) =>
    until(`${id} to stop`, async () => ((await rt.state(id))?.status === 'stopped' ? rt.state(id) : undefined));

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'skiff-runtime-'));
    rootfs = makeBusyboxRootfs(join(dataDir, 'rootfs'));
    rt = await createRuncRuntime({ dataDir });
  });

  after(async () => {
    rt?.close();
    if (dataDir) {
      await resetRuntime(dataDir);
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('stdout and stderr land in the CRI log; exit code, times and labels are kept', async () => {
    const s = await run('exit3', ['sh', '-c', 'echo "hello $(hostname)"; echo oops >&2; printf "no newline"; exit 3']);
    const st = (await stopped('exit3'))!;
    assert.equal(st.exitCode, 3);
    assert.equal(st.oomKilled, false);
    assert.deepEqual(st.labels, { 'io.kubernetes.container.name': 'exit3' });
    assert.ok(st.startedAt && st.finishedAt && st.startedAt <= st.finishedAt);
    const lines = logLines(s.logPath);
    const of = (stream: string) => lines.filter((l) => l.stream === stream).map((l) => [l.partial, l.content]);
    assert.deepEqual(of('stdout'), [
      [false, 'hello exit3'],
      [false, 'no newline'],
    ]);
    assert.deepEqual(of('stderr'), [[false, 'oops']]);
    assert.match(lines[0].time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    await rt.remove('exit3');
    assert.equal(await rt.state('exit3'), undefined);
  });

  test('a container that exits at once is never reported with an unknown exit code (state polled as it exits)', async () => {
    // The shim writes the exit file, then exits: a state() between the two must not call the exit unknown (255).
    const ids = Array.from({ length: 10 }, (_, i) => `quick${i}`);
    await Promise.all(ids.map((id) => run(id, ['true'])));
    const seen = await Promise.all(
      ids.map(async (id) => {
        for (;;) {
          const st = await rt.state(id);
          if (st?.status === 'stopped') return st.exitCode;
        }
      }),
    );
    assert.deepEqual(
      seen,
      ids.map(() => 0),
    );
    await Promise.all(ids.map((id) => rt.remove(id)));
  });

  test('a running container outlives the agent: a new runtime re-adopts it and its logs keep flowing', async () => {
    const s = await run('counter', ['sh', '-c', 'i=0; while true; do i=$((i+1)); echo "line $i"; sleep 0.02; done']);
    await until('first lines', () => logLines(s.logPath).length >= 3);
    const pid = (await rt.state('counter'))!.pid;
    rt.close(); // the agent goes away
    await new Promise((r) => setTimeout(r, 200)); // output meanwhile piles up in the raw file
    rt = await createRuncRuntime({ dataDir });
    const st = (await rt.state('counter'))!;
    assert.equal(st.status, 'running');
    assert.equal(st.pid, pid);
    assert.deepEqual(
      (await rt.list()).map((c) => c.id).filter((id) => id === 'counter'),
      ['counter'],
    );
    const before = logLines(s.logPath).length;
    await until('new lines', () => logLines(s.logPath).length > before + 5);
    await rt.kill('counter', 'KILL');
    const done = (await stopped('counter'))!;
    assert.equal(done.exitCode, 137);
    const numbers = logLines(s.logPath).map((l) => Number(l.content.replace('line ', '')));
    assert.deepEqual(
      numbers,
      numbers.map((_, i) => i + 1),
      'no line lost or repeated across the restart',
    );
    await rt.remove('counter');
  });

  test('a container over its memory limit is OOM-killed and reported so', async () => {
    await run('oom', ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1'], {
      resources: { memoryLimit: 16 * 1024 * 1024 },
    });
    const st = (await stopped('oom'))!;
    assert.equal(st.exitCode, 137);
    assert.equal(st.oomKilled, true);
    await rt.remove('oom');
  });

  test('cgroup limits are visible inside the container', async () => {
    const v2 = rt.cgroups.version === 2;
    const files = v2
      ? '/sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max'
      : '/sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max';
    const s = await run('limits', ['sh', '-c', `cat ${files}`], {
      resources: { memoryLimit: 32 * 1024 * 1024, pidsLimit: 50 },
    });
    assert.equal((await stopped('limits'))!.exitCode, 0);
    assert.deepEqual(
      logLines(s.logPath).map((l) => l.content),
      ['33554432', '50'],
    );
    await rt.remove('limits');
  });

  test('exec without a tty: output, stdin and exit code; stats report usage', async () => {
    await run('execbox', ['sh', '-c', 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; sleep 60']);
    await until('running', async () => (await rt.state('execbox'))?.status === 'running');
    const out = collect();
    const err = collect();
    const r = await rt.exec('execbox', ['sh', '-c', 'echo out; echo err >&2; exit 7'], {
      stdout: out.stream,
      stderr: err.stream,
    });
    assert.deepEqual([r.exitCode, out.text(), err.text()], [7, 'out\n', 'err\n']);
    const cat = collect();
    const r2 = await rt.exec('execbox', ['cat'], {
      stdin: Readable.from([Buffer.from('from stdin')]),
      stdout: cat.stream,
    });
    assert.deepEqual([r2.exitCode, cat.text()], [0, 'from stdin']);
    const stats = (await rt.stats('execbox'))!;
    assert.ok(stats.cpuUsageNanos > 0, `cpu ${stats.cpuUsageNanos}`);
    assert.ok(stats.memoryWorkingSetBytes > 0, `memory ${stats.memoryWorkingSetBytes}`);
  });

  test('exec with a tty runs on a pty and follows resizes', async () => {
    async function* sizes() {
      yield { width: 100, height: 30 };
    }
    await run('ttyexec', ['sleep', '60']);
    await until('running', async () => (await rt.state('ttyexec'))?.status === 'running');
    const out = collect();
    const r = await rt.exec(
      'ttyexec',
      [
        'sh',
        '-c',
        'tty; for i in $(seq 50); do s=$(stty size); [ "$s" = "30 100" ] && break; sleep 0.1; done; echo "size $s"; exit 4',
      ],
      {
        tty: true,
        stdout: out.stream,
        resize: sizes(),
      },
    );
    assert.equal(r.exitCode, 4, out.text());
    assert.match(out.text(), /\/dev\/pts\/\d+\r?\n/);
    assert.match(out.text(), /size 30 100/, out.text());
  });

  test('remove refuses a running container unless forced, then leaves nothing', async () => {
    const s = spec('victim', ['sleep', '60']);
    await rt.create(s);
    const created = (await rt.state('victim'))!;
    assert.equal(created.status, 'created');
    assert.equal(created.pid, undefined, 'runc runs at start (as containerd CRI), so nothing runs yet');
    assert.ok(!(await rt.runc.list()).some((c) => c.id === 'victim'));
    await rt.start('victim');
    assert.equal((await rt.state('victim'))!.status, 'running');
    await assert.rejects(rt.start('victim'), (e) => isRuntimeError(e, 'StartFailed'));
    await assert.rejects(rt.remove('victim'), (e) => isRuntimeError(e, 'NotStopped'));
    await rt.remove('victim', { force: true });
    assert.equal(await rt.state('victim'), undefined);
    assert.ok(!existsSync(join(dataDir, 'agent', 'containers', 'victim')));
    assert.ok(!(await rt.runc.list()).some((c) => c.id === 'victim'));
    const memory = rt.cgroups.version === 2 ? '/sys/fs/cgroup' : rt.cgroups.controllers.get('memory')!;
    assert.ok(!existsSync(join(memory, s.cgroupPath)), 'cgroup removed');
  });

  test('two containers in one network namespace talk over localhost; a shared pid namespace shows both', async (t) => {
    const netns = join(dataDir, 'netns-pod');
    writeFileSync(netns, '');
    const made = spawnSync('unshare', [`--net=${netns}`, 'true']);
    if (made.status !== 0) return t.skip(`cannot make a network namespace here: ${made.stderr}`);
    try {
      execFileSync('nsenter', [`--net=${netns}`, 'ip', 'link', 'set', 'lo', 'up']);
      await run('web', ['httpd', '-f', '-p', '127.0.0.1:8080', '-h', '/www'], { netnsPath: netns });
      const webPid = (await rt.state('web'))!.pid!;
      const client = await run(
        'client',
        [
          'sh',
          '-c',
          'for i in $(seq 50); do wget -q -O - http://127.0.0.1:8080/index.html && break; sleep 0.05; done; ps -o comm',
        ],
        { netnsPath: netns, sharePid: webPid },
      );
      assert.equal((await stopped('client'))!.exitCode, 0);
      const text = logLines(client.logPath).map((l) => l.content);
      assert.ok(text.includes('hello from www'), text.join('\n'));
      assert.ok(text.includes('httpd'), 'the shared pid namespace shows the other container');
      await rt.remove('client');
      await rt.remove('web', { force: true });
    } finally {
      spawnSync('umount', [netns]);
    }
  });

  test('without the command helper (SKIFF_DIRECT_SPAWN=1) the agent starts the shim itself, stdin and logs alike', async () => {
    process.env.SKIFF_DIRECT_SPAWN = '1';
    try {
      const s = await run('direct', ['sh', '-c', 'read l; echo "got $l"'], { stdin: true, stdinOnce: true });
      const fd = openSync((await rt.stdinPath('direct'))!, constants.O_WRONLY | constants.O_NONBLOCK);
      writeSync(fd, 'x\n');
      closeSync(fd);
      assert.equal((await stopped('direct'))!.exitCode, 0);
      assert.deepEqual(logLines(s.logPath).map((l) => l.content), ['got x']);
      await rt.remove('direct');
    } finally {
      delete process.env.SKIFF_DIRECT_SPAWN;
    }
  });

  test('a tty container logs its terminal output', async () => {
    const s = await run('ttybox', ['sh', '-c', 'tty; echo done'], { tty: true });
    assert.equal((await stopped('ttybox'))!.exitCode, 0);
    const text = logLines(s.logPath).map((l) => l.content.replace(/\r$/, ''));
    assert.ok(
      text.some((l) => /^\/dev\/pts\/\d+$/.test(l)),
      text.join('|'),
    );
    assert.ok(text.includes('done'));
    await rt.remove('ttybox');
  });

  test('stdin: kept open across writers; stdinOnce: closed once the first attach ends', async () => {
    const write = async (id: string, text: string) => {
      const fd = openSync((await rt.stdinPath(id))!, constants.O_WRONLY | constants.O_NONBLOCK);
      writeSync(fd, text);
      closeSync(fd);
    };
    const open = await run('stdin-open', ['sh', '-c', 'cat; echo eof'], { stdin: true });
    const once = await run('stdin-once', ['sh', '-c', 'cat; echo eof'], { stdin: true, stdinOnce: true });
    for (const id of ['stdin-open', 'stdin-once']) await write(id, `to ${id}\n`);
    await until('both echoed', () => logLines(once.logPath).length >= 1 && logLines(open.logPath).length >= 1);
    rt.attachEnded('stdin-open');
    rt.attachEnded('stdin-once');
    assert.equal((await stopped('stdin-once'))!.exitCode, 0);
    assert.deepEqual(logLines(once.logPath).map((l) => l.content), ['to stdin-once', 'eof']);
    // Without stdinOnce the container holds its own write end: no end of input, however writers come and go.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await rt.state('stdin-open'))!.status, 'running');
    assert.deepEqual(logLines(open.logPath).map((l) => l.content), ['to stdin-open']);
    await rt.remove('stdin-open', { force: true });
    await rt.remove('stdin-once');
  });

  test('a container that cannot run fails at start and says why; remove leaves nothing behind', async () => {
    await rt.create(spec('bad', ['/no/such/binary']));
    await assert.rejects(rt.start('bad'), (e) => isRuntimeError(e, 'StartFailed') && /no such file/i.test(e.message));
    await rt.remove('bad', { force: true });
    assert.equal(await rt.state('bad'), undefined);
    assert.ok(!existsSync(join(dataDir, 'agent', 'containers', 'bad')));
    assert.ok(!(await rt.runc.list()).some((c) => c.id === 'bad'));
  });

  test('resetRuntime kills and removes every container and the cgroup tree', async () => {
    await run('left1', ['sleep', '60']);
    await rt.create(spec('left2', ['sleep', '60']));
    rt.close();
    // left2 was only created: no shim yet (runc runs at start), but its files must go too.
    const shimPids = ['left1'].map((id) =>
      Number(readFileSync(join(dataDir, 'agent', 'containers', id, 'shim', 'shim.pid'), 'utf8')),
    );
    await resetRuntime(dataDir);
    assert.deepEqual(readdirSync(join(dataDir, 'agent', 'containers')), []);
    assert.ok(!existsSync(join(dataDir, 'agent', 'runc')));
    const parent = cgroupParentFor(dataDir);
    for (const mp of rt.cgroups.version === 2 ? ['/sys/fs/cgroup'] : [...new Set(rt.cgroups.controllers.values())]) {
      assert.ok(!existsSync(join(mp, parent)), `${mp}/${parent} removed`);
    }
    assert.deepEqual(
      shimPids.filter((pid) => existsSync(`/proc/${pid}`)),
      [],
      'shims gone',
    );
    rt = await createRuncRuntime({ dataDir });
  });
});
