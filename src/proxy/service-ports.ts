// The proxy's view of the cluster: one ServicePort per (Service, port) with
// the endpoints traffic may go to, computed from Services and EndpointSlices
// the way kube-proxy does (ready endpoints; serving-terminating ones only when
// none is ready; local subsets for the Local traffic policies). Pure.
import type { KubeObject } from '../api/types.ts';
import { cidrContains, formatIpv4 } from '../lib/ipv4.ts';

/** EndpointSlices name their Service with this label. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Kubernetes' default ClientIP affinity timeout (3 hours), used when the Service gives none. */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10_800;
/** The legacy form of spec.loadBalancerSourceRanges (comma-separated), read when the field is empty. */
export const LB_SOURCE_RANGES_ANNOTATION = 'service.beta.kubernetes.io/load-balancer-source-ranges';

export type Protocol = 'tcp' | 'udp' | 'sctp';

export type Endpoint = {
  ip: string;
  port: number;
  nodeName?: string;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
};

export type ServicePort = {
  /** kube-proxy's ServicePortName: "<namespace>/<name>/<protocol>/<port name>". */
  key: string;
  namespace: string;
  name: string;
  portName: string;
  protocol: Protocol;
  /** ClusterIP (absent for headless Services, which get no VIP). */
  clusterIp?: string;
  port: number;
  nodePort?: number;
  /** spec.externalIPs and status.loadBalancer.ingress IPs: served like NodePorts. */
  externalIps: string[];
  /** The status.loadBalancer.ingress IPs (also in externalIps): the only addresses sourceRanges guard. */
  loadBalancerIps: string[];
  /**
   * spec.loadBalancerSourceRanges (else the legacy annotation) as canonical
   * IPv4 CIDRs, ranges inside another dropped; empty = every source allowed.
   * IPv6 ranges are left out (the proxy is IPv4-only; kube-proxy's IPv4
   * proxier filters by family the same way).
   */
  sourceRanges: string[];
  /** Set when sessionAffinity is ClientIP. */
  affinitySeconds?: number;
  internalLocal: boolean;
  externalLocal: boolean;
  /** Endpoints for Cluster policies (ready ones, else serving-terminating ones). */
  clusterEndpoints: Endpoint[];
  /** The subset on this node for Local policies (same fallback among local ones). */
  localEndpoints: Endpoint[];
  /** Whether the Service has any endpoint at all for this port (no endpoints → reject; none usable locally → drop). */
  hasEndpoints: boolean;
};

type SpecPort = { name?: string; protocol?: string; port?: number; nodePort?: number };
type SliceEndpoint = {
  addresses?: string[];
  nodeName?: string;
  conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
};
type SlicePort = { name?: string | null; port?: number | null; protocol?: string | null };

const IPV4 = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

const SLOPPY_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/**
 * An IPv4 CIDR as the API accepts it (Go's ParseCIDRSloppy: leading zeros
 * read as decimal, host bits allowed) in canonical network/prefix form, or
 * undefined for anything else (IPv6 included).
 */
export function canonicalIpv4Cidr(text: string): string | undefined {
  const m = SLOPPY_CIDR.exec(text.trim());
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const ip = octets.reduce((n, o) => n * 256 + o, 0);
  const network = prefix === 0 ? 0 : (ip & ((0xffffffff << (32 - prefix)) >>> 0)) >>> 0;
  return `${formatIpv4(network)}/${prefix}`;
}

/** Parses a canonical "a.b.c.d/p" back into lib/ipv4's shape. */
export function cidrOf(canonical: string): { network: number; prefix: number } {
  const [addr, prefix] = canonical.split('/');
  return { network: addr.split('.').reduce((n, o) => n * 256 + Number(o), 0), prefix: Number(prefix) };
}

/** Whether an IPv4 address lies in any of the canonical CIDRs. */
export function inRanges(ip: string, ranges: string[]): boolean {
  if (!IPV4.test(ip)) return false;
  const n = ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
  return ranges.some((r) => cidrContains(cidrOf(r), n));
}

/**
 * The Service's IPv4 source ranges: spec.loadBalancerSourceRanges (entries
 * trimmed, as Kubernetes tolerates padding), else the comma-separated legacy
 * annotation. Canonical, deduplicated, ranges covered by another dropped
 * (any two CIDRs either nest or are disjoint), sorted.
 */
export function loadBalancerSourceRanges(svc: KubeObject): string[] {
  const field = (svc.spec as { loadBalancerSourceRanges?: unknown } | undefined)?.loadBalancerSourceRanges;
  const listed = Array.isArray(field) ? field.filter((r): r is string => typeof r === 'string') : [];
  const raw = listed.length > 0 ? listed : (svc.metadata.annotations?.[LB_SOURCE_RANGES_ANNOTATION] ?? '').split(',');
  const cidrs = [...new Set(raw.map(canonicalIpv4Cidr).filter((c): c is string => c !== undefined))];
  const kept = cidrs.filter(
    (c) =>
      !cidrs.some((other) => {
        if (other === c) return false;
        const a = cidrOf(c);
        const b = cidrOf(other);
        return b.prefix < a.prefix && cidrContains(b, a.network);
      }),
  );
  return kept.sort((a, b) => {
    const ca = cidrOf(a);
    const cb = cidrOf(b);
    return ca.network === cb.network ? ca.prefix - cb.prefix : ca.network - cb.network;
  });
}

/** Ready ones; if none, those serving while terminating (kube-proxy's fallback so rolling updates drop nothing). */
export function usableEndpoints(all: Endpoint[]): Endpoint[] {
  const ready = all.filter((e) => e.ready);
  return ready.length > 0 ? ready : all.filter((e) => e.serving && e.terminating);
}

