// Informer: lists a resource, then watches from the list's resourceVersion,
// keeping an in-memory cache (by namespace/name, indexed by namespace) and
// telling handlers about adds, updates and deletes. Lists again after 410 Gone
// or a failed watch; a watch the server ended normally resumes where it was.
import { matchesSelector, parseLabelSelector } from '../api/labels.ts';
import type { KubeObject } from '../api/types.ts';
import type { Logger } from '../lib/log.ts';
import type { Client, KubeList, ListOptions, ResourceRef, WatchOptions } from './client.ts';
import { GoneError, type WatchEvent } from './watch.ts';
import { sleep } from './sleep.ts';

/** Watches ask the server to end after about this long, so connections are refreshed (client-go: 5–10 min). */
export const WATCH_TIMEOUT_SECONDS = 300;
/** Pause after a failed list or watch before trying again, doubling up to the cap. */
const RETRY_BASE_MS = 200;
const RETRY_MAX_MS = 30_000;
/** A watch that ends sooner than this is treated like a failure, so a server that closes at once is not hammered. */
const QUICK_WATCH_END_MS = 1000;

export type ListWatcher = {
  list(options: ListOptions): Promise<KubeList>;
  watch(options: WatchOptions): AsyncIterable<WatchEvent>;
};

export function listWatcherFor(
  client: Client,
  ref: ResourceRef,
  options: { namespace?: string; labelSelector?: string; fieldSelector?: string; metadataOnly?: boolean } = {},
): ListWatcher {
  return {
    list: (o) => client.list(ref, { ...options, ...o }),
    watch: (o) => client.watch(ref, { ...options, ...o }),
  };
}

export type InformerHandlers<T extends KubeObject> = {
  onAdd?(obj: T): void;
  onUpdate?(oldObj: T, newObj: T): void;
  /** `obj` is the last state known (the deleted object, or the cached one when a re-list found it gone). */
  onDelete?(obj: T): void;
};

export type InformerOptions = {
  source: ListWatcher;
  signal: AbortSignal;
  log?: Logger;
  /** Items per list page; 0 lists in one response. */
  pageSize?: number;
};

export function keyOf(obj: KubeObject): string {
  const { namespace, name } = obj.metadata;
  return namespace ? `${namespace}/${name}` : (name ?? '');
}

export class Informer<T extends KubeObject = KubeObject> {
  #source: ListWatcher;
  #signal: AbortSignal;
  #log: Logger | undefined;
  #pageSize: number;
  #items = new Map<string, T>();
  #byNamespace = new Map<string, Set<string>>();
  #handlers: InformerHandlers<T>[] = [];
  #resourceVersion = '';
  #synced: Promise<void>;
  #markSynced!: () => void;
  #done: Promise<void> | undefined;

