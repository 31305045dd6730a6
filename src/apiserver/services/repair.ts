// Keeping allocations and Services in step. Admission reserves before the
// Service is written, so a failed write or a crash can leave a reservation
// nobody uses, and a deleted Service leaves its own behind. The release
// watcher frees what a Service stops using as soon as the store says so; the
// repair loop (at start, then periodically, like Kubernetes' repair
// controllers) re-reserves what existing Services use and frees leaks.
import type { KubeObject } from '../../api/types.ts';
import type { Logger } from '../../lib/log.ts';
import type { Store, WatchEvent } from '../../store/types.ts';
import { type Allocation, type Owner, type RangeAllocator, sameOwner } from './range-allocator.ts';
import { type ServiceAllocators, serviceItems } from './service-admission.ts';

/**
 * A reservation nobody uses is left alone this long: a create or update may
 * be between its admission and its write. Writes take milliseconds; this
 * leaves ample room for a slow disk.
 */
export const LEAK_GRACE_MS = 30_000;
/** How often the repair loop runs after the first pass (Kubernetes' repair interval is 3 minutes). */
export const REPAIR_INTERVAL_MS = 180_000;
/** Pause before re-watching after the store ended a watch with an error. */
const REWATCH_DELAY_MS = 1000;

type Kind = 'ips' | 'ports';

export type RepairDeps = {
  store: Store;
  allocators: ServiceAllocators;
  /** Store prefix of Service objects, e.g. /registry/core/services/. */
  servicesPrefix: string;
  log: Logger;
  now?: () => Date;
  leakGraceMs?: number;
};

export type RepairResult = { reserved: string[]; freed: string[]; conflicts: string[] };

function ownerOf(svc: KubeObject): Owner {
  return { namespace: svc.metadata.namespace ?? '', name: svc.metadata.name ?? '' };
}

async function listServices(store: Store, prefix: string): Promise<KubeObject[]> {
  const out: KubeObject[] = [];
  let startAfter: string | undefined;
  for (;;) {
    const page = await store.list(prefix, { startAfter, limit: 500 });
    for (const kv of page.items) out.push(JSON.parse(kv.value) as KubeObject);
    if (page.remaining === 0 || page.items.length === 0) return out;
    startAfter = page.items[page.items.length - 1].key;
  }
}

async function serviceAt(deps: RepairDeps, owner: Owner): Promise<KubeObject | undefined> {
  const kv = await deps.store.get(`${deps.servicesPrefix}${owner.namespace}/${owner.name}`);
  return kv ? (JSON.parse(kv.value) as KubeObject) : undefined;
}

/**
 * For the allocators' conflict path: a reservation is stale when its Service
 * no longer uses the item and the grace period has passed.
 */
export function staleCheck(deps: Omit<RepairDeps, 'allocators'>, kind: Kind) {
  const now = deps.now ?? (() => new Date());
  const grace = deps.leakGraceMs ?? LEAK_GRACE_MS;
  return async (allocation: Allocation): Promise<boolean> => {
    if (now().getTime() - allocation.createdMs < grace) return false;
    const svc = await serviceAt(deps as RepairDeps, allocation.owner);
    return !serviceItems(svc)[kind].includes(allocation.item);
  };
}

