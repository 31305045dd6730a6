// What a proxy thread needs to route: the routing table, the endpoints of
// every backend it names, and the TLS certificates, as one structured-clone
// friendly value. The controller (main thread) makes one after every change;
// worker threads route by the latest they received.
import type { Endpoint } from './backends.ts';
import type { BackendRef, RoutingTable } from './match.ts';
import { routeRequest } from './match.ts';
import type { Target } from './proxy.ts';
import type { TlsSnapshot } from './tls.ts';

export type ProxySnapshot = {
  /** False until the first lists are in (requests get 503). */
  ready: boolean;
  table: RoutingTable;
  /** backendKey → endpoints. */
  endpoints: Map<string, Endpoint[]>;
  tls: TlsSnapshot;
};

export function backendKey(ref: BackendRef): string {
  return `${ref.namespace}/${ref.service}/${ref.port}`;
}

/** Every backend a table can send to. */
export function tableBackends(table: RoutingTable): BackendRef[] {
  const refs = new Map<string, BackendRef>();
  const add = (ref: BackendRef | undefined) => {
    if (ref) refs.set(backendKey(ref), ref);
  };
  add(table.defaultBackend);
  for (const entry of [table.any, ...table.exact.values(), ...table.wildcard.values()]) {
    add(entry.fallback);
    for (const route of entry.routes) add(route.backend);
  }
  return [...refs.values()];
}

/** A pick function over the current snapshot, round robin per backend. */
export function snapshotRouter(): { pick(host: string | undefined, url: string | undefined): Target; load(s: ProxySnapshot): void } {
  let snapshot: ProxySnapshot | undefined;
  const counters = new Map<string, number>();
  return {
    load(s) {
      snapshot = s;
    },
    pick(host, url) {
      if (!snapshot?.ready) return { status: 503 };
      const route = routeRequest(snapshot.table, host, url);
      if (!route) return { status: 404 };
      const key = backendKey(route.backend);
      const endpoints = snapshot.endpoints.get(key);
      if (!endpoints || endpoints.length === 0) return { status: 503 };
      const n = counters.get(key) ?? Math.floor(Math.random() * endpoints.length);
      counters.set(key, (n + 1) % endpoints.length);
      return { endpoint: endpoints[n % endpoints.length] };
    },
  };
}
