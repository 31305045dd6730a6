import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hookFailure, killAt, logTail, readLastBytes } from './containers.ts';

test('readLastBytes keeps the end of an over-long file, all of a short one, nothing of a missing one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-msg-'));
  try {
    writeFileSync(join(dir, 'long'), `${'a'.repeat(5000)}END`);
    writeFileSync(join(dir, 'short'), 'bye');
    const long = await readLastBytes(join(dir, 'long'), 4096);
    assert.equal(long.length, 4096);
    assert.ok(long.endsWith('aEND'));
    assert.equal(await readLastBytes(join(dir, 'short'), 4096), 'bye');
    assert.equal(await readLastBytes(join(dir, 'missing'), 4096), '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('killAt: the grace deadline, but at least 2 s after the stop signal; at once for grace 0', () => {
  assert.equal(killAt({ deadline: 30_000, now: 1000, graceSeconds: 30 }), 30_000);
  // A preStop hook used up the grace period: SIGTERM still gets its window.
  assert.equal(killAt({ deadline: 30_000, now: 30_500, graceSeconds: 30 }), 32_500);
  assert.equal(killAt({ deadline: 1000, now: 0, graceSeconds: 1 }), 2000);
  assert.equal(killAt({ deadline: 0, now: 0, graceSeconds: 0 }), 0);
});

test('logTail takes the text of the last CRI lines', () => {
  const cri = [
    '2024-01-01T00:00:00Z stdout F line1',
    '2024-01-01T00:00:00Z stderr P par',
    '2024-01-01T00:00:00Z stderr F tial',
    '',
  ].join('\n');
  assert.equal(logTail(cri), 'line1\npartial\n');
});

test('hookFailure words a failed hook as kubelet does', () => {
  const pod = { metadata: { name: 'p', namespace: 'ns', uid: 'u1' } };
  assert.equal(
    hookFailure({ exec: { command: ['sh', '-c', 'exit 3'] } }, { name: 'c' }, pod, { message: 'boom' }),
    'Exec lifecycle hook ([sh -c exit 3]) for Container "c" in Pod "p_ns(u1)" failed - error: boom',
  );
  assert.equal(
    hookFailure({ httpGet: { path: '/hook' } }, { name: 'c' }, pod, { message: 'refused' }),
    'HTTP lifecycle hook (/hook) for Container "c" in Pod "p_ns(u1)" failed - error: refused',
  );
});
