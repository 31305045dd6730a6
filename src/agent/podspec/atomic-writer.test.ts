import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { type Payload, validatePayloadPath, writeAtomic } from './atomic-writer.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'podspec-atomic-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const payload = (entries: Record<string, string>, mode = 0o644): Payload =>
  new Map(Object.entries(entries).map(([k, v]) => [k, { data: Buffer.from(v), mode }]));

test('layout: timestamped dir, ..data link, per-key links through ..data', async () => {
  assert.equal(await writeAtomic(dir, payload({ a: 'A', 'sub/b': 'B' }), { now: new Date('2024-03-05T06:07:08Z') }), true);
  const entries = readdirSync(dir).sort();
  const ts = entries.find((e) => e.startsWith('..2024_03_05_06_07_08.'));
  assert.ok(ts, entries.join(','));
  assert.deepEqual(entries.filter((e) => e !== ts), ['..data', 'a', 'sub']);
  assert.equal(readlinkSync(join(dir, '..data')), ts);
  assert.equal(readlinkSync(join(dir, 'a')), '..data/a');
  assert.equal(readlinkSync(join(dir, 'sub')), '..data/sub');
  assert.equal(readFileSync(join(dir, 'sub', 'b'), 'utf8'), 'B');
  assert.equal(statSync(join(dir, 'a')).mode & 0o777, 0o644);
});

test('an unchanged payload writes nothing; a change swaps ..data and removes old names and dirs', async () => {
  await writeAtomic(dir, payload({ a: 'A', old: 'O' }));
  const first = readlinkSync(join(dir, '..data'));
  assert.equal(await writeAtomic(dir, payload({ a: 'A', old: 'O' })), false);
  assert.equal(readlinkSync(join(dir, '..data')), first);

  assert.equal(await writeAtomic(dir, payload({ a: 'A2', added: 'N' }, 0o400)), true);
  const second = readlinkSync(join(dir, '..data'));
  assert.notEqual(second, first);
  assert.deepEqual(readdirSync(dir).sort(), [second, '..data', 'a', 'added'].sort());
  assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'A2');
  assert.equal(statSync(join(dir, 'added')).mode & 0o777, 0o400);
  assert.ok(lstatSync(join(dir, 'a')).isSymbolicLink());

  // A mode change alone is a change too.
  assert.equal(await writeAtomic(dir, payload({ a: 'A2', added: 'N' }, 0o440)), true);
});

test('an empty payload leaves only ..data', async () => {
  await writeAtomic(dir, payload({ a: 'A' }));
  await writeAtomic(dir, new Map());
  assert.deepEqual(readdirSync(dir).filter((e) => !e.startsWith('..')), []);
});

test('paths that escape or collide are refused', async () => {
  for (const bad of ['', '/abs', '../x', 'a/../../x', '..data', '..hidden']) {
    assert.throws(() => validatePayloadPath(bad), /invalid path/, bad);
  }
  validatePayloadPath('a/b/c');
  validatePayloadPath('.dotfile');
  await assert.rejects(writeAtomic(dir, payload({ '../escape': 'x' })), /invalid path/);
});
