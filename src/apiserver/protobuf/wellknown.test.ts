import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, formatMicroTime, formatTime } from './wellknown.ts';

test('formatDuration matches Go time.Duration.String', () => {
  const cases: [bigint, string][] = [
    [0n, '0s'],
    [1n, '1ns'],
    [1_500n, '1.5µs'],
    [100_000_000n, '100ms'],
    [1_500_000_000n, '1.5s'],
    [30_000_000_000n, '30s'],
    [90_000_000_000n, '1m30s'],
    [3_600_000_000_000n, '1h0m0s'],
    [3_661_000_000_001n, '1h1m1.000000001s'],
    [-2_000_000_000n, '-2s'],
  ];
  for (const [ns, want] of cases) assert.equal(formatDuration(ns), want, `${ns}ns`);
});

test('formatTime and formatMicroTime are RFC 3339 in UTC', () => {
  assert.equal(formatTime(0), '1970-01-01T00:00:00Z');
  assert.equal(formatTime(1_795_773_600), '2026-11-27T10:00:00Z');
  assert.equal(formatMicroTime(1_795_773_600, 0), '2026-11-27T10:00:00.000000Z');
  assert.equal(formatMicroTime(1_795_773_600, 999_999_999), '2026-11-27T10:00:00.999999Z');
  assert.throws(() => formatTime(1e300), RangeError);
});
