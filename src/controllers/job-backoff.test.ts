import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../api/types.ts';
import { finishedAtMs, nextBackoffRecord, remainingBackoffMs } from './job-backoff.ts';
import { firstPendingIndexes, formatIndexes, parseIndexes, podIndex } from './job-indexes.ts';

const NOW = Date.parse('2024-05-01T10:00:00Z');
const finishedPod = (at: string): KubeObject => ({
  metadata: { name: at },
  status: { containerStatuses: [{ state: { terminated: { finishedAt: at } } }] },
});

test('back-off doubles from 10 s after each failure since the last success, capped at 6 minutes', () => {
  const at = (n: number) => remainingBackoffMs({ failuresAfterLastSuccess: n, lastFailureMs: NOW }, NOW);
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7, 10].map(at), [0, 10_000, 20_000, 40_000, 80_000, 160_000, 320_000, 360_000, 360_000]);
  assert.equal(remainingBackoffMs({ failuresAfterLastSuccess: 2, lastFailureMs: NOW - 15_000 }, NOW), 5_000);
  assert.equal(remainingBackoffMs({ failuresAfterLastSuccess: 2, lastFailureMs: NOW - 25_000 }, NOW), 0);
  assert.equal(remainingBackoffMs({ failuresAfterLastSuccess: 1, lastFailureMs: NOW }, NOW, { baseMs: 100 }), 100);
});

test('back-off record: failures add up, a success keeps only the failures after it', () => {
  let r = nextBackoffRecord({ failuresAfterLastSuccess: 0 }, [], [finishedPod('2024-05-01T09:59:00Z')], NOW);
  assert.deepEqual(r, { failuresAfterLastSuccess: 1, lastFailureMs: Date.parse('2024-05-01T09:59:00Z') });
  r = nextBackoffRecord(r, [], [finishedPod('2024-05-01T09:59:30Z')], NOW);
  assert.equal(r.failuresAfterLastSuccess, 2);
  r = nextBackoffRecord(r, [finishedPod('2024-05-01T09:59:40Z')], [finishedPod('2024-05-01T09:59:35Z'), finishedPod('2024-05-01T09:59:50Z')], NOW);
  assert.deepEqual(r, { failuresAfterLastSuccess: 1, lastFailureMs: Date.parse('2024-05-01T09:59:50Z') });
  assert.deepEqual(nextBackoffRecord(r, [finishedPod('2024-05-01T09:59:55Z')], [], NOW), { failuresAfterLastSuccess: 0, lastFailureMs: undefined });
  // A pod without container times (a simulated node, or a status patch) finished when first seen.
  assert.equal(finishedAtMs({ metadata: {}, status: { phase: 'Failed' } }, NOW), NOW);
});

test('completion indexes: parse, format as intervals, pick the first free ones', () => {
  assert.deepEqual([...parseIndexes('0,2-4,9', 6)], [0, 2, 3, 4]);
  assert.equal(formatIndexes([5, 1, 2, 3, 7, 8, 10]), '1-3,5,7-8,10');
  assert.equal(formatIndexes([]), '');
  assert.deepEqual(firstPendingIndexes(6, new Set([0, 2]), 3), [1, 3, 4]);
  const pod = (v: string): KubeObject => ({ metadata: { annotations: { 'batch.kubernetes.io/job-completion-index': v } } });
  assert.equal(podIndex(pod('2'), 3), 2);
  assert.equal(podIndex(pod('3'), 3), undefined);
  assert.equal(podIndex(pod('x'), 3), undefined);
});
