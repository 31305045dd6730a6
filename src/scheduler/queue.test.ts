import assert from 'node:assert/strict';
import { test } from 'node:test';
import { INITIAL_BACKOFF_MS, MAX_BACKOFF_MS, SchedulingQueue } from './queue.ts';

test('unschedulable pods wait for a cluster event, then their backoff', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
  const stop = new AbortController();
  const queue = new SchedulingQueue({ signal: stop.signal });
  queue.add('ns/a');
  queue.add('ns/a');
  assert.equal(queue.length, 1, 'deduplicated');
  assert.equal(await queue.pop(), 'ns/a');
  assert.equal(queue.failed('ns/a', { unschedulable: true, cycle: queue.cycle }), INITIAL_BACKOFF_MS);
  assert.equal(queue.unschedulableCount, 1);
  t.mock.timers.tick(5000);
  assert.equal(queue.length, 0, 'no cluster event: still asleep');
  queue.moveAllToActiveOrBackoff();
  assert.equal(queue.length, 1, 'backoff already served: active at once');
  assert.equal(await queue.pop(), 'ns/a');
  // Second failure: 2 s backoff; the event comes straight away, so it waits out the backoff.
  assert.equal(queue.failed('ns/a', { unschedulable: true, cycle: queue.cycle }), 2 * INITIAL_BACKOFF_MS);
  queue.moveAllToActiveOrBackoff();
  assert.equal(queue.length, 0);
  t.mock.timers.tick(2000);
  assert.equal(queue.length, 1);
  stop.abort();
  assert.equal(await queue.pop(), undefined);
});

test('a cluster event during the attempt sends the pod to backoff, not to sleep; backoff caps at 10 s', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'setInterval', 'Date'] });
  const stop = new AbortController();
  const queue = new SchedulingQueue({ signal: stop.signal });
  queue.add('ns/b');
  await queue.pop();
  const cycle = queue.cycle;
  queue.moveAllToActiveOrBackoff();
  queue.failed('ns/b', { unschedulable: true, cycle });
  assert.equal(queue.unschedulableCount, 0);
  t.mock.timers.tick(INITIAL_BACKOFF_MS);
  assert.equal(await queue.pop(), 'ns/b');
  let last = 0;
  for (let i = 0; i < 6; i++) last = queue.failed('ns/b', { unschedulable: false, cycle: queue.cycle });
  assert.equal(last, MAX_BACKOFF_MS);
  queue.done('ns/b');
  t.mock.timers.tick(MAX_BACKOFF_MS);
  assert.equal(queue.length, 0, 'done cancels the pending retry');
  stop.abort();
});
