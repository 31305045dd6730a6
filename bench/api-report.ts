// Formats the API benchmark: API and raw store side by side, with targets
// and PASS/MISS, then server memory.
import type { StoreColumn } from './api-store.ts';
import type { ListRows, WatchRow, WriteRow } from './api-workloads.ts';
import type { LoopDelay, Stats } from './measure.ts';

export type MemoryRow = { objects: number; rssBytes: number; peakBytes: number };

export type ApiResults = {
  writes: WriteRow[];
  paced: Stats;
  pacedPerSecond: number;
  list: ListRows;
  watch: WatchRow;
  podFill: Stats;
  fill?: Stats;
  memory: MemoryRow[];
  /** The benchmark client's own event-loop delay per phase (large: client-side noise in that phase). */
  clientDelay: Record<string, LoopDelay>;
};

/** Targets: p99 latency in ms that each measurement should stay under. */
export const TARGETS = { pacedP99Ms: 50, listMs: 1000, watchP99Ms: 50 };

type Row = { what: string; api?: Stats; store?: Stats; targetMs?: number };

const num = (n: number | undefined, digits: number) => (n === undefined || Number.isNaN(n) ? '-' : n.toFixed(digits));
const errs = (s?: Stats) => (s?.errors ? ` [${s.errors} errors]` : '');

function rowsOf(api: ApiResults, store?: StoreColumn): Row[] {
  const rows: Row[] = [];
  for (const w of api.writes) {
    const s = store?.writes.find((x) => x.op === w.op && x.concurrency === w.concurrency);
    rows.push({ what: `${w.op} x${w.concurrency} clients`, api: w.stats, store: s?.stats });
  }
  rows.push({ what: `writes @${api.pacedPerSecond}/s open loop`, api: api.paced, store: store?.paced, targetMs: TARGETS.pacedP99Ms });
  const n = api.list.items;
  rows.push({ what: `LIST ${n} pods (JSON)`, api: api.list.json, store: store?.list.json, targetMs: TARGETS.listMs });
  rows.push({ what: `LIST ${n} pods (Table)`, api: api.list.table, store: store?.list.table, targetMs: TARGETS.listMs });
  rows.push({ what: `LIST ${n} pods (limit=500, all pages)`, api: api.list.paged, store: store?.list.paged, targetMs: TARGETS.listMs });
  const w = api.watch;
  rows.push({
    what: `watch delivery, ${w.watchers} watchers @${w.perSecond}/s`,
    api: w.delivery,
    store: store?.watch.delivery,
    targetMs: TARGETS.watchP99Ms,
  });
  rows.push({ what: `  creates during that watch`, api: w.writes });
  rows.push({ what: `pod creates x100 clients (LIST setup)`, api: api.podFill });
  if (api.fill) rows.push({ what: `ConfigMap creates x100 (memory fill)`, api: api.fill });
  return rows;
}

function grid(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd()).join('\n');
}

export function formatApiBench(api: ApiResults, store?: StoreColumn): string {
  const header = ['measurement', 'API ops/s', 'API p50 ms', 'API p99 ms', 'store ops/s', 'store p50', 'store p99', 'target', ''];
  const body = rowsOf(api, store).map((r) => {
    const verdict = r.targetMs === undefined || !r.api ? '' : r.api.count > 0 && !r.api.errors && r.api.p99Ms < r.targetMs ? 'PASS' : 'MISS';
    return [
      r.what + errs(r.api),
      num(r.api?.opsPerSec, 0),
      num(r.api?.p50Ms, 1),
      num(r.api?.p99Ms, 1),
      num(r.store?.opsPerSec, 0),
      num(r.store?.p50Ms, 1),
      num(r.store?.p99Ms, 1),
      r.targetMs === undefined ? '' : `p99 < ${r.targetMs} ms`,
      verdict,
    ];
  });
  const mib = (b: number) => (b / 1024 / 1024).toFixed(0);
  const memory = [['server memory', 'objects', 'VmRSS MiB', 'VmHWM MiB'], ...api.memory.map((m) => ['', String(m.objects), mib(m.rssBytes), mib(m.peakBytes)])];
  return `${grid([header, ...body])}\n${clientDelayNote(api)}\n\n${grid(memory)}`;
}

function clientDelayNote(api: ApiResults): string {
  const parts = Object.entries(api.clientDelay).map(([phase, d]) => `${phase} ${d.p99Ms.toFixed(0)}/${d.maxMs.toFixed(0)}`);
  return `client event-loop delay p99/max ms: ${parts.join(', ')}`;
}

/** The same numbers as a Markdown table, for README.md's Benchmarks section. */
export function formatApiBenchMarkdown(api: ApiResults, store?: StoreColumn): string {
  const lines = ['| measurement | API ops/s | API p50 ms | API p99 ms | store ops/s | store p50 ms | store p99 ms | target |', '|---|--:|--:|--:|--:|--:|--:|---|'];
  for (const r of rowsOf(api, store)) {
    const verdict = r.targetMs === undefined || !r.api ? '' : r.api.count > 0 && !r.api.errors && r.api.p99Ms < r.targetMs ? ' PASS' : ' MISS';
    const cells = [r.what.trim() + errs(r.api), num(r.api?.opsPerSec, 0), num(r.api?.p50Ms, 1), num(r.api?.p99Ms, 1), num(r.store?.opsPerSec, 0), num(r.store?.p50Ms, 1), num(r.store?.p99Ms, 1)];
    lines.push(`| ${cells.join(' | ')} | ${r.targetMs === undefined ? '' : `p99 < ${r.targetMs} ms${verdict}`} |`);
  }
  lines.push('', '| stored objects | server VmRSS MiB | peak (VmHWM) MiB |', '|--:|--:|--:|');
  for (const m of api.memory) lines.push(`| ${m.objects} | ${(m.rssBytes / 1048576).toFixed(0)} | ${(m.peakBytes / 1048576).toFixed(0)} |`);
  return lines.join('\n');
}
