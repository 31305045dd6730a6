// The store column of the API benchmark: the same workloads straight on a
// temp sqlite store (no HTTP, no JSON, no admission), so the table shows
// what the API layer adds. Reuses benchStore from store.ts where it fits.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../src/store/index.ts';
import type { Store } from '../src/store/types.ts';
import { type ListRows, type WatchRow, type WriteRow, LIST_PAGE } from './api-workloads.ts';
import { type Stats, openLoop, summarize } from './measure.ts';
import { benchStore } from './store.ts';

export type StoreWorkloads = {
  concurrency: number[];
  writesPerLevel: number;
  /** Stored size of one benchmark ConfigMap, as the API stores it. */
  configMapBytes: number;
  /** Stored size of one benchmark Pod. */
  podBytes: number;
  listItems: number;
  listRuns: number;
  pacedPerSecond: number;
  pacedSeconds: number;
  watchers: number;
  watchPerSecond: number;
  watchSeconds: number;
};

export type StoreColumn = { writes: WriteRow[]; paced: Stats; list: ListRows; watch: WatchRow };

/** Longest wait for writes still in flight at the end of the paced phase. */
const DRAIN_SECONDS = 10;

const fromStoreStats = (s: { count: number; p50Ms: number; p99Ms: number }, opsPerSec = Number.NaN): Stats => ({
  ...s,
  errors: 0,
  maxMs: Number.NaN,
  opsPerSec,
});

async function pacedOnStore(store: Store, o: StoreWorkloads, value: string): Promise<Stats> {
  const prefix = '/paced/';
  const poolSize = Math.max(1, Math.round(o.pacedPerSecond / 2));
  const pool = await Promise.all(
    Array.from({ length: poolSize }, async (_, i) => {
      const key = `${prefix}pool-${i}`;
      return { key, rev: (await store.create(key, value)).modRevision };
    }),
  );
  return openLoop({
    perSecond: o.pacedPerSecond,
    seconds: o.pacedSeconds,
    drainSeconds: DRAIN_SECONDS,
    op: async (i) => {
      if (i % 2 === 0) {
        await store.create(`${prefix}${i}`, value);
        return;
      }
      const obj = pool[(i >> 1) % poolSize];
      obj.rev = (await store.update(obj.key, value, obj.rev)).modRevision;
    },
  });
}

async function pagedListOnStore(store: Store, prefix: string, o: StoreWorkloads): Promise<Stats> {
  const lat: number[] = [];
  for (let r = 0; r < o.listRuns; r++) {
    const s = performance.now();
    let startAfter: string | undefined;
    let revision = 0;
    let seen = 0;
    for (;;) {
      const page = await store.list(prefix, { revision, limit: LIST_PAGE, startAfter });
      revision = page.revision;
      seen += page.items.length;
      if (page.remaining === 0 || page.items.length === 0) break;
      startAfter = page.items[page.items.length - 1].key;
    }
    lat.push(performance.now() - s);
    if (seen !== o.listItems) throw new Error(`paged store list saw ${seen} items`);
  }
  return { ...summarize(lat, 0, 0), opsPerSec: Number.NaN };
}

export async function storeColumn(o: StoreWorkloads): Promise<StoreColumn> {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-bench-api-store-'));
  try {
    const store = await openSqliteStore({ path: join(dir, 'state.db') });
    try {
      // Writes and watch with ConfigMap-sized values (the list part kept trivial here) ...
      const a = await benchStore(store, {
        prefix: '/cm/',
        concurrency: o.concurrency,
        writesPerLevel: o.writesPerLevel,
        valueBytes: o.configMapBytes,
        listItems: 1,
        listRuns: 1,
        watchers: o.watchers,
        watchWritesPerSec: o.watchPerSecond,
        watchSeconds: o.watchSeconds,
      });
      // ... and the list over Pod-sized values (no writes, no watch).
      const b = await benchStore(store, {
        prefix: '/pods/',
        concurrency: [],
        valueBytes: o.podBytes,
        listItems: o.listItems,
        listRuns: o.listRuns,
        watchers: 0,
        watchSeconds: 0,
      });
      const paged = await pagedListOnStore(store, '/pods/list/', o);
      const cmValue = JSON.stringify({ pad: 'x'.repeat(Math.max(0, o.configMapBytes - 10)) });
      const paced = await pacedOnStore(store, o, cmValue);
      const listStats = fromStoreStats(b.list);
      return {
        writes: a.writes.map((w) => ({ op: w.op, concurrency: w.concurrency, stats: fromStoreStats(w, w.opsPerSec) })),
        paced,
        list: { json: listStats, table: listStats, paged, items: o.listItems },
        watch: {
          delivery: { ...fromStoreStats(a.watch), errors: a.watch.missed },
          writes: fromStoreStats({ count: 0, p50Ms: Number.NaN, p99Ms: Number.NaN }),
          watchers: a.watch.watchers,
          perSecond: a.watch.writesPerSec,
          missed: a.watch.missed,
        },
      };
    } finally {
      await store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
