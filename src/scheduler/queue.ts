// The scheduling queue, after kube-scheduler's: pods wait in an active FIFO;
// a pod that did not fit waits among the unschedulable until the cluster
// changes (a node added or updated, a pod deleted), and then after its
// backoff (1 s doubling to 10 s per attempt) it is tried again. Pods that sat
// unschedulable for long are retried anyway.

/** kube-scheduler's podInitialBackoffSeconds. */
export const INITIAL_BACKOFF_MS = 1000;
/** kube-scheduler's podMaxBackoffSeconds. */
export const MAX_BACKOFF_MS = 10_000;
/** kube-scheduler retries pods left unschedulable this long even without a cluster event (podMaxInUnschedulablePodsDuration). */
export const MAX_UNSCHEDULABLE_MS = 5 * 60_000;

type Entry = { attempts: number; backoffUntil: number; unschedulableSince?: number };

export class SchedulingQueue {
  #active: string[] = [];
  #activeSet = new Set<string>();
  #entries = new Map<string, Entry>();
  #unschedulable = new Set<string>();
  #timers = new Map<string, NodeJS.Timeout>();
  #waiters: ((key: string | undefined) => void)[] = [];
  #closed = false;
  #now: () => number;
  /** Bumped on every cluster event; a pod that failed in an older cycle goes to backoff, not to sleep. */
  #moveCycle = 0;
  #flush: NodeJS.Timeout;

  constructor(options: { signal: AbortSignal; now?: () => number }) {
    this.#now = options.now ?? Date.now;
    options.signal.addEventListener('abort', () => this.close(), { once: true });
    this.#flush = setInterval(() => this.#flushStale(), MAX_UNSCHEDULABLE_MS / 10);
    this.#flush.unref?.();
  }

  get length(): number {
    return this.#active.length;
  }

  get unschedulableCount(): number {
    return this.#unschedulable.size;
  }

  /** The current move cycle; pass it back to `failed`. */
  get cycle(): number {
    return this.#moveCycle;
  }

  /** A new or changed pending pod: schedule it (respecting any backoff it is serving). */
  add(key: string): void {
    if (this.#closed || this.#activeSet.has(key) || this.#timers.has(key)) return;
    this.#unschedulable.delete(key);
    const entry = this.#entries.get(key);
    const wait = entry ? entry.backoffUntil - this.#now() : 0;
    if (wait > 0) this.#after(key, wait);
    else this.#activate(key);
  }

  /** The next pod to schedule, or undefined once closed. */
  pop(): Promise<string | undefined> {
    if (this.#closed) return Promise.resolve(undefined);
    const key = this.#active.shift();
    if (key !== undefined) {
      this.#activeSet.delete(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Scheduling failed. Unschedulable pods sleep until a cluster event unless
   * one came during their attempt (`cycle` is what `cycle` said when popped);
   * errors always retry after the backoff.
   */
  failed(key: string, options: { unschedulable: boolean; cycle: number }): number {
    if (this.#closed) return 0;
    const entry = this.#entries.get(key) ?? { attempts: 0, backoffUntil: 0 };
    const backoff = Math.min(INITIAL_BACKOFF_MS * 2 ** entry.attempts, MAX_BACKOFF_MS);
    entry.attempts++;
    entry.backoffUntil = this.#now() + backoff;
    this.#entries.set(key, entry);
    if (options.unschedulable && options.cycle === this.#moveCycle) {
      entry.unschedulableSince = this.#now();
      this.#unschedulable.add(key);
    } else {
      this.#after(key, backoff);
    }
    return backoff;
  }

  /** Bound (or gone): forget everything about the pod. */
  done(key: string): void {
    this.#entries.delete(key);
    this.#unschedulable.delete(key);
    const timer = this.#timers.get(key);
    if (timer) clearTimeout(timer);
    this.#timers.delete(key);
    if (this.#activeSet.delete(key)) this.#active = this.#active.filter((k) => k !== key);
  }

  /** The cluster changed so that unschedulable pods might fit now. */
  moveAllToActiveOrBackoff(): void {
    this.#moveCycle++;
    for (const key of [...this.#unschedulable]) this.add(key);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#flush);
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    for (const w of this.#waiters.splice(0)) w(undefined);
  }

  #activate(key: string): void {
    const waiter = this.#waiters.shift();
    if (waiter) {
      waiter(key);
      return;
    }
    this.#active.push(key);
    this.#activeSet.add(key);
  }

  #after(key: string, ms: number): void {
    if (this.#timers.has(key)) return;
    const timer = setTimeout(() => {
      this.#timers.delete(key);
      if (!this.#closed) this.#activate(key);
    }, ms);
    timer.unref?.();
    this.#timers.set(key, timer);
  }

  #flushStale(): void {
    const now = this.#now();
    for (const key of [...this.#unschedulable]) {
      const since = this.#entries.get(key)?.unschedulableSince ?? now;
      if (now - since >= MAX_UNSCHEDULABLE_MS) this.add(key);
    }
  }
}
