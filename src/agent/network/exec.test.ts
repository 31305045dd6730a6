import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { batchFailures, CommandError, hasCommand, IpBatcher, run, runIgnoring } from './exec.ts';

describe('exec', () => {
  test('batchFailures attributes each message to its line', () => {
    const stderr = 'Cannot find device "nonexist"\nCommand failed -:1\nRTNETLINK answers: File exists\nCommand failed -:4\n';
    assert.deepEqual(
      [...batchFailures(stderr)],
      [
        [1, 'Cannot find device "nonexist"'],
        [4, 'RTNETLINK answers: File exists'],
      ],
    );
  });

  test('run: stdout on success, CommandError with stderr on failure; runIgnoring swallows benign failures', async () => {
    assert.equal(await run(['sh', '-c', 'cat'], { input: 'hi' }), 'hi');
    await assert.rejects(run(['sh', '-c', 'echo nope >&2; exit 3']), (err: Error) => err instanceof CommandError && err.exitCode === 3 && /nope/.test(err.message));
    assert.equal(await runIgnoring(['sh', '-c', 'echo "Cannot find device x" >&2; exit 1'], /Cannot find device/), '');
    await assert.rejects(run(['/nonexistent/tool']), CommandError);
  });

  // Read-only `ip link show`, safe in any namespace.
  test('IpBatcher: concurrent callers share runs; each sees only its own failures', { skip: !hasCommand('ip') && 'needs ip' }, async () => {
    const batcher = new IpBatcher();
    const results = await Promise.allSettled([
      batcher.run(['link show dev lo']),
      batcher.run(['link show dev lo', 'link show dev skiff-nope0']),
      batcher.run(['link show dev lo']),
      batcher.run(['link show dev skiff-nope1']),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled', 'rejected'],
    );
    const second = (results[1] as PromiseRejectedResult).reason as CommandError;
    assert.match(second.stderr, /skiff-nope0/);
    assert.doesNotMatch(second.stderr, /skiff-nope1/);
  });
});
