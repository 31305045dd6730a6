// Store benchmark: write throughput and latency at several concurrencies,
// LIST latency over many ~2 KB values, and watch delivery latency to many
// watchers under a steady write rate. Run directly for a temp sqlite store:
//   npx node bench/store.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore } from '../src/store/sqlite.ts';
import type { Store } from '../src/store/types.ts';

export type BenchStoreOptions = {
  /** Key prefix for everything the benchmark writes (use a fresh one per run). */
  prefix?: string;
  /** Writer concurrencies to measure. */
  concurrency?: number[];
  /** Creates (then as many updates) per concurrency level. */
  writesPerLevel?: number;
  /** Size of each value in bytes (Kubernetes objects are typically 1-4 KB of JSON). */
  valueBytes?: number;
  listItems?: number;
  listRuns?: number;
  watchers?: number;
  watchWritesPerSec?: number;
  watchSeconds?: number;
};

export type LatencyStats = { count: number; p50Ms: number; p99Ms: number };
export type WriteStats = LatencyStats & { op: 'create' | 'update'; concurrency: number; opsPerSec: number };
export type BenchStoreResult = {
  writes: WriteStats[];
  list: LatencyStats & { items: number; valueBytes: number };
  watch: LatencyStats & { watchers: number; writesPerSec: number; missed: number };
};

const DEFAULTS: Required<BenchStoreOptions> = {
  prefix: '/bench/',
  concurrency: [1, 10, 100],
  writesPerLevel: 2000,
  valueBytes: 2048,
  listItems: 10_000,
  listRuns: 20,
  watchers: 100,
  watchWritesPerSec: 500,
  watchSeconds: 2,
};
/** Writes issued per timer tick in the watch phase (timers are too coarse for one per ms). */
const WATCH_TICK_MS = 10;
/** Longest wait for watchers to catch up after the last write. */
const WATCH_DRAIN_TIMEOUT_MS = 10_000;

function stats(samples: number[]): LatencyStats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))] : Number.NaN);
  return { count: s.length, p50Ms: at(0.5), p99Ms: at(0.99) };
}

async function benchWrites(store: Store, o: Required<BenchStoreOptions>, value: string): Promise<WriteStats[]> {
  const out: WriteStats[] = [];
  for (const c of o.concurrency) {
    const perWorker = Math.ceil(o.writesPerLevel / c);
    const created: { key: string; rev: number }[][] = Array.from({ length: c }, () => []);
    const run = async (op: 'create' | 'update') => {
      const lat: number[] = [];
      const t0 = performance.now();
      await Promise.all(
        created.map(async (mine, w) => {
          for (let i = 0; i < perWorker; i++) {
            const s = performance.now();
            if (op === 'create') {
              const key = `${o.prefix}w/${c}/${w}/${i}`;
              mine.push({ key, rev: (await store.create(key, value)).modRevision });
            } else {
              mine[i].rev = (await store.update(mine[i].key, value, mine[i].rev)).modRevision;
            }
            lat.push(performance.now() - s);
          }
        }),
      );
      const secs = (performance.now() - t0) / 1000;
      out.push({ op, concurrency: c, opsPerSec: lat.length / secs, ...stats(lat) });
    };
    await run('create');
    await run('update');
  }
  return out;
}

async function benchList(store: Store, o: Required<BenchStoreOptions>, value: string) {
  const prefix = `${o.prefix}list/`;
  const batch = 1000;
  for (let i = 0; i < o.listItems; i += batch) {
    const n = Math.min(batch, o.listItems - i);
    await Promise.all(Array.from({ length: n }, (_, j) => store.create(`${prefix}${i + j}`, value)));
  }
  const lat: number[] = [];
  for (let r = 0; r < o.listRuns; r++) {
    const s = performance.now();
    const res = await store.list(prefix);
    lat.push(performance.now() - s);
    if (res.items.length !== o.listItems) throw new Error(`list returned ${res.items.length} items`);
  }
  return { items: o.listItems, valueBytes: o.valueBytes, ...stats(lat) };
}

async function benchWatch(store: Store, o: Required<BenchStoreOptions>, value: string) {
  const prefix = `${o.prefix}watch/`;
  const total = Math.round(o.watchWritesPerSec * o.watchSeconds);
  const sentAt = new Map<string, number>();
  const lat: number[] = [];
  const ac = new AbortController();
  const from = await store.currentRevision();
  const counts = new Array<number>(o.watchers).fill(0);
  const watchers = counts.map(async (_, w) => {
    for await (const batch of store.watch(prefix, { afterRevision: from, signal: ac.signal })) {
      const now = performance.now();
      for (const e of batch) lat.push(now - sentAt.get(e.kv.key)!);
      counts[w] += batch.length;
      if (counts[w] >= total) return;
    }
  });
  const perTick = Math.max(1, Math.round((o.watchWritesPerSec * WATCH_TICK_MS) / 1000));
  const writes: Promise<unknown>[] = [];
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      for (let i = 0; i < perTick && writes.length < total; i++) {
        const key = `${prefix}${writes.length}`;
        sentAt.set(key, performance.now());
        writes.push(store.create(key, value));
      }
      if (writes.length >= total) {
        clearInterval(timer);
        resolve();
      }
    }, WATCH_TICK_MS);
  });
  await Promise.all(writes);
  const drained = setTimeout(() => ac.abort(), WATCH_DRAIN_TIMEOUT_MS);
  await Promise.all(watchers);
  clearTimeout(drained);
  ac.abort();
  const missed = counts.reduce((sum, n) => sum + (total - n), 0);
  return { watchers: o.watchers, writesPerSec: o.watchWritesPerSec, missed, ...stats(lat) };
}

export async function benchStore(store: Store, options: BenchStoreOptions = {}): Promise<BenchStoreResult> {
  const o = { ...DEFAULTS, ...options };
  const value = JSON.stringify({ pad: 'x'.repeat(Math.max(0, o.valueBytes - 10)) });
  const writes = await benchWrites(store, o, value);
  const list = await benchList(store, o, value);
  const watch = await benchWatch(store, o, value);
  return { writes, list, watch };
}

const ms = (n: number) => n.toFixed(2);

export function formatBenchStore(r: BenchStoreResult): string {
  const rows = [
    ['what', 'ops/s', 'p50 ms', 'p99 ms'],
    ...r.writes.map((w) => [`${w.op} x${w.concurrency} writers`, w.opsPerSec.toFixed(0), ms(w.p50Ms), ms(w.p99Ms)]),
    [`list ${r.list.items} x ${r.list.valueBytes} B`, '', ms(r.list.p50Ms), ms(r.list.p99Ms)],
    [
      `watch ${r.watch.watchers} watchers @${r.watch.writesPerSec}/s${r.watch.missed ? ` (missed ${r.watch.missed})` : ''}`,
      '',
      ms(r.watch.p50Ms),
      ms(r.watch.p99Ms),
    ],
  ];
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  return rows
    .map((row) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '))
    .join('\n');
}

if (import.meta.main) {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-bench-store-'));
  try {
    const store = await openSqliteStore({ path: join(dir, 'state.db') });
    const result = await benchStore(store);
    console.log(`store: sqlite (${join(dir, 'state.db')}), ${store.stats().commits} commits`);
    console.log(formatBenchStore(result));
    await store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
