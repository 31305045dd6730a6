// A persistent allocator over a numbered range (Service IPs, node ports):
// one store key per allocated item, so an allocation is an atomic create and
// survives restarts (Kubernetes 1.31's IPAddress objects, one per address).
// Dynamic picks are random in the upper part of the range; the lower band is
// kept for static requests, as Kubernetes' allocators do.
import { randomInt, randomUUID } from 'node:crypto';
import type { KubeObject } from '../../api/types.ts';
import { KeyExistsError, KeyNotFoundError, RevisionMismatchError, type Store } from '../../store/types.ts';

/** Random tries before the allocator reads the whole range to find a free item. */
const RANDOM_TRIES = 8;

/** The Service holding an item (IPAddress.spec.parentRef). */
export type Owner = { namespace: string; name: string };

export type Allocation = { item: string; owner: Owner; createdMs: number; modRevision: number };

export type RangeSpec = {
  /** Store prefix for one key per item, ending in '/'. */
  prefix: string;
  /** Items in the range; offsets run 0..size-1. */
  size: number;
  /** Offsets below this are preferred for static requests (dynamic picks avoid them until the rest is full). */
  staticBand: number;
  itemAt(offset: number): string;
  /** The offset of an item, or undefined when it is not in the range (or not well-formed). */
  offsetOf(item: string): number | undefined;
  /** The stored record of an allocation. */
  record(item: string, owner: Owner, now: Date): KubeObject;
  /** The range as messages show it ("10.96.0.0/12", "30000-32767"). */
  text: string;
};

export type AllocFailure = 'allocated' | 'notInRange' | 'full';

export class AllocationError extends Error {
  readonly kind: AllocFailure;
  constructor(kind: AllocFailure, message: string) {
    super(message);
    this.kind = kind;
  }
}

/**
 * Whether a held item is stale: its owner no longer uses it. Decided by the
 * caller (it knows the Services); only stale items are taken over.
 */
export type StaleCheck = (allocation: Allocation) => Promise<boolean>;

export type RangeAllocatorOptions = {
  store: Store;
  spec: RangeSpec;
  /** Messages for the three failures, in the wording of Kubernetes' allocator. */
  messages: { allocated: string; notInRange: (item: string) => string; full: string };
  isStale?: StaleCheck;
  now?: () => Date;
};

export function sameOwner(a: Owner, b: Owner): boolean {
  return a.namespace === b.namespace && a.name === b.name;
}

function ownerOf(value: string): Owner {
  const ref = (JSON.parse(value) as KubeObject).spec?.parentRef ?? {};
  return { namespace: ref.namespace ?? '', name: ref.name ?? '' };
}

export class RangeAllocator {
  #store: Store;
  #spec: RangeSpec;
  #messages: RangeAllocatorOptions['messages'];
  #isStale: StaleCheck;
  #now: () => Date;

  constructor(options: RangeAllocatorOptions) {
    this.#store = options.store;
    this.#spec = options.spec;
    this.#messages = options.messages;
    this.#isStale = options.isStale ?? (async () => false);
    this.#now = options.now ?? (() => new Date());
  }

  get spec(): RangeSpec {
    return this.#spec;
  }

  contains(item: string): boolean {
    return this.#spec.offsetOf(item) !== undefined;
  }

