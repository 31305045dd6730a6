// Host-local IPAM (as CNI's host-local plugin): pod addresses from the node's
// podCIDR, persisted in <data-dir>/agent/ipam.json so they survive restarts.
// The network address, the gateway (first address, on the bridge) and the
// broadcast address are never handed out. Allocation goes round-robin from
// the last address given, so a just-freed address is reused last (stale
// conntrack entries and endpoints that still name it have time to go away).
import { mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Cidr, broadcastOf, cidrContains, formatIpv4, parseCidr, parseIpv4 } from '../../lib/ipv4.ts';

/** What ipam.json holds. */
export type IpamState = {
  /** The podCIDR these allocations come from. */
  cidr: string;
  /** The last address handed out, where the round-robin search resumes. */
  last?: string;
  /** Pod uid → address. */
  allocations: Record<string, string>;
};

export class IpamExhaustedError extends Error {
  constructor(cidr: string, usable: number) {
    super(`no free pod address in ${cidr}: all ${usable} usable addresses are allocated to pods on this node`);
    this.name = 'IpamExhaustedError';
  }
}

/** Blocks smaller than /30 leave no address for a pod once network, gateway and broadcast are taken. */
const SMALLEST_POD_PREFIX = 30;

export type PodRange = { cidr: Cidr; gateway: number; first: number; last: number };

/** The addresses pods may get: after the gateway, before the broadcast. */
export function podRange(cidrText: string): PodRange {
  const cidr = parseCidr(cidrText);
  if (cidr.prefix > SMALLEST_POD_PREFIX) throw new Error(`podCIDR ${cidrText} is too small: at most /${SMALLEST_POD_PREFIX}`);
  return { cidr, gateway: cidr.network + 1, first: cidr.network + 2, last: broadcastOf(cidr) - 1 };
}

/** Drops allocations that are not usable pod addresses of `cidr` (e.g. after the node's podCIDR changed). */
export function normalizeState(state: IpamState | undefined, cidrText: string): IpamState {
  const range = podRange(cidrText);
  const allocations: Record<string, string> = {};
  const taken = new Set<string>();
  for (const [uid, ip] of Object.entries(state?.allocations ?? {})) {
    let n: number;
    try {
      n = parseIpv4(ip);
    } catch {
      continue;
    }
    if (n < range.first || n > range.last || taken.has(ip)) continue;
    allocations[uid] = ip;
    taken.add(ip);
  }
  const last = state?.last && state.cidr === cidrText ? state.last : undefined;
  return { cidr: cidrText, ...(last ? { last } : {}), allocations };
}

/** The pod's address: the one it already has, else the next free one after `last`. Pure. */
export function allocate(state: IpamState, uid: string): { state: IpamState; ip: string } {
  const existing = state.allocations[uid];
  if (existing) return { state, ip: existing };
  const range = podRange(state.cidr);
  const used = new Set(Object.values(state.allocations));
  const size = range.last - range.first + 1;
  let start = range.first;
  if (state.last) {
    const last = parseIpv4(state.last);
    if (cidrContains(range.cidr, last) && last >= range.first && last < range.last) start = last + 1;
  }
  for (let i = 0; i < size; i++) {
    const candidate = formatIpv4(range.first + ((start - range.first + i) % size));
    if (used.has(candidate)) continue;
    return { state: { ...state, last: candidate, allocations: { ...state.allocations, [uid]: candidate } }, ip: candidate };
  }
  throw new IpamExhaustedError(state.cidr, size);
}

/** Frees the pod's address (no-op when it has none). Pure. */
export function release(state: IpamState, uid: string): IpamState {
  if (!(uid in state.allocations)) return state;
  const { [uid]: _freed, ...allocations } = state.allocations;
  return { ...state, allocations };
}

let tmpCounter = 0;

/** Writes via a temporary file, fsync and rename, so a crash leaves the old or the new file, never half of one. */
export async function writeFileAtomic(path: string, data: string, options: { mode?: number } = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${++tmpCounter}`;
  const file = await open(tmp, 'w', options.mode ?? 0o600);
  try {
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(tmp, path);
}

export type Allocation = { ip: string; gateway: string; prefixLength: number };

/**
 * The persisted allocator. Decisions are made one at a time in memory; the
 * file writes are group-committed: callers that change the state while a
 * write is in flight share the next write, so 50 pods starting together cost
 * a few fsyncs, not 50. A call resolves only once its change is on disk.
 */
export class HostLocalIpam {
  #path: string;
  #cidr: string;
  #state: IpamState | undefined;
  #tail: Promise<unknown> = Promise.resolve();
  /** The state changed since the last write started. */
  #dirty = false;
  #writing: Promise<void> | undefined;

  constructor(options: { path: string; podCidr: string }) {
    this.#path = options.path;
    this.#cidr = options.podCidr;
    podRange(options.podCidr); // fail early on an unusable range
  }

  /** The pod's address: the recorded one (idempotent after restarts) or a new one. */
  async assign(uid: string): Promise<Allocation> {
    const { ip, changed } = await this.#serial(async () => {
      const state = await this.#load();
      const next = allocate(state, uid);
      this.#state = next.state;
      return { ip: next.ip, changed: next.state !== state };
    });
    if (changed) await this.#persist();
    return this.#allocation(ip);
  }

  async release(uid: string): Promise<void> {
    const changed = await this.#serial(async () => {
      const state = await this.#load();
      this.#state = release(state, uid);
      return this.#state !== state;
    });
    if (changed) await this.#persist();
  }

  /** Current allocations, pod uid → address. */
  allocations(): Promise<Record<string, string>> {
    return this.#serial(async () => ({ ...(await this.#load()).allocations }));
  }

  #allocation(ip: string): Allocation {
    const range = podRange(this.#cidr);
    return { ip, gateway: formatIpv4(range.gateway), prefixLength: range.cidr.prefix };
  }

  async #load(): Promise<IpamState> {
    if (this.#state) return this.#state;
    let stored: IpamState | undefined;
    try {
      stored = JSON.parse(await readFile(this.#path, 'utf8')) as IpamState;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`reading ${this.#path}: ${(err as Error).message}`);
    }
    this.#state = normalizeState(stored, this.#cidr);
    return this.#state;
  }

  /** Resolves once a write that began after the caller's change has finished. */
  async #persist(): Promise<void> {
    this.#dirty = true;
    while (this.#dirty) {
      if (!this.#writing) {
        this.#dirty = false;
        const snapshot = this.#state;
        this.#writing = writeFileAtomic(this.#path, `${JSON.stringify(snapshot, null, 1)}\n`)
          .catch((err) => {
            this.#state = undefined; // memory may be ahead of the file: re-read it next time
            throw err;
          })
          .finally(() => {
            this.#writing = undefined;
          });
      }
      await this.#writing;
    }
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#tail.then(fn, fn);
    this.#tail = run.catch(() => {});
    return run;
  }
}
