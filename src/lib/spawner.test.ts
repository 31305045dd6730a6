import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Spawner } from './spawner.ts';

describe('Spawner (commands through one Perl helper)', () => {
  const spawner = new Spawner();
  after(() => spawner.close());
  const run = (argv: string[], extra: { input?: string; cwd?: string; timeoutMs?: number } = {}) =>
    spawner.run({ argv, timeoutMs: 10_000, ...extra });

  test('stdout, stderr and the exit code come back apart', async () => {
    const r = await run(['sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.deepEqual([r.code, r.stdout.toString(), r.stderr.toString()], [3, 'out\n', 'err\n']);
  });

  test('stdin is passed in; no input means an empty stdin', async () => {
    assert.equal((await run(['tr', 'a-z', 'A-Z'], { input: 'hello\n' })).stdout.toString(), 'HELLO\n');
    assert.equal((await run(['cat'])).stdout.toString(), '');
  });

  test('large input and output are passed whole, bytes intact (NULs included)', async () => {
    const big = `${'x'.repeat(1023)}\n`.repeat(2048) + '\0end';
    const r = await run(['cat'], { input: big });
    assert.equal(r.code, 0);
    assert.equal(r.stdout.length, Buffer.byteLength(big));
    assert.equal(r.stdout.toString(), big);
  });

  test('many commands at once each get their own answer', async () => {
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => run(['sh', '-c', `sleep 0.0${i % 5}; echo ${i}`])));
    assert.deepEqual(results.map((r) => r.stdout.toString().trim()), Array.from({ length: 40 }, (_, i) => String(i)));
  });

  test('cwd, a missing program (127 with a message), a signal (128+n)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spawner-'));
    try {
      assert.equal((await run(['pwd'], { cwd: dir })).stdout.toString().trim(), dir);
    } finally {
      rmSync(dir, { recursive: true });
    }
    const missing = await run(['/nonexistent/tool', 'x']);
    assert.equal(missing.code, 127);
    assert.match(missing.stderr.toString(), /cannot run \/nonexistent\/tool: No such file or directory/);
    assert.equal((await run(['sh', '-c', 'kill -TERM $$'])).code, 128 + 15);
  });

  test('a command past its timeout is killed', async () => {
    const started = Date.now();
    const r = await run(['sleep', '30'], { timeoutMs: 500 });
    assert.equal(r.code, 128 + 9);
    assert.ok(Date.now() - started < 5_000);
  });

  test('launch: own session, files for stdio, fd 3 answered when closed; runs on and is reaped later', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spawner-'));
    try {
      const fifo = join(dir, 'in');
      spawnSync('mkfifo', [fifo]);
      const out = join(dir, 'out');
      writeFileSync(out, 'before\n');
      const script = 'echo "created $$" >&3; exec 3>&-; read line; echo "got $line $GREETING"; echo oops >&2';
      const started = spawner.launch({
        argv: ['sh', '-c', script],
        env: { PATH: process.env.PATH, GREETING: 'hi' },
        stdin: { path: fifo, mode: 'rw' },
        stdout: out,
        stderr: join(dir, 'err'),
        timeoutMs: 10_000,
      });
      const { pid, report } = await started;
      assert.equal(report, `created ${pid}\n`);
      const sid = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[3]);
      assert.equal(sid, pid, 'its own session');
      writeFileSync(fifo, 'x\n');
      for (let i = 0; i < 100 && readFileSync(out, 'utf8') !== 'before\ngot x hi\n'; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(readFileSync(out, 'utf8'), 'before\ngot x hi\n', 'appended');
      assert.equal(readFileSync(join(dir, 'err'), 'utf8'), 'oops\n');
      // Reaped by the helper: no zombie left behind.
      for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 20));
      assert.ok(!existsSync(`/proc/${pid}`));
      await assert.rejects(
        spawner.launch({ argv: ['/nonexistent/shim'], env: {}, stdout: out, stderr: out, timeoutMs: 10_000 }).then((r) => {
          throw new Error(r.report);
        }),
        /cannot run \/nonexistent\/shim/,
      );
    } finally {
      rmSync(dir, { recursive: true });
    }
  });

  test('a command that does not read its stdin does not stall the others', async () => {
    const stuck = run(['sleep', '1'], { input: 'y'.repeat(1 << 20) });
    assert.equal((await run(['echo', 'free'])).stdout.toString(), 'free\n');
    assert.equal((await stuck).code, 0);
  });
});
