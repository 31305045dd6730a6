// Ingress backends: a Service port resolved straight to its endpoints from
// EndpointSlices (no Service VIP hop, as ingress-nginx and Traefik do), and a
// round-robin pool over them that follows Service and slice changes.
import type { KubeObject } from '../../api/types.ts';
import type { BackendRef } from './match.ts';

export type Endpoint = { address: string; port: number };

// biome-ignore lint/suspicious/noExplicitAny: Service and slice specs are plain JSON
type Json = any;

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/**
 * The endpoints behind a Service port (by number or name): ready endpoints of
 * every IP slice; when none is ready, the serving-but-terminating ones
 * (kube-proxy's fallback, so draining pods still answer). Only the first
 * address of an endpoint counts (the EndpointSlice contract).
 */
export function resolveEndpoints(
  service: KubeObject | undefined,
  slices: Iterable<KubeObject>,
  port: number | string,
): Endpoint[] {
  if (!service) return [];
  const svcPort = ((service.spec?.ports ?? []) as Json[]).find((p) =>
    typeof port === 'number' ? p.port === port : p.name === port,
  );
  if (!svcPort || (svcPort.protocol ?? 'TCP') !== 'TCP') return [];
  const portName: string = svcPort.name ?? '';
  const ready: Endpoint[] = [];
  const terminating: Endpoint[] = [];
  const seen = new Set<string>();
  for (const slice of slices) {
    const type = (slice as Json).addressType;
    if (type !== 'IPv4' && type !== 'IPv6') continue;
    const slicePort = ((slice as Json).ports ?? []).find(
      (p: Json) => (p.name ?? '') === portName && (p.protocol ?? 'TCP') === 'TCP',
    );
    if (!slicePort?.port) continue;
    for (const ep of ((slice as Json).endpoints ?? []) as Json[]) {
      const address: string | undefined = ep.addresses?.[0];
      if (!address) continue;
      const key = `${address}|${slicePort.port}`;
      if (seen.has(key)) continue;
      const c = ep.conditions ?? {};
      // A nil ready condition means ready (EndpointSlice API).
      if (c.ready !== false) {
        seen.add(key);
        ready.push({ address, port: slicePort.port });
      } else if (c.serving === true && c.terminating === true) {
        seen.add(key);
        terminating.push({ address, port: slicePort.port });
      }
    }
  }
  return ready.length > 0 ? ready : terminating;
}

function serviceKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** The Service a slice belongs to (namespace/name), from its service-name label. */
export function sliceService(slice: KubeObject): string | undefined {
  const name = slice.metadata.labels?.[SERVICE_NAME_LABEL];
  return name ? serviceKey(slice.metadata.namespace ?? 'default', name) : undefined;
}

type Pool = { endpoints: Endpoint[]; next: number };

/**
 * Services and their slices, indexed by Service, with resolved endpoint lists
 * cached per backend until the Service or one of its slices changes.
 */
export class BackendPools {
  #services = new Map<string, KubeObject>();
  #slices = new Map<string, Map<string, KubeObject>>();
  /** service key → (port → pool) */
  #pools = new Map<string, Map<number | string, Pool>>();

  upsertService(svc: KubeObject): void {
    const key = serviceKey(svc.metadata.namespace ?? 'default', svc.metadata.name ?? '');
    this.#services.set(key, svc);
    this.#pools.delete(key);
  }

  deleteService(svc: KubeObject): void {
    const key = serviceKey(svc.metadata.namespace ?? 'default', svc.metadata.name ?? '');
    this.#services.delete(key);
    this.#pools.delete(key);
  }

  upsertSlice(slice: KubeObject, old?: KubeObject): void {
    if (old) this.deleteSlice(old);
    const key = sliceService(slice);
    if (!key) return;
    let slices = this.#slices.get(key);
    if (!slices) {
      slices = new Map();
      this.#slices.set(key, slices);
    }
    slices.set(slice.metadata.name ?? '', slice);
    this.#pools.delete(key);
  }

  deleteSlice(slice: KubeObject): void {
    const key = sliceService(slice);
    if (!key) return;
    const slices = this.#slices.get(key);
    slices?.delete(slice.metadata.name ?? '');
    if (slices?.size === 0) this.#slices.delete(key);
    this.#pools.delete(key);
  }

  /** The current endpoints of a backend. */
  endpoints(ref: BackendRef): Endpoint[] {
    return this.#pool(ref).endpoints;
  }

  /** The next endpoint of a backend in round-robin order, or undefined when it has none. */
  pick(ref: BackendRef): Endpoint | undefined {
    const pool = this.#pool(ref);
    const n = pool.endpoints.length;
    if (n === 0) return undefined;
    const ep = pool.endpoints[pool.next % n];
    pool.next = (pool.next + 1) % n;
    return ep;
  }

  #pool(ref: BackendRef): Pool {
    const key = serviceKey(ref.namespace, ref.service);
    let byPort = this.#pools.get(key);
    if (!byPort) {
      byPort = new Map();
      this.#pools.set(key, byPort);
    }
    let pool = byPort.get(ref.port);
    if (!pool) {
      const endpoints = resolveEndpoints(this.#services.get(key), this.#slices.get(key)?.values() ?? [], ref.port);
      // Start each new pool at a random place so restarts and updates do not all hit the first endpoint.
      pool = { endpoints, next: endpoints.length ? Math.floor(Math.random() * endpoints.length) : 0 };
      byPort.set(ref.port, pool);
    }
    return pool;
  }
}
