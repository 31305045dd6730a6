// Load generators and latency statistics shared by the API benchmark's API
// and store columns: a closed loop (N workers, each waits for its answer) and
// an open loop (a fixed schedule of requests, whatever the answers do).
import { monitorEventLoopDelay } from 'node:perf_hooks';

export type Stats = { count: number; errors: number; p50Ms: number; p99Ms: number; maxMs: number; opsPerSec: number };

/** How often the open-loop pacer wakes to issue due operations (timers are too coarse for one per ms). */
const PACE_TICK_MS = 2;

export function percentile(sorted: number[], q: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : Number.NaN;
}

export function summarize(samples: number[], errors: number, seconds: number): Stats {
  const s = [...samples].sort((a, b) => a - b);
  return {
    count: s.length,
    errors,
    p50Ms: percentile(s, 0.5),
    p99Ms: percentile(s, 0.99),
    maxMs: s.length ? s[s.length - 1] : Number.NaN,
    opsPerSec: seconds > 0 ? s.length / seconds : Number.NaN,
  };
}

export type ClosedLoopOptions = {
  concurrency: number;
  /** Operations per worker. */
  perWorker: number;
  /** Workers stop issuing new operations after this long. */
  maxSeconds: number;
  op: (worker: number, i: number) => Promise<void>;
};

/** `concurrency` workers each run `op` back to back; a failed op counts as an error and is not timed. */
export async function closedLoop(o: ClosedLoopOptions): Promise<Stats> {
  const lat: number[] = [];
  let errors = 0;
  const t0 = performance.now();
  const deadline = t0 + o.maxSeconds * 1000;
  await Promise.all(
    Array.from({ length: o.concurrency }, async (_, w) => {
      for (let i = 0; i < o.perWorker && performance.now() < deadline; i++) {
        const s = performance.now();
        try {
          await o.op(w, i);
          lat.push(performance.now() - s);
        } catch {
          errors++;
        }
      }
    }),
  );
  return summarize(lat, errors, (performance.now() - t0) / 1000);
}

export type OpenLoopOptions = {
  perSecond: number;
  seconds: number;
  /** Longest wait for operations still in flight after the last one is issued. */
  drainSeconds: number;
  op: (i: number) => Promise<void>;
};

/**
 * Issues operation i at t0 + i/perSecond regardless of how earlier ones fare,
 * and times each from its scheduled start (so a stalled server cannot hide
 * its queueing delay, unlike a closed loop). Unfinished ops count as errors.
 */
export async function openLoop(o: OpenLoopOptions): Promise<Stats> {
  const total = Math.round(o.perSecond * o.seconds);
  const lat: number[] = [];
  let errors = 0;
  const inflight = new Set<Promise<void>>();
  const t0 = performance.now();
  let issued = 0;
  const issue = (i: number) => {
    const scheduled = t0 + (i * 1000) / o.perSecond;
    const p: Promise<void> = o.op(i).then(
      () => {
        lat.push(performance.now() - scheduled);
      },
      () => {
        errors++;
      },
    );
    inflight.add(p);
    p.finally(() => inflight.delete(p));
  };
  while (issued < total) {
    const due = Math.min(total, Math.floor(((performance.now() - t0) * o.perSecond) / 1000) + 1);
    while (issued < due) issue(issued++);
    await new Promise((r) => setTimeout(r, PACE_TICK_MS));
  }
  const seconds = (performance.now() - t0) / 1000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise((r) => {
    timer = setTimeout(r, o.drainSeconds * 1000);
  });
  await Promise.race([Promise.all(inflight), timeout]);
  clearTimeout(timer);
  errors += inflight.size;
  return summarize(lat, errors, seconds);
}

export type LoopDelay = { p99Ms: number; maxMs: number };

/** Sampling resolution of the client's event-loop delay monitor. */
const LOOP_DELAY_RESOLUTION_MS = 5;

/**
 * Runs fn while watching this (client) process's event loop: a client that
 * stalls (GC, parsing) delays timestamps, so large values mean the numbers
 * of that phase carry client-side noise.
 */
export async function withLoopDelay<T>(fn: () => Promise<T>): Promise<[T, LoopDelay]> {
  const h = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  h.enable();
  try {
    const value = await fn();
    h.disable();
    return [value, { p99Ms: h.percentile(99) / 1e6, maxMs: h.max / 1e6 }];
  } finally {
    h.disable();
  }
}
