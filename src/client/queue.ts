// A work queue as client-go's: keys are deduplicated while waiting, a key is
// never handed to two workers at once (re-added while processing means it is
// processed again after), and failed keys come back with per-key exponential
// backoff until forgotten.

/** First retry delay of a failing key (client-go's default item backoff). */
export const BASE_RETRY_DELAY_MS = 5;
/** Retry delays double up to this cap (client-go: 1000 s), so a broken key costs little. */
export const MAX_RETRY_DELAY_MS = 1_000_000;

export type WorkQueueOptions = {
  signal?: AbortSignal;
  baseDelayMs?: number;
  maxDelayMs?: number;
};

export class WorkQueue {
  #order: string[] = [];
  #dirty = new Set<string>();
  #processing = new Set<string>();
  #failures = new Map<string, number>();
  #timers = new Map<string, { timer: NodeJS.Timeout; due: number }>();
  #waiters: ((key: string | undefined) => void)[] = [];
  #shutdown = false;
  #baseDelayMs: number;
  #maxDelayMs: number;

  constructor(options: WorkQueueOptions = {}) {
    this.#baseDelayMs = options.baseDelayMs ?? BASE_RETRY_DELAY_MS;
    this.#maxDelayMs = options.maxDelayMs ?? MAX_RETRY_DELAY_MS;
    if (options.signal?.aborted) this.shutDown();
    else options.signal?.addEventListener('abort', () => this.shutDown(), { once: true });
  }

  get length(): number {
    return this.#order.length;
  }

  get shuttingDown(): boolean {
    return this.#shutdown;
  }

  add(key: string): void {
    if (this.#shutdown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (this.#processing.has(key)) return; // done() puts it back
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      waiter(key);
    } else {
      this.#order.push(key);
    }
  }

  /** Adds the key after a delay; an earlier pending delay for the key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shutdown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    // As client-go's delaying queue: a key already waiting keeps the earlier of the two times.
    const due = Date.now() + delayMs;
    const waiting = this.#timers.get(key);
    if (waiting && waiting.due <= due) return;
    if (waiting) clearTimeout(waiting.timer);
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref?.();
    this.#timers.set(key, { timer, due });
  }

  /** Adds the key after its backoff: 5 ms, 10 ms, 20 ms … up to the cap, per key. */
  addRateLimited(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const delay = Math.min(this.#baseDelayMs * 2 ** failures, this.#maxDelayMs);
    this.addAfter(key, delay);
    return delay;
  }

  /** How often the key has been retried since it last succeeded. */
  retries(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  /** The key succeeded: its next failure starts from the base delay again. */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** The next key to work on, or undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    if (this.#shutdown) return Promise.resolve(undefined);
    const key = this.#order.shift();
    if (key !== undefined) {
      this.#dirty.delete(key);
      this.#processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Processing of the key finished; if it was added meanwhile it is queued again. */
  done(key: string): void {
    this.#processing.delete(key);
    if (!this.#dirty.has(key)) return;
    this.#dirty.delete(key);
    this.add(key);
  }

  shutDown(): void {
    if (this.#shutdown) return;
    this.#shutdown = true;
    for (const { timer } of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
    this.#order = [];
    this.#dirty.clear();
  }
}
