// In-memory fan-out of committed events to live watchers. Each watcher has a
// bounded queue; one that falls behind is dropped with WatcherOverflowError
// rather than letting memory grow without limit (Kubernetes drops slow
// watchers the same way). Events are shared between watchers: read-only.
import { type WatchEvent, WatcherOverflowError } from './types.ts';

/**
 * Default per-watcher queue bound, in events. Large enough to absorb a full
 * group-commit batch plus a burst while the consumer writes to a socket, small
 * enough that a stuck client cannot pin more than a few MB of shared events.
 */
export const DEFAULT_WATCH_QUEUE_LIMIT = 10_000;

export class Subscription {
  readonly prefix: string;
  #limit: number;
  #queue: WatchEvent[] = [];
  #error: Error | undefined;
  #closed = false;
  #wake: (() => void) | undefined;
  #onClose: (s: Subscription) => void;

  constructor(prefix: string, limit: number, onClose: (s: Subscription) => void) {
    this.prefix = prefix;
    this.#limit = limit;
    this.#onClose = onClose;
  }

  get error(): Error | undefined {
    return this.#error;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Called by the hub with events already filtered for this prefix. */
  push(events: WatchEvent[]): void {
    if (this.#closed) return;
    if (this.#queue.length + events.length > this.#limit) {
      this.#queue = [];
      this.#error = new WatcherOverflowError();
      this.close();
      return;
    }
    for (const e of events) this.#queue.push(e);
    this.#notify();
  }

  /** Everything queued so far, emptying the queue. */
  take(): WatchEvent[] {
    const out = this.#queue;
    this.#queue = [];
    return out;
  }

  /** Resolves when events arrive, the subscription closes, or signal aborts. */
  wait(signal: AbortSignal): Promise<void> {
    if (this.#queue.length > 0 || this.#closed || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener('abort', done);
        this.#wake = undefined;
        resolve();
      };
      this.#wake = done;
      signal.addEventListener('abort', done, { once: true });
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#onClose(this);
    this.#notify();
  }

  #notify(): void {
    this.#wake?.();
  }
}

export class WatchHub {
  #subs = new Set<Subscription>();

  subscribe(prefix: string, limit: number): Subscription {
    const sub = new Subscription(prefix, limit, (s) => this.#subs.delete(s));
    this.#subs.add(sub);
    return sub;
  }

  get size(): number {
    return this.#subs.size;
  }

  /** Fan out one committed batch (in revision order) to every matching watcher. */
  publish(events: WatchEvent[]): void {
    if (events.length === 0) return;
    for (const sub of [...this.#subs]) {
      const prefix = sub.prefix;
      const mine = prefix === '' ? events : events.filter((e) => e.kv.key.startsWith(prefix));
      if (mine.length > 0) sub.push(mine);
    }
  }

  closeAll(): void {
    for (const sub of [...this.#subs]) sub.close();
  }
}
