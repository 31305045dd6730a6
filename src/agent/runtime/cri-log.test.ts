import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { createLogger } from '../../lib/log.ts';
import {
  CriLogWriter,
  criTimestamp,
  followLog,
  formatCriLine,
  listLogFiles,
  MAX_LOG_LINE,
  parseCriLine,
} from './cri-log.ts';
import { LogPump } from './log-pump.ts';

const made: string[] = [];
const tmp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-crilog-'));
  made.push(dir);
  return dir;
};
after(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});
const quiet = createLogger('test');

function entries(path: string) {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => parseCriLine(l)!);
}

describe('CRI log format', () => {
  test('timestamps are RFC3339 with nanoseconds and strictly increasing', () => {
    const a = criTimestamp();
    const b = criTimestamp();
    assert.match(a, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    assert.ok(b > a);
    assert.ok(Math.abs(Date.parse(a) - Date.now()) < 1000);
  });

  test('format and parse round-trip, partial flag included', () => {
    const line = formatCriLine('2024-01-02T03:04:05.000000001Z', 'stderr', true, 'a b  c').toString();
    assert.equal(line, '2024-01-02T03:04:05.000000001Z stderr P a b  c\n');
    assert.deepEqual(parseCriLine(line.slice(0, -1)), {
      time: '2024-01-02T03:04:05.000000001Z',
      stream: 'stderr',
      partial: true,
      content: 'a b  c',
    });
    assert.deepEqual(parseCriLine('2024-01-02T03:04:05Z stdout F '), {
      time: '2024-01-02T03:04:05Z',
      stream: 'stdout',
      partial: false,
      content: '',
    });
    assert.equal(parseCriLine('garbage'), undefined);
  });
});

describe('CriLogWriter rotation', () => {
  test('rotates by size, keeps at most maxFiles, lists oldest → newest without losing the newest lines', async () => {
    const dir = tmp();
    const path = join(dir, '0.log');
    const w = new CriLogWriter(path, { maxSize: 400, maxFiles: 3 });
    for (let i = 1; i <= 60; i++) w.write('stdout', false, `line ${i}`);
    w.close();
    const files = await listLogFiles(path);
    assert.equal(files.length, 3);
    assert.equal(files.at(-1), path);
    assert.equal(readdirSync(dir).length, 3);
    const numbers = files.flatMap((f) => entries(f).map((e) => Number(e.content.split(' ')[1])));
    assert.equal(numbers.at(-1), 60);
    assert.deepEqual(
      numbers,
      numbers.map((_, i) => numbers[0] + i),
      'consecutive across files',
    );
    for (const f of files) assert.ok(readFileSync(f).length <= 400);
  });

  test('followLog follows across rotation and ends when told the container is done', async () => {
    const dir = tmp();
    const path = join(dir, '0.log');
    const w = new CriLogWriter(path, { maxSize: 300, maxFiles: 100 });
    let done = false;
    const seen: number[] = [];
    const follower = (async () => {
      for await (const line of followLog(path, { includeRotated: true, done: () => done }))
        seen.push(Number(parseCriLine(line)!.content));
    })();
    for (let i = 1; i <= 200; i++) {
      w.write('stdout', false, String(i));
      if (i % 25 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    w.close();
    done = true;
    await follower;
    assert.ok((await listLogFiles(path)).length > 5, 'it did rotate');
    assert.deepEqual(
      seen,
      Array.from({ length: 200 }, (_, i) => i + 1),
    );
  });

  test('followLog fromEnd yields only new lines; an abort ends it', async () => {
    const dir = tmp();
    const path = join(dir, '0.log');
    const w = new CriLogWriter(path);
    w.write('stdout', false, 'old');
    const ac = new AbortController();
    const it = followLog(path, { fromEnd: true, signal: ac.signal });
    const first = it.next();
    await new Promise((r) => setTimeout(r, 20));
    w.write('stdout', false, 'new');
    assert.equal(parseCriLine((await first).value as string)!.content, 'new');
    const next = it.next();
    ac.abort();
    assert.equal((await next).done, true);
    w.close();
  });
});

describe('LogPump', () => {
  function setup() {
    const dir = tmp();
    writeFileSync(join(dir, 'stdout'), '');
    writeFileSync(join(dir, 'stderr'), '');
    return { dir, logPath: join(dir, 'logs', '0.log') };
  }

  test('raw output becomes CRI entries; long lines split into P entries; the last unterminated line is F', () => {
    const { dir, logPath } = setup();
    const pump = new LogPump({ dir, logPath, streams: ['stdout', 'stderr'], log: quiet });
    appendFileSync(join(dir, 'stdout'), 'one\ntwo\n');
    appendFileSync(join(dir, 'stderr'), 'err\n');
    appendFileSync(join(dir, 'stdout'), `${'x'.repeat(MAX_LOG_LINE + 10)}\nend`);
    pump.finish();
    const got = entries(logPath).map((e) => [
      e.stream,
      e.partial ? 'P' : 'F',
      e.content.length > 20 ? e.content.length : e.content,
    ]);
    assert.deepEqual(got, [
      ['stdout', 'F', 'one'],
      ['stdout', 'F', 'two'],
      ['stdout', 'P', MAX_LOG_LINE],
      ['stdout', 'F', 'xxxxxxxxxx'],
      ['stderr', 'F', 'err'],
      ['stdout', 'F', 'end'],
    ]);
  });

  test('a new pump resumes where the closed one stopped: nothing repeated, a held partial line goes out as P', () => {
    const { dir, logPath } = setup();
    const first = new LogPump({ dir, logPath, streams: ['stdout', 'stderr'], log: quiet });
    appendFileSync(join(dir, 'stdout'), 'a\nhalf');
    first.pump();
    first.close(); // agent stops
    appendFileSync(join(dir, 'stdout'), ' done\nb\n'); // written while no agent runs
    const second = new LogPump({ dir, logPath, streams: ['stdout', 'stderr'], log: quiet });
    second.finish();
    assert.deepEqual(
      entries(logPath).map((e) => `${e.partial ? 'P' : 'F'}:${e.content}`),
      ['F:a', 'P:half', 'F: done', 'F:b'],
    );
  });

  test('consumed raw bytes are given back to the filesystem (hole punched), offsets keep growing', async () => {
    const { dir, logPath } = setup();
    const raw = join(dir, 'stdout');
    appendFileSync(raw, `${'y'.repeat(1023)}\n`.repeat(2048)); // 2 MiB
    const pump = new LogPump({ dir, logPath, streams: ['stdout'], log: quiet });
    const deadline = Date.now() + 3000;
    while (statSync(raw).blocks * 512 > 64 * 1024 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.ok(statSync(raw).blocks * 512 <= 64 * 1024, `allocated ${statSync(raw).blocks * 512} bytes`);
    assert.equal(statSync(raw).size, 2 * 1024 * 1024);
    appendFileSync(raw, 'after\n');
    pump.finish();
    const all = entries(logPath);
    assert.equal(all.length, 2049);
    assert.equal(all.at(-1)!.content, 'after');
  });

  test('finishes by itself when the exit file appears', async () => {
    const { dir, logPath } = setup();
    const pump = new LogPump({ dir, logPath, streams: ['stdout'], exitFile: 'exit', log: quiet });
    appendFileSync(join(dir, 'stdout'), 'last words');
    writeFileSync(join(dir, 'exit'), '0\n');
    const deadline = Date.now() + 3000;
    while (!readFileSync(logPath, 'utf8').includes('last words') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(entries(logPath)[0].content, 'last words');
    pump.close(); // no-op once finished
  });
});
