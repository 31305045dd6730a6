// When to sync: as soon as something changed, but at most SYNC_BURST times in
// a row and then once per MIN_SYNC_PERIOD_MS (kube-proxy's
// BoundedFrequencyRunner), plus a full resync every SYNC_PERIOD_MS.

/** kube-proxy's minSyncPeriod default: a burst of endpoint changes costs one sync per second, not one each. */
export const MIN_SYNC_PERIOD_MS = 1000;
/** kube-proxy's syncPeriod default: rewrite everything this often, repairing anything changed behind our back. */
export const SYNC_PERIOD_MS = 30_000;
/** kube-proxy's burstSyncs: an isolated change is applied at once even right after another. */
export const SYNC_BURST = 2;

export type SyncFn = (options: { full: boolean }) => Promise<void>;

export class SyncRunner {
  #fn: SyncFn;
  #tokens = SYNC_BURST;
  #lastRefill = Date.now();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #pending = false;
  #pendingFull = false;
  #signal: AbortSignal;
  #minPeriodMs: number;
  #idle: (() => void)[] = [];

  constructor(fn: SyncFn, options: { signal: AbortSignal; minPeriodMs?: number; periodMs?: number }) {
    this.#fn = fn;
    this.#signal = options.signal;
    this.#minPeriodMs = options.minPeriodMs ?? MIN_SYNC_PERIOD_MS;
    const periodic = setInterval(() => this.request({ full: true }), options.periodMs ?? SYNC_PERIOD_MS);
    periodic.unref();
    options.signal.addEventListener('abort', () => {
      clearInterval(periodic);
      if (this.#timer) clearTimeout(this.#timer);
      for (const resolve of this.#idle.splice(0)) resolve();
    });
  }

  /** Asks for a sync; coalesces with one already waiting. */
  request(options: { full?: boolean } = {}): void {
    if (this.#signal.aborted) return;
    this.#pending = true;
    if (options.full) this.#pendingFull = true;
    if (this.#running || this.#timer) return;
    this.#refill();
    const wait = this.#tokens >= 1 ? 0 : Math.ceil(this.#minPeriodMs * (1 - this.#tokens));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#run();
    }, wait);
  }

  /** Resolves once no sync is running or waiting. */
  idle(): Promise<void> {
    if (!this.#running && !this.#timer && !this.#pending) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #refill(): void {
    const now = Date.now();
    this.#tokens = Math.min(SYNC_BURST, this.#tokens + (now - this.#lastRefill) / this.#minPeriodMs);
    this.#lastRefill = now;
  }

  async #run(): Promise<void> {
    if (this.#signal.aborted) return;
    this.#refill();
    this.#tokens -= 1;
    const full = this.#pendingFull;
    this.#pending = false;
    this.#pendingFull = false;
    this.#running = this.#fn({ full }).catch(() => {});
    await this.#running;
    this.#running = undefined;
    if (this.#pending) this.request();
    else for (const resolve of this.#idle.splice(0)) resolve();
  }
}
