import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backoffUntil, goDuration, nextBackoff } from './backoff.ts';
import { CRASH_BACKOFF } from './plan.ts';

describe('crash back-off', () => {
  test('first retry goes at once and starts at 10 s, then doubles to the 5 min cap', () => {
    let entry = nextBackoff(undefined, 0, CRASH_BACKOFF);
    assert.equal(entry.delayMs, 10_000);
    const delays = [entry.delayMs];
    for (let i = 0; i < 8; i++) {
      entry = nextBackoff(entry, (i + 1) * 1000, CRASH_BACKOFF);
      delays.push(entry.delayMs);
    }
    assert.deepEqual(delays, [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000, 300_000]);
  });

  test('a retry waits out the delay counted from when the container finished', () => {
    const entry = { delayMs: 20_000, lastUpdate: 1000 };
    assert.equal(backoffUntil(entry, 5000, 6000, CRASH_BACKOFF), 25_000);
    assert.equal(backoffUntil(entry, 5000, 25_000, CRASH_BACKOFF), undefined);
    assert.equal(backoffUntil(undefined, 5000, 6000, CRASH_BACKOFF), undefined);
  });

  test('a container that ran 10 minutes starts over at 10 s', () => {
    const entry = { delayMs: 160_000, lastUpdate: 0 };
    assert.equal(nextBackoff(entry, 1000, CRASH_BACKOFF, 9 * 60_000).delayMs, 300_000);
    assert.equal(nextBackoff(entry, 1000, CRASH_BACKOFF, 10 * 60_000).delayMs, 10_000);
  });

  test('entries quiet for twice the cap are forgotten', () => {
    const entry = { delayMs: 300_000, lastUpdate: 0 };
    assert.equal(backoffUntil(entry, 0, 600_001, CRASH_BACKOFF), undefined);
    assert.equal(nextBackoff(entry, 600_001, CRASH_BACKOFF).delayMs, 10_000);
  });

  test('durations read as Go prints them', () => {
    assert.equal(goDuration(10_000), '10s');
    assert.equal(goDuration(80_000), '1m20s');
    assert.equal(goDuration(300_000), '5m0s');
    assert.equal(goDuration(1234), '1.234s');
  });
});
