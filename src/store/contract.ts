// The contract every Store backend passes (sqlite now, etcd later): register
// it from the backend's test file with storeContract('sqlite', open).
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import {
  CompactedError,
  FutureRevisionError,
  KeyExistsError,
  KeyNotFoundError,
  RevisionMismatchError,
  type Store,
  type WatchEvent,
  WatcherOverflowError,
} from './types.ts';

export type ContractOpenOptions = {
  /** Per-watcher queue bound; the overflow test asks for a small one. */
  watchQueueLimit?: number;
};

export type OpenStore = (options?: ContractOpenOptions) => Promise<{ store: Store; cleanup: () => Promise<void> }>;

/** How long a test waits for watch events before giving up. */
const WATCH_TIMEOUT_MS = 5000;

/** Consume a watch until n events arrived (or the timeout), then stop it. */
export async function takeEvents(store: Store, prefix: string, afterRevision: number, n: number) {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), WATCH_TIMEOUT_MS);
  const out: WatchEvent[] = [];
  try {
    for await (const batch of store.watch(prefix, { afterRevision, signal: ac.signal })) {
      out.push(...batch);
      if (out.length >= n) break;
    }
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
  return out;
}

const revs = (events: WatchEvent[]) => events.map((e) => e.kv.modRevision);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