  #key(item: string): string {
    return `${this.#spec.prefix}${item}`;
  }

  async holder(item: string): Promise<Allocation | undefined> {
    const kv = await this.#store.get(this.#key(item));
    if (!kv) return undefined;
    return this.#allocationOf(item, kv.value, kv.modRevision);
  }

  #allocationOf(item: string, value: string, modRevision: number): Allocation {
    const created = Date.parse((JSON.parse(value) as KubeObject).metadata?.creationTimestamp ?? '');
    return { item, owner: ownerOf(value), createdMs: Number.isNaN(created) ? 0 : created, modRevision };
  }

  /**
   * Reserves a requested item for owner. Already held by the same owner is
   * fine (a retried write); held by another is AllocationError 'allocated',
   * unless that holding is stale, in which case it is taken over.
   */
  async allocate(item: string, owner: Owner, options: { dryRun?: boolean } = {}): Promise<void> {
    if (this.#spec.offsetOf(item) === undefined) throw new AllocationError('notInRange', this.#messages.notInRange(item));
    for (let attempt = 0; attempt < 2; attempt++) {
      const held = await this.holder(item);
      if (held && sameOwner(held.owner, owner)) return;
      if (held && !(await this.#isStale(held))) throw new AllocationError('allocated', this.#messages.allocated);
      if (options.dryRun) return;
      if (held && !(await this.#deleteIf(item, held.modRevision))) continue;
      if (await this.#tryCreate(item, owner)) return;
    }
    throw new AllocationError('allocated', this.#messages.allocated);
  }

  /** Picks and reserves a free item: random in the dynamic band, else anywhere free. */
  async allocateNext(owner: Owner, options: { dryRun?: boolean } = {}): Promise<string> {
    const { size, staticBand } = this.#spec;
    const dynamic = size - staticBand;
    for (let i = 0; i < RANDOM_TRIES && dynamic > 0; i++) {
      const item = this.#spec.itemAt(staticBand + randomInt(dynamic));
      if (options.dryRun) {
        if (!(await this.holder(item))) return item;
      } else if (await this.#tryCreate(item, owner)) {
        return item;
      }
    }
    // Crowded: read what is taken and walk from a random start, dynamic band first.
    const used = new Set((await this.list()).map((a) => a.item));
    const order = [...walk(staticBand, size), ...walk(0, staticBand)];
    for (const offset of order) {
      const item = this.#spec.itemAt(offset);
      if (used.has(item)) continue;
      if (options.dryRun || (await this.#tryCreate(item, owner))) return item;
    }
    throw new AllocationError('full', this.#messages.full);
  }

  /** Frees an item if owner (when given) still holds it; true when it was freed. */
  async release(item: string, owner?: Owner): Promise<boolean> {
    const held = await this.holder(item);
    if (!held || (owner && !sameOwner(held.owner, owner))) return false;
    return this.#deleteIf(item, held.modRevision);
  }

  /** Every allocation in the store. */
  async list(): Promise<Allocation[]> {
    const out: Allocation[] = [];
    let startAfter: string | undefined;
    for (;;) {
      const page = await this.#store.list(this.#spec.prefix, { startAfter, limit: 1000 });
      for (const kv of page.items) out.push(this.#allocationOf(kv.key.slice(this.#spec.prefix.length), kv.value, kv.modRevision));
      if (page.remaining === 0 || page.items.length === 0) return out;
      startAfter = page.items[page.items.length - 1].key;
    }
  }

  async #tryCreate(item: string, owner: Owner): Promise<boolean> {
    try {
      await this.#store.create(this.#key(item), JSON.stringify(this.#spec.record(item, owner, this.#now())));
      return true;
    } catch (err) {
      if (err instanceof KeyExistsError) return false;
      throw err;
    }
  }

  async #deleteIf(item: string, modRevision: number): Promise<boolean> {
    try {
      await this.#store.delete(this.#key(item), modRevision);
      return true;
    } catch (err) {
      if (err instanceof KeyNotFoundError || err instanceof RevisionMismatchError) return false;
      throw err;
    }
  }
}

/** Offsets from..to-1, starting at a random one and wrapping around. */
function* walk(from: number, to: number): Generator<number> {
  const n = to - from;
  if (n <= 0) return;
  const start = randomInt(n);
  for (let i = 0; i < n; i++) yield from + ((start + i) % n);
}

/** metadata for an allocation record: a name, a uid and the creation time. */
export function recordMeta(name: string, now: Date, labels: Record<string, string>): KubeObject['metadata'] {
  return { name, uid: randomUUID(), creationTimestamp: now.toISOString().replace(/\.\d{3}Z$/, 'Z'), labels };
}
