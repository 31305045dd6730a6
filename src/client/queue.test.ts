import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { runController } from './controller.ts';
import { BASE_RETRY_DELAY_MS, MAX_RETRY_DELAY_MS, WorkQueue } from './queue.ts';

describe('WorkQueue', () => {
  test('dedupes keys waiting to be processed, keeping first-added order', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    q.add('a');
    assert.equal(q.length, 2);
    assert.equal(await q.get(), 'a');
    assert.equal(await q.get(), 'b');
    q.shutDown();
  });

  test('a key re-added while processing is handed out again only after done', async () => {
    const q = new WorkQueue();
    q.add('a');
    const key = await q.get();
    q.add('a');
    assert.equal(q.length, 0, 'not queued while a worker holds it');
    q.done(key!);
    assert.equal(q.length, 1);
    assert.equal(await q.get(), 'a');
    q.shutDown();
  });

  test('workers never process one key concurrently', async () => {
    const ac = new AbortController();
    const q = new WorkQueue({ signal: ac.signal });
    const active = new Set<string>();
    let overlaps = 0;
    let runs = 0;
    const running = runController({
      name: 'test',
      queue: q,
      workers: 4,
      async reconcile(key) {
        if (active.has(key)) overlaps++;
        active.add(key);
        runs++;
        await new Promise((r) => setTimeout(r, 5));
        active.delete(key);
      },
    });
    for (let i = 0; i < 20; i++) {
      q.add('x');
      q.add(`y${i % 2}`);
      await new Promise((r) => setTimeout(r, 1));
    }
    await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    await running;
    assert.equal(overlaps, 0);
    assert.ok(runs >= 3 && runs < 60, `deduped runs: ${runs}`);
  });

  test('per-key exponential backoff from 5 ms, capped, reset by forget', () => {
    const q = new WorkQueue();
    assert.equal(BASE_RETRY_DELAY_MS, 5);
    assert.equal(MAX_RETRY_DELAY_MS, 1_000_000);
    const delays = Array.from({ length: 5 }, () => q.addRateLimited('k'));
    assert.deepEqual(delays, [5, 10, 20, 40, 80]);
    assert.equal(q.addRateLimited('other'), 5, 'backoff is per key');
    for (let i = 0; i < 30; i++) q.addRateLimited('k');
    assert.equal(q.addRateLimited('k'), MAX_RETRY_DELAY_MS);
    assert.equal(q.retries('k'), 36);
    q.forget('k');
    assert.equal(q.addRateLimited('k'), 5);
    q.shutDown();
  });

  test('a failing reconcile is retried with growing delay until it succeeds', async () => {
    const ac = new AbortController();
    const q = new WorkQueue({ signal: ac.signal });
    const times: number[] = [];
    let errors = 0;
    const running = runController({
      name: 'test',
      queue: q,
      workers: 1,
      async reconcile() {
        times.push(Date.now());
        if (times.length < 4) throw new Error('not yet');
      },
      onError: () => errors++,
    });
    q.add('k');
    const deadline = Date.now() + 2000;
    while (times.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    ac.abort();
    await running;
    assert.equal(times.length, 4);
    assert.equal(errors, 3);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    assert.ok(gaps[0] >= 4 && gaps[1] >= 9 && gaps[2] >= 19, `gaps ${gaps}`);
    assert.equal(q.retries('k'), 0, 'success forgets the key');
  });

  test('shutdown wakes waiting workers with undefined and drops pending work', async () => {
    const ac = new AbortController();
    const q = new WorkQueue({ signal: ac.signal });
    const waiting = q.get();
    q.addAfter('later', 10_000);
    ac.abort();
    assert.equal(await waiting, undefined);
    q.add('x');
    assert.equal(await q.get(), undefined);
  });

  test('requeueAfterMs brings a key back after the delay', async () => {
    const ac = new AbortController();
    const q = new WorkQueue({ signal: ac.signal });
    let runs = 0;
    const running = runController({
      name: 'test',
      queue: q,
      workers: 1,
      async reconcile() {
        runs++;
        return runs < 3 ? { requeueAfterMs: 10 } : undefined;
      },
    });
    q.add('k');
    await new Promise((r) => setTimeout(r, 100));
    ac.abort();
    await running;
    assert.equal(runs, 3);
  });
});

test('a key waiting to be re-added keeps the sooner of two delays', async () => {
  const signal = new AbortController();
  const queue = new WorkQueue({ signal: signal.signal });
  queue.addAfter('k', 5000);
  queue.addAfter('k', 20);
  const started = Date.now();
  assert.equal(await queue.get(), 'k');
  assert.ok(Date.now() - started < 1000, 'the 20 ms delay won');
  queue.done('k');
  signal.abort();
});