export function storeContract(name: string, open: OpenStore): void {
  describe(`store contract: ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await open());
    });
    afterEach(async () => {
      await cleanup();
    });

    test('get, create, update, delete', async () => {
      assert.equal(await store.get('/k/a'), undefined);
      const c = await store.create('/k/a', 'one');
      assert.deepEqual(c, { key: '/k/a', value: 'one', createRevision: c.modRevision, modRevision: c.modRevision });
      assert.deepEqual(await store.get('/k/a'), c);
      const u = await store.update('/k/a', 'two', c.modRevision);
      assert.deepEqual(u, { key: '/k/a', value: 'two', createRevision: c.modRevision, modRevision: c.modRevision + 1 });
      assert.deepEqual(await store.get('/k/a'), u);
      const d = await store.delete('/k/a', u.modRevision);
      assert.deepEqual(
        d,
        { ...u, modRevision: u.modRevision + 1 },
        'delete returns the last value at its own revision',
      );
      assert.equal(await store.get('/k/a'), undefined);
      assert.equal(await store.currentRevision(), d.modRevision);
    });

    test('create fails while live, works again after delete with a new createRevision', async () => {
      const c = await store.create('/k/a', 'one');
      await assert.rejects(store.create('/k/a', 'again'), (e) => e instanceof KeyExistsError && e.key === '/k/a');
      await store.delete('/k/a');
      const again = await store.create('/k/a', 'two');
      assert.ok(again.createRevision > c.createRevision);
      assert.equal(again.createRevision, again.modRevision);
      assert.equal((await store.get('/k/a'))?.value, 'two');
    });

    test('update and delete are guarded by modRevision', async () => {
      await assert.rejects(store.update('/k/none', 'x', 1), KeyNotFoundError);
      await assert.rejects(store.delete('/k/none'), KeyNotFoundError);
      const c = await store.create('/k/a', 'one');
      const u = await store.update('/k/a', 'two', c.modRevision);
      await assert.rejects(store.update('/k/a', 'stale', c.modRevision), (e) => {
        assert.ok(e instanceof RevisionMismatchError);
        assert.deepEqual(e.current, u);
        return true;
      });
      await assert.rejects(store.delete('/k/a', c.modRevision), (e) => {
        assert.ok(e instanceof RevisionMismatchError);
        assert.deepEqual(e.current, u);
        return true;
      });
      assert.deepEqual(await store.get('/k/a'), u, 'failed writes change nothing');
      const d = await store.delete('/k/a', 0);
      assert.equal(d.value, 'two', '0 deletes unconditionally');
    });

    test('every successful write takes exactly the next global revision', async () => {
      const start = await store.currentRevision();
      const a = await store.create('/r/a', '1');
      const b = await store.create('/r/b', '1');
      await assert.rejects(store.create('/r/a', 'dup'));
      const a2 = await store.update('/r/a', '2', a.modRevision);
      await assert.rejects(store.update('/r/b', 'x', 999_999));
      const b2 = await store.delete('/r/b');
      assert.deepEqual(
        [a, b, a2, b2].map((kv) => kv.modRevision),
        range(start + 1, start + 4),
      );
      assert.equal(await store.currentRevision(), start + 4);
    });

    test('list by prefix in key order, with limit, startAfter and remaining', async () => {
      for (const k of ['/a/3', '/a/1', '/ab/x', '/a/2', '/a/5', '/a/4', '/b/1', '/a']) await store.create(k, k);
      const all = await store.list('/a/');
      assert.deepEqual(
        all.items.map((i) => i.key),
        ['/a/1', '/a/2', '/a/3', '/a/4', '/a/5'],
      );
      assert.equal(all.revision, await store.currentRevision());
      assert.equal(all.remaining, 0);
      assert.equal(all.items[0].value, '/a/1');
      const p1 = await store.list('/a/', { limit: 2 });
      assert.deepEqual(
        p1.items.map((i) => i.key),
        ['/a/1', '/a/2'],
      );
      assert.equal(p1.remaining, 3);
      const p2 = await store.list('/a/', { limit: 2, startAfter: '/a/2', revision: p1.revision });
      assert.deepEqual(
        p2.items.map((i) => i.key),
        ['/a/3', '/a/4'],
      );
      assert.equal(p2.remaining, 1);
      const p3 = await store.list('/a/', { limit: 2, startAfter: '/a/4', revision: p1.revision });
      assert.deepEqual(
        p3.items.map((i) => i.key),
        ['/a/5'],
      );
      assert.equal(p3.remaining, 0);
      assert.equal((await store.list('/ab/')).items.length, 1);
      assert.equal((await store.list('/nothing/')).items.length, 0);
      assert.equal((await store.list('')).items.length, 8);
    });

    test('list at an older revision sees history', async () => {
      const z = await store.create('/h/z', 'gone before');
      const a = await store.create('/h/a', 'a1');
      const b = await store.create('/h/b', 'b1');
      await store.delete('/h/z', z.modRevision);
      const at = await store.currentRevision();
      await store.update('/h/a', 'a2', a.modRevision);
      await store.delete('/h/b', b.modRevision);
      await store.create('/h/c', 'c1');
      const old = await store.list('/h/', { revision: at });
      assert.equal(old.revision, at);
      assert.deepEqual(old.items, [a, b]);
      const page = await store.list('/h/', { revision: at, limit: 1 });
      assert.deepEqual(page.items, [a]);
      assert.equal(page.remaining, 1);
      const now = await store.list('/h/');
      assert.deepEqual(
        now.items.map((i) => [i.key, i.value]),
        [
          ['/h/a', 'a2'],
          ['/h/c', 'c1'],
        ],
      );
      const future = (await store.currentRevision()) + 10;
      await assert.rejects(store.list('/h/', { revision: future }), FutureRevisionError);
    });

    test('watch replays history then continues live, with prev, no gaps or duplicates', async () => {
      const a = await store.create('/w/a', 'a1');
      const start = await store.currentRevision();
      const a2 = await store.update('/w/a', 'a2', a.modRevision);
      await store.create('/w/b', 'b1');
      const watching = takeEvents(store, '/w/', a.modRevision - 1, 6);
      await store.delete('/w/a', a2.modRevision);
      const b2 = await store.update('/w/b', 'b2', a2.modRevision + 1);
      await store.create('/w/a', 'a3');
      const events = await watching;
      assert.deepEqual(revs(events), range(a.modRevision, start + 5));
      assert.deepEqual(
        events.map((e) => [e.type, e.kv.key, e.kv.value]),
        [
          ['create', '/w/a', 'a1'],
          ['update', '/w/a', 'a2'],
          ['create', '/w/b', 'b1'],
          ['delete', '/w/a', 'a2'],
          ['update', '/w/b', 'b2'],
          ['create', '/w/a', 'a3'],
        ],
      );
      assert.equal(events[0].prev, undefined);
      assert.deepEqual(events[1].prev, a);
      assert.deepEqual(events[3].prev, a2);
      assert.deepEqual(events[3].kv, { ...a2, modRevision: a2.modRevision + 2 });
      assert.equal(events[4].prev?.value, 'b1');
      assert.deepEqual(events[4].kv, b2);
      assert.equal(events[5].prev, undefined);
    });

    test('watch from a future revision starts after it', async () => {
      const from = await store.currentRevision();
      const watching = takeEvents(store, '/fu/', from + 2, 1);
      for (const k of ['/fu/1', '/fu/2', '/fu/3']) await store.create(k, 'x');
      assert.deepEqual(
        (await watching).map((e) => [e.kv.key, e.kv.modRevision]),
        [['/fu/3', from + 3]],
      );
    });

    test('watch filters by string prefix', async () => {
      const from = await store.currentRevision();
      const watching = takeEvents(store, '/a/', from, 2);
      await store.create('/ab/1', 'no');
      await store.create('/a/1', 'yes');
      await store.create('/b/1', 'no');
      await store.create('/a/2', 'yes');
      const events = await watching;
      assert.deepEqual(
        events.map((e) => e.kv.key),
        ['/a/1', '/a/2'],
      );
    });

    test('concurrent writes get distinct revisions and every watcher sees all in order', async () => {
      const N = 300;
      const from = await store.currentRevision();
      const watchers = [
        takeEvents(store, '/cc/', from, N),
        takeEvents(store, '', from, N),
        takeEvents(store, '/cc/', from, N),
      ];
      const results = await Promise.all(range(1, N).map((i) => store.create(`/cc/${i}`, String(i))));
      const seen = new Set(results.map((r) => r.modRevision));
      assert.equal(seen.size, N);
      assert.deepEqual(
        [...seen].sort((x, y) => x - y),
        range(from + 1, from + N),
      );
      for (const events of await Promise.all(watchers)) {
        assert.deepEqual(revs(events), range(from + 1, from + N));
        for (const e of events) assert.equal(e.kv.value, e.kv.key.slice('/cc/'.length));
      }
    });

    test('compaction: old reads are Gone, latest versions survive, deleted keys are gone', async () => {
      const a = await store.create('/c/a', 'a1');
      const a2 = await store.update('/c/a', 'a2', a.modRevision);
      const b = await store.create('/c/b', 'b1');
      await store.delete('/c/b', b.modRevision);
      const d = await store.create('/c/d', 'd1');
      const target = d.modRevision;
      const a3 = await store.update('/c/a', 'a3', a2.modRevision);
      await store.compact(target);
      assert.equal(await store.compactedRevision(), target);
      await assert.rejects(store.list('/c/', { revision: target - 1 }), (e) => {
        assert.ok(e instanceof CompactedError);
        assert.equal(e.compactedRevision, target);
        return true;
      });
      await assert.rejects(takeEvents(store, '/c/', target - 1, 1), CompactedError);
      assert.deepEqual((await store.list('/c/', { revision: target })).items, [a2, d]);
      assert.deepEqual((await store.list('/c/')).items, [a3, d]);
      const events = await takeEvents(store, '/c/', target, 1);
      assert.deepEqual(events, [{ type: 'update', kv: a3, prev: a2 }]);
      await store.compact(target - 1);
      assert.equal(await store.compactedRevision(), target, 'compacting lower is a no-op');
      await assert.rejects(store.compact((await store.currentRevision()) + 1), FutureRevisionError);
      const b2 = await store.create('/c/b', 'b2');
      assert.equal(b2.createRevision, b2.modRevision);
    });

    test('a watcher that does not consume is dropped with WatcherOverflowError', async () => {
      const limit = 20;
      const small = await open({ watchQueueLimit: limit });
      try {
        const ac = new AbortController();
        const from = await small.store.currentRevision();
        const it = small.store.watch('/o/', { afterRevision: from, signal: ac.signal })[Symbol.asyncIterator]();
        const first = it.next();
        await small.store.create('/o/0', 'x');
        assert.equal((await first).value?.length, 1);
        for (let i = 1; i <= limit * 3; i++) await small.store.create(`/o/${i}`, 'x');
        await assert.rejects(async () => {
          for (let i = 0; i < limit * 3; i++) if ((await it.next()).done) return;
        }, WatcherOverflowError);
        ac.abort();
        assert.equal((await small.store.get('/o/1'))?.value, 'x', 'the store itself is unaffected');
      } finally {
        await small.cleanup();
      }
    });

    test('watch ends cleanly when its signal aborts', async () => {
      const ac = new AbortController();
      const from = await store.currentRevision();
      const got: WatchEvent[] = [];
      const done = (async () => {
        for await (const batch of store.watch('/s/', { afterRevision: from, signal: ac.signal })) got.push(...batch);
      })();
      await store.create('/s/1', 'x');
      while (got.length < 1) await new Promise((r) => setTimeout(r, 5));
      ac.abort();
      await done;
      assert.equal(got.length, 1);
      const pre = new AbortController();
      pre.abort();
      for await (const _ of store.watch('/s/', { afterRevision: 0, signal: pre.signal }))
        assert.fail('aborted watch yielded');
    });
  });
}
