// Back-off bookkeeping, as client-go's flowcontrol.Backoff that the kubelet
// uses for CrashLoopBackOff and ImagePullBackOff: per key, a delay that starts
// at `initial`, doubles on each retry up to `max`, and is forgotten after two
// quiet `max` periods. Pure: callers keep the entries in a Map.

export type BackoffEntry = { delayMs: number; lastUpdate: number };
export type BackoffPolicy = { initialMs: number; maxMs: number; resetAfterRunMs?: number };

const expired = (entry: BackoffEntry, now: number, policy: BackoffPolicy) => now - entry.lastUpdate > 2 * policy.maxMs;

/**
 * Whether a retry must still wait: the entry's delay, counted from `since`
 * (when the container finished, or the pull failed), has not passed.
 * Returns the moment the wait ends, or undefined when a retry may go now.
 */
export function backoffUntil(
  entry: BackoffEntry | undefined,
  since: number,
  now: number,
  policy: BackoffPolicy,
): number | undefined {
  if (!entry || expired(entry, now, policy)) return undefined;
  const until = since + entry.delayMs;
  return now < until ? until : undefined;
}

/**
 * The entry after one more retry at `now`: the initial delay the first time
 * (or after a long quiet spell, or after the container ran long enough to
 * count as healthy), else double the last, capped.
 */
export function nextBackoff(
  entry: BackoffEntry | undefined,
  now: number,
  policy: BackoffPolicy,
  ranMs = 0,
): BackoffEntry {
  const reset =
    !entry || expired(entry, now, policy) || (policy.resetAfterRunMs !== undefined && ranMs >= policy.resetAfterRunMs);
  return { delayMs: reset ? policy.initialMs : Math.min(entry.delayMs * 2, policy.maxMs), lastUpdate: now };
}

/** Go's time.Duration formatting for whole seconds and up ("10s", "1m20s", "5m0s"), as kubelet messages show it. */
export function goDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const total = ms / 1000;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = Number((total % 60).toFixed(3));
  if (h > 0) return `${h}h${m}m${s}s`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
