// Expectations (controller.ControllerExpectations, by pod name): after a pass
// creates or deletes pods, the owner makes no further pod changes until the
// informer cache shows them, so a lagging cache never causes a second pod
// for the same node. Entries expire in case a watch event is lost.
import type { KubeObject } from '../api/types.ts';

/** How long to trust our own writes over the cache (Kubernetes: ExpectationsTimeout, 5 min; ours is a local API). */
export const EXPECTATIONS_TIMEOUT_MS = 30_000;

type Pending = { creates: Set<string>; deletes: Set<string>; expires: number };

export class Expectations {
  #pending = new Map<string, Pending>();
  #timeoutMs: number;

  constructor(options: { timeoutMs?: number } = {}) {
    this.#timeoutMs = options.timeoutMs ?? EXPECTATIONS_TIMEOUT_MS;
  }

  /** Remembers what a pass of `owner` did (pod keys namespace/name). */
  expect(owner: string, writes: { created?: string[]; deleted?: string[] }, now = Date.now()): void {
    if (!writes.created?.length && !writes.deleted?.length) return;
    const entry = this.#pending.get(owner) ?? { creates: new Set(), deletes: new Set(), expires: 0 };
    for (const k of writes.created ?? []) entry.creates.add(k);
    for (const k of writes.deleted ?? []) entry.deletes.add(k);
    entry.expires = now + this.#timeoutMs;
    this.#pending.set(owner, entry);
  }

  /** True once the cache shows every create and every delete (gone or terminating), or the entry expired. */
  satisfied(owner: string, lookup: (key: string) => KubeObject | undefined, now = Date.now()): boolean {
    const entry = this.#pending.get(owner);
    if (!entry) return true;
    for (const k of entry.creates) if (lookup(k)) entry.creates.delete(k);
    for (const k of entry.deletes) {
      const obj = lookup(k);
      if (!obj || obj.metadata.deletionTimestamp) entry.deletes.delete(k);
    }
    if ((entry.creates.size === 0 && entry.deletes.size === 0) || now >= entry.expires) {
      this.#pending.delete(owner);
      return true;
    }
    return false;
  }

  forget(owner: string): void {
    this.#pending.delete(owner);
  }
}