/** Endpoints of one Service port, deduplicated by ip:port, across the Service's slices. */
function endpointsFor(slices: KubeObject[], portName: string, protocol: Protocol): Endpoint[] {
  const out = new Map<string, Endpoint>();
  for (const slice of slices) {
    if ((slice.addressType as string | undefined) !== 'IPv4') continue;
    const port = ((slice.ports as SlicePort[] | undefined) ?? []).find(
      (p) => (p.name ?? '') === portName && (p.protocol ?? 'TCP').toLowerCase() === protocol,
    );
    if (!port?.port) continue;
    for (const e of (slice.endpoints as SliceEndpoint[] | undefined) ?? []) {
      const ip = e.addresses?.[0];
      if (!ip || !IPV4.test(ip)) continue;
      // Unset conditions mean ready (the EndpointSlice API's rule); serving defaults to ready.
      const ready = e.conditions?.ready ?? true;
      const endpoint: Endpoint = {
        ip,
        port: port.port,
        nodeName: e.nodeName,
        ready,
        serving: e.conditions?.serving ?? ready,
        terminating: e.conditions?.terminating ?? false,
      };
      const key = `${ip}:${port.port}`;
      const known = out.get(key);
      // The same address in two slices (a move between slices): the readier copy wins.
      if (!known || (endpoint.ready && !known.ready)) out.set(key, endpoint);
    }
  }
  return [...out.values()].sort((a, b) => (a.ip === b.ip ? a.port - b.port : compareIp(a.ip, b.ip)));
}

function compareIp(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
  return 0;
}

/** Groups slices by "<namespace>/<service name>". */
export function slicesByService(slices: KubeObject[]): Map<string, KubeObject[]> {
  const out = new Map<string, KubeObject[]>();
  for (const slice of slices) {
    const svc = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (!svc) continue;
    const key = `${slice.metadata.namespace}/${svc}`;
    const list = out.get(key);
    if (list) list.push(slice);
    else out.set(key, [slice]);
  }
  return out;
}

/** The ServicePorts of one Service (none for ExternalName or non-IPv4 Services). */
export function servicePortsOf(svc: KubeObject, slices: KubeObject[], nodeName: string): ServicePort[] {
  const spec = (svc.spec ?? {}) as Record<string, unknown>;
  const type = (spec.type as string | undefined) ?? 'ClusterIP';
  if (type === 'ExternalName') return [];
  const clusterIp = typeof spec.clusterIP === 'string' && IPV4.test(spec.clusterIP) ? spec.clusterIP : undefined;
  const status = (svc.status ?? {}) as { loadBalancer?: { ingress?: { ip?: string }[] } };
  const loadBalancerIps =
    type === 'LoadBalancer'
      ? [...new Set((status.loadBalancer?.ingress ?? []).map((i) => i.ip ?? ''))].filter((ip) => IPV4.test(ip))
      : [];
  const externalIps = [
    ...new Set([
      ...((spec.externalIPs as string[] | undefined) ?? []).filter((ip) => IPV4.test(ip)),
      ...loadBalancerIps,
    ]),
  ];
  // Only load-balancer addresses are guarded by the ranges: without any, there is nothing to apply them to.
  const sourceRanges = loadBalancerIps.length > 0 ? loadBalancerSourceRanges(svc) : [];
  // A headless Service with no external addresses has nothing to proxy.
  if (!clusterIp && externalIps.length === 0) return [];
  const affinity =
    spec.sessionAffinity === 'ClientIP'
      ? ((spec.sessionAffinityConfig as { clientIP?: { timeoutSeconds?: number } } | undefined)?.clientIP
          ?.timeoutSeconds ?? DEFAULT_AFFINITY_TIMEOUT_SECONDS)
      : undefined;
  const namespace = svc.metadata.namespace ?? 'default';
  const name = svc.metadata.name ?? '';
  const nodePorts = type === 'NodePort' || type === 'LoadBalancer';
  const out: ServicePort[] = [];
  for (const p of (spec.ports as SpecPort[] | undefined) ?? []) {
    if (!p.port) continue;
    const protocol = (p.protocol ?? 'TCP').toLowerCase() as Protocol;
    if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') continue;
    const portName = p.name ?? '';
    const all = endpointsFor(slices, portName, protocol);
    out.push({
      key: `${namespace}/${name}/${protocol}/${portName}`,
      namespace,
      name,
      portName,
      protocol,
      clusterIp,
      port: p.port,
      nodePort: nodePorts && p.nodePort ? p.nodePort : undefined,
      externalIps,
      loadBalancerIps,
      sourceRanges,
      affinitySeconds: affinity,
      internalLocal: spec.internalTrafficPolicy === 'Local',
      externalLocal: spec.externalTrafficPolicy === 'Local',
      clusterEndpoints: usableEndpoints(all),
      localEndpoints: usableEndpoints(all.filter((e) => e.nodeName === nodeName)),
      hasEndpoints: usableEndpoints(all).length > 0,
    });
  }
  return out;
}

/** Every ServicePort in the cluster, sorted by key (so generated rules are stable). */
export function servicePorts(services: KubeObject[], slices: KubeObject[], nodeName: string): ServicePort[] {
  const byService = slicesByService(slices);
  const out: ServicePort[] = [];
  for (const svc of services) {
    out.push(...servicePortsOf(svc, byService.get(`${svc.metadata.namespace}/${svc.metadata.name}`) ?? [], nodeName));
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