  constructor(options: InformerOptions) {
    this.#source = options.source;
    this.#signal = options.signal;
    this.#log = options.log;
    this.#pageSize = options.pageSize ?? 0;
    this.#synced = new Promise((resolve) => {
      this.#markSynced = resolve;
    });
  }

  /** Resolves once the first list is in the cache. */
  get hasSynced(): Promise<void> {
    return this.#synced;
  }

  /** Resolves true once synced, or false if the informer is stopped first. */
  waitForSync(): Promise<boolean> {
    if (this.#signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const stopped = () => resolve(false);
      this.#signal.addEventListener('abort', stopped, { once: true });
      void this.#synced.then(() => {
        this.#signal.removeEventListener('abort', stopped);
        resolve(true);
      });
    });
  }

  /** The resourceVersion the cache reflects. */
  get resourceVersion(): string {
    return this.#resourceVersion;
  }

  addHandlers(handlers: InformerHandlers<T>): void {
    this.#handlers.push(handlers);
    for (const obj of this.#items.values()) handlers.onAdd?.(obj);
  }

  get(key: string): T | undefined {
    return this.#items.get(key);
  }

  /** Cached objects, optionally only those in a namespace and/or matching a label selector ("app=web,tier!=db"). */
  list(options: { namespace?: string; labelSelector?: string } = {}): T[] {
    const keys = options.namespace !== undefined ? (this.#byNamespace.get(options.namespace) ?? new Set()) : this.#items.keys();
    const selector = options.labelSelector ? parseLabelSelector(options.labelSelector) : undefined;
    const out: T[] = [];
    for (const key of keys) {
      const obj = this.#items.get(key);
      if (obj && (!selector || matchesSelector(selector, obj.metadata.labels))) out.push(obj);
    }
    return out;
  }

  get size(): number {
    return this.#items.size;
  }

  /** Starts listing and watching until the signal aborts; resolves when stopped. */
  run(): Promise<void> {
    this.#done ??= this.#loop();
    return this.#done;
  }

  async #loop(): Promise<void> {
    let failures = 0;
    let needList = true;
    while (!this.#signal.aborted) {
      try {
        if (needList) {
          await this.#relist();
          needList = false;
        }
        const started = Date.now();
        await this.#watch();
        if (Date.now() - started >= QUICK_WATCH_END_MS) failures = 0;
        else await sleep(Math.min(RETRY_BASE_MS * 2 ** failures++, RETRY_MAX_MS), this.#signal);
      } catch (err) {
        if (this.#signal.aborted) break;
        needList = true;
        if (err instanceof GoneError) {
          this.#log?.debug('watch expired, listing again', { rv: this.#resourceVersion });
          continue;
        }
        const delay = Math.min(RETRY_BASE_MS * 2 ** failures, RETRY_MAX_MS);
        failures++;
        this.#log?.debug('list/watch failed, retrying', { err: (err as Error).message, delayMs: delay });
        await sleep(delay, this.#signal);
      }
    }
  }

  async #relist(): Promise<void> {
    const fresh = new Map<string, T>();
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.#source.list({ limit: this.#pageSize || undefined, continue: cont });
      for (const item of page.items as T[]) fresh.set(keyOf(item), item);
      cont = page.metadata.continue;
      rv = page.metadata.resourceVersion ?? rv;
    } while (cont);
    if (this.#signal.aborted) return;
    const old = this.#items;
    for (const [key, obj] of old) if (!fresh.has(key)) this.#remove(key, obj);
    for (const [key, obj] of fresh) {
      const before = old.get(key);
      if (!before) this.#put(key, obj, undefined);
      else if (before.metadata.resourceVersion !== obj.metadata.resourceVersion) this.#put(key, obj, before);
    }
    this.#resourceVersion = rv;
    this.#markSynced();
  }

  async #watch(): Promise<void> {
    const events = this.#source.watch({
      resourceVersion: this.#resourceVersion,
      timeoutSeconds: WATCH_TIMEOUT_SECONDS,
      allowWatchBookmarks: true,
      signal: this.#signal,
    });
    for await (const event of events) {
      if (this.#signal.aborted) return;
      const obj = event.object as T;
      const rv = obj.metadata?.resourceVersion;
      if (event.type !== 'BOOKMARK') {
        const key = keyOf(obj);
        if (event.type === 'DELETED') this.#remove(key, obj);
        else this.#put(key, obj, this.#items.get(key));
      }
      if (rv) this.#resourceVersion = rv;
    }
  }

  #put(key: string, obj: T, before: T | undefined): void {
    this.#items.set(key, obj);
    const ns = obj.metadata.namespace ?? '';
    const set = this.#byNamespace.get(ns) ?? new Set<string>();
    this.#byNamespace.set(ns, set);
    set.add(key);
    for (const h of this.#handlers) {
      if (before) h.onUpdate?.(before, obj);
      else h.onAdd?.(obj);
    }
  }

  #remove(key: string, obj: T): void {
    const known = this.#items.get(key);
    if (!known) return;
    this.#items.delete(key);
    const ns = known.metadata.namespace ?? '';
    const set = this.#byNamespace.get(ns);
    set?.delete(key);
    if (set?.size === 0) this.#byNamespace.delete(ns);
    for (const h of this.#handlers) h.onDelete?.(obj);
  }
}