/** One repair pass over both allocators. */
export async function repairAllocations(deps: RepairDeps): Promise<RepairResult> {
  const now = (deps.now ?? (() => new Date()))().getTime();
  const grace = deps.leakGraceMs ?? LEAK_GRACE_MS;
  const result: RepairResult = { reserved: [], freed: [], conflicts: [] };
  const services = await listServices(deps.store, deps.servicesPrefix);
  for (const kind of ['ips', 'ports'] as const) {
    const allocator: RangeAllocator = kind === 'ips' ? deps.allocators.ips : deps.allocators.ports;
    const wanted = new Map<string, Owner>();
    for (const svc of services) {
      const owner = ownerOf(svc);
      for (const item of serviceItems(svc)[kind]) {
        if (!allocator.contains(item)) {
          deps.log.warn('service uses an address or port outside the configured range', { service: `${owner.namespace}/${owner.name}`, item, range: allocator.spec.text });
          continue;
        }
        const first = wanted.get(item);
        if (first && !sameOwner(first, owner)) {
          result.conflicts.push(item);
          deps.log.warn('two services use the same address or port', { item, services: [`${first.namespace}/${first.name}`, `${owner.namespace}/${owner.name}`] });
          continue;
        }
        const held = await allocator.holder(item);
        if (held && !sameOwner(held.owner, owner)) {
          // The holder's claim stands if its own Service uses the item (two Services clash) or it may be in flight.
          const holderUses = serviceItems(await serviceAt(deps, held.owner))[kind].includes(item);
          if (holderUses || now - held.createdMs < grace) {
            wanted.set(item, held.owner);
            if (holderUses) {
              result.conflicts.push(item);
              deps.log.warn('two services use the same address or port', { item, services: [`${held.owner.namespace}/${held.owner.name}`, `${owner.namespace}/${owner.name}`] });
            }
            continue;
          }
          await allocator.release(item, held.owner);
        }
        wanted.set(item, owner);
        if (held && sameOwner(held.owner, owner)) continue;
        try {
          await allocator.allocate(item, owner);
          result.reserved.push(item);
        } catch (err) {
          deps.log.warn('could not re-reserve a service allocation', { item, service: `${owner.namespace}/${owner.name}`, err });
        }
      }
    }
    for (const allocation of await allocator.list()) {
      const user = wanted.get(allocation.item);
      if (user && sameOwner(user, allocation.owner)) continue;
      if (now - allocation.createdMs < grace) continue;
      if (await allocator.release(allocation.item, allocation.owner)) result.freed.push(allocation.item);
    }
  }
  if (result.reserved.length || result.freed.length) deps.log.info('repaired service allocations', { reserved: result.reserved, freed: result.freed });
  return result;
}

/** Items a change to one Service stopped using. */
export function releasedBy(event: WatchEvent): { owner: Owner; ips: string[]; ports: string[] } | undefined {
  const before = event.type === 'delete' ? event.kv : event.prev;
  if (!before) return undefined;
  const was = JSON.parse(before.value) as KubeObject;
  const is = event.type === 'delete' ? undefined : (JSON.parse(event.kv.value) as KubeObject);
  const a = serviceItems(was);
  const b = serviceItems(is);
  const ips = a.ips.filter((ip) => !b.ips.includes(ip));
  const ports = a.ports.filter((p) => !b.ports.includes(p));
  return ips.length || ports.length ? { owner: ownerOf(was), ips, ports } : undefined;
}

/** Frees what deleted or changed Services no longer use, until the signal aborts. */
export async function watchReleases(deps: RepairDeps & { signal: AbortSignal }): Promise<void> {
  const { store, signal, log } = deps;
  while (!signal.aborted) {
    try {
      const from = await store.currentRevision();
      for await (const batch of store.watch(deps.servicesPrefix, { afterRevision: from, signal })) {
        for (const event of batch) {
          const gone = releasedBy(event);
          if (!gone) continue;
          // Read the Service again: a later write may use the item once more.
          const current = serviceItems(await serviceAt(deps, gone.owner));
          for (const ip of gone.ips) if (!current.ips.includes(ip)) await deps.allocators.ips.release(ip, gone.owner);
          for (const port of gone.ports) if (!current.ports.includes(port)) await deps.allocators.ports.release(port, gone.owner);
        }
      }
    } catch (err) {
      if (signal.aborted) return;
      log.warn('service release watch ended; the repair loop covers the gap', { err });
    }
    await delay(REWATCH_DELAY_MS, signal);
  }
}

/** Runs a repair pass every interval until the signal aborts. */
export async function repairPeriodically(deps: RepairDeps & { signal: AbortSignal; intervalMs?: number }): Promise<void> {
  while (!deps.signal.aborted) {
    await delay(deps.intervalMs ?? REPAIR_INTERVAL_MS, deps.signal);
    if (deps.signal.aborted) return;
    await repairAllocations(deps).catch((err) => deps.log.warn('service allocation repair failed', { err }));
  }
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    timer.unref?.();
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
