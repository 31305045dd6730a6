// Periodic compaction: forget history older than the newest keepRevisions
// revisions, then give the freed space back to the filesystem.
import type { Store } from './types.ts';

/** Kubernetes' apiserver compacts every 5 minutes (--etcd-compaction-interval). */
export const DEFAULT_COMPACT_INTERVAL_MS = 5 * 60 * 1000;
/**
 * History kept behind the head: kine (k3s) retains 1000 revisions, enough for
 * watchers that reconnect after a short break to resume instead of re-listing.
 */
export const DEFAULT_KEEP_REVISIONS = 1000;

export type CompactorOptions = {
  intervalMs?: number;
  keepRevisions?: number;
  signal: AbortSignal;
  /** Called when a round fails; the compactor keeps going. */
  onError?: (err: unknown) => void;
};

export type Compactor = {
  /** One round now: compacts to currentRevision - keepRevisions. Returns the compacted revision. */
  runOnce(): Promise<number>;
  /** Settles when the signal aborted and any round in flight finished. */
  stopped: Promise<void>;
};

type Reclaimable = { reclaimSpace?: () => Promise<void> };

export function startCompactor(store: Store & Reclaimable, options: CompactorOptions): Compactor {
  const intervalMs = options.intervalMs ?? DEFAULT_COMPACT_INTERVAL_MS;
  const keep = options.keepRevisions ?? DEFAULT_KEEP_REVISIONS;
  let inFlight: Promise<number> | undefined;

  const round = async (): Promise<number> => {
    const target = (await store.currentRevision()) - keep;
    if (target > (await store.compactedRevision())) {
      await store.compact(target);
      await store.reclaimSpace?.();
    }
    return store.compactedRevision();
  };
  const runOnce = (): Promise<number> => {
    inFlight ??= round().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };

  const timer = setInterval(() => {
    runOnce().catch((err) => options.onError?.(err));
  }, intervalMs);
  timer.unref();
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      clearInterval(timer);
      Promise.resolve(inFlight)
        .catch(() => {})
        .then(() => resolve());
    };
    if (options.signal.aborted) stop();
    else options.signal.addEventListener('abort', stop, { once: true });
  });
  return { runOnce, stopped };
}
