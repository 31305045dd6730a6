// Ingress routing as networking.k8s.io/v1 defines it, as pure functions: the
// served Ingresses compile into a table (hosts → ordered path routes), and a
// request's Host and path look a backend up in it.
//   - hosts: exact names beat `*.suffix` wildcards (one label deep), which beat
//     rules without a host;
//   - paths: Exact matches the whole path; Prefix matches element-wise (/foo
//     matches /foo and /foo/bar, not /foobar; a trailing slash in the rule is
//     ignored); ImplementationSpecific is treated as Prefix; the longest path
//     wins and, at equal length, Exact beats Prefix;
//   - several Ingresses merge; where two define the same host, path and type,
//     the oldest (creationTimestamp, then namespace/name) wins, as
//     ingress-nginx does;
//   - a request whose path matches none of its exact host's routes tries the
//     wildcard host's, then the host-less ones (Traefik's behaviour, k3s'
//     default; rules for a host take precedence, they do not hide the rest);
//   - when nothing matched, the request goes to its most specific host's
//     fallback: the spec.defaultBackend of the oldest Ingress with rules for
//     that host, else the cluster-wide default backend (the oldest Ingress's
//     spec.defaultBackend), else nothing (404).
import type { KubeObject } from '../../api/types.ts';

/** A Service port, by number or by name, in a namespace. */
export type BackendRef = { namespace: string; service: string; port: number | string };

export type Route = {
  /** The rule's path; for prefixes without the trailing slash ('/' stays '/'). */
  path: string;
  exact: boolean;
  backend: BackendRef;
  /** namespace/name of the Ingress it came from. */
  ingress: string;
};

export type HostRoutes = { routes: Route[]; fallback?: BackendRef };

export type RoutingTable = {
  exact: Map<string, HostRoutes>;
  /** Keyed by the suffix after "*." (e.g. "foo.com" for "*.foo.com"). */
  wildcard: Map<string, HostRoutes>;
  /** Rules without a host. */
  any: HostRoutes;
  defaultBackend?: BackendRef;
};

// biome-ignore lint/suspicious/noExplicitAny: Ingress specs are plain JSON
type Json = any;

function backendOf(namespace: string, b: Json): BackendRef | undefined {
  const svc = b?.service;
  if (!svc?.name) return undefined; // resource backends are not served
  const port = svc.port?.number ?? svc.port?.name;
  if (port === undefined || port === '') return undefined;
  return { namespace, service: svc.name, port };
}

/** Oldest first (creationTimestamp, then namespace/name): the order in which conflicting rules are won. */
export function ingressOrder(a: KubeObject, b: KubeObject): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return ta < tb ? -1 : 1;
  const ka = `${a.metadata.namespace}/${a.metadata.name}`;
  const kb = `${b.metadata.namespace}/${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/** A Prefix rule's path without trailing slashes ("/" stays "/"). */
export function normalizePrefix(path: string): string {
  const trimmed = path.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

/** Precedence within a host: longer paths first, then Exact before Prefix. */
function routeOrder(a: Route, b: Route): number {
  if (a.path.length !== b.path.length) return b.path.length - a.path.length;
  return a.exact === b.exact ? 0 : a.exact ? -1 : 1;
}

/** Compiles the served Ingresses into a routing table. */
export function buildRoutingTable(ingresses: KubeObject[]): RoutingTable {
  const table: RoutingTable = { exact: new Map(), wildcard: new Map(), any: { routes: [] } };
  const seen = new Map<HostRoutes, Set<string>>();
  const hostRoutes = (host: string | undefined): HostRoutes => {
    if (!host) return table.any;
    const wild = host.startsWith('*.');
    const map = wild ? table.wildcard : table.exact;
    const key = (wild ? host.slice(2) : host).toLowerCase();
    let entry = map.get(key);
    if (!entry) {
      entry = { routes: [] };
      map.set(key, entry);
    }
    return entry;
  };
  for (const ing of [...ingresses].sort(ingressOrder)) {
    const namespace = ing.metadata.namespace ?? 'default';
    const id = `${namespace}/${ing.metadata.name}`;
    const own = backendOf(namespace, ing.spec?.defaultBackend);
    if (own && !table.defaultBackend) table.defaultBackend = own;
    for (const rule of (ing.spec?.rules ?? []) as Json[]) {
      const entry = hostRoutes(rule.host);
      if (own && !entry.fallback) entry.fallback = own;
      let keys = seen.get(entry);
      if (!keys) {
        keys = new Set();
        seen.set(entry, keys);
      }
      for (const p of (rule.http?.paths ?? []) as Json[]) {
        const backend = backendOf(namespace, p.backend);
        if (!backend) continue;
        const exact = p.pathType === 'Exact';
        const raw: string = p.path || '/';
        const path = exact ? raw : normalizePrefix(raw);
        const key = `${exact ? 'E' : 'P'}${path}`;
        if (keys.has(key)) continue; // an older Ingress already has it
        keys.add(key);
        entry.routes.push({ path, exact, backend, ingress: id });
      }
    }
  }
  const all = [table.any, ...table.exact.values(), ...table.wildcard.values()];
  for (const entry of all) entry.routes.sort(routeOrder);
  return table;
}

/** Whether a route matches a request path (no query string). */
export function routeMatches(route: Route, path: string): boolean {
  if (route.exact) return path === route.path;
  if (route.path === '/') return true;
  if (!path.startsWith(route.path)) return false;
  return path.length === route.path.length || path.charCodeAt(route.path.length) === 47; // '/'
}

/** The Host header's name part: lowercased, without port or trailing dot; IPv6 literals keep their brackets. */
export function hostName(header: string | undefined): string {
  if (!header) return '';
  let host = header;
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    host = end > 0 ? host.slice(0, end + 1) : host;
  } else {
    const colon = host.indexOf(':');
    if (colon >= 0) host = host.slice(0, colon);
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  return host.toLowerCase();
}

/** The path part of a request target: no query or fragment; absolute-form targets lose scheme and authority. */
export function requestPath(url: string | undefined): string {
  let target = url || '/';
  if (target.charCodeAt(0) !== 47) {
    const m = /^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i.exec(target);
    if (m) target = target.slice(m[0].length) || '/';
  }
  const q = target.search(/[?#]/);
  return q >= 0 ? target.slice(0, q) || '/' : target;
}

/** The host entries a request host falls in, most specific first: exact, wildcard (exactly one more label), host-less. */
export function hostEntries(table: RoutingTable, host: string): HostRoutes[] {
  const entries: HostRoutes[] = [];
  const exact = table.exact.get(host);
  if (exact) entries.push(exact);
  const dot = host.indexOf('.');
  if (dot > 0) {
    const wild = table.wildcard.get(host.slice(dot + 1));
    if (wild) entries.push(wild);
  }
  entries.push(table.any);
  return entries;
}

export type RouteResult = { backend: BackendRef; route?: Route } | undefined;

/** The backend for a request (Host header as sent, request target), or undefined for 404. */
export function routeRequest(
  table: RoutingTable,
  hostHeader: string | undefined,
  url: string | undefined,
): RouteResult {
  const entries = hostEntries(table, hostName(hostHeader));
  const path = requestPath(url);
  for (const entry of entries) {
    for (const route of entry.routes) if (routeMatches(route, path)) return { backend: route.backend, route };
  }
  const fallback = entries.find((e) => e.fallback)?.fallback ?? table.defaultBackend;
  return fallback ? { backend: fallback } : undefined;
}
