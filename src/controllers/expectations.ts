// Expectations (client-go's ControllerExpectations): after an owner's pass
// creates or deletes pods, it makes no further pod changes until the informer
// has shown those creations and deletions, so a lagging cache never causes
// double work. Entries expire so a lost watch event cannot stall an owner.
//
// NOTE: reconstructed by the StatefulSet/DaemonSet helper after accidentally
// overwriting the ReplicaSet helper's uncommitted original; the API follows
// expectations.test.ts and replicaset.ts exactly.

/** How long expectations are trusted before the owner syncs anyway (client-go: ExpectationsTimeout, 5 min). */
export const EXPECTATIONS_TTL_MS = 5 * 60_000;

type Entry = { adds: number; dels: Set<string>; setAt: number };

export type ExpectationsOptions = { ttlMs?: number; now?: () => number };

export class Expectations {
  #entries = new Map<string, Entry>();
  #ttlMs: number;
  #now: () => number;

  constructor(options: ExpectationsOptions = {}) {
    this.#ttlMs = options.ttlMs ?? EXPECTATIONS_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  #entry(key: string): Entry {
    let e = this.#entries.get(key);
    if (!e) {
      e = { adds: 0, dels: new Set(), setAt: this.#now() };
      this.#entries.set(key, e);
    }
    return e;
  }

  /** The owner is about to create `count` pods. */
  expectCreations(key: string, count: number): void {
    const e = this.#entry(key);
    e.adds += count;
    e.setAt = this.#now();
  }

  /** The owner is about to delete these pods (namespace/name keys). */
  expectDeletions(key: string, podKeys: string[]): void {
    const e = this.#entry(key);
    for (const k of podKeys) e.dels.add(k);
    e.setAt = this.#now();
  }

  /** A creation was seen in the cache (or a create failed, so it never will be). */
  creationObserved(key: string): void {
    const e = this.#entries.get(key);
    if (e && e.adds > 0) e.adds--;
  }

  /** A deletion of podKey was seen; each expected pod counts once. */
  deletionObserved(key: string, podKey: string): void {
    const e = this.#entries.get(key);
    if (e) e.dels.delete(podKey);
  }

  /** Nothing pending, or the expectations expired. */
  satisfied(key: string): boolean {
    const e = this.#entries.get(key);
    if (!e) return true;
    if (e.adds <= 0 && e.dels.size === 0) return true;
    return this.#now() - e.setAt > this.#ttlMs;
  }

  pending(key: string): { adds: number; dels: number } | undefined {
    const e = this.#entries.get(key);
    return e ? { adds: e.adds, dels: e.dels.size } : undefined;
  }

  /** Forgets the owner (it was deleted). */
  delete(key: string): void {
    this.#entries.delete(key);
  }
}
