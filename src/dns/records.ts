// The records one Service contributes to the cluster zone, as CoreDNS's
// kubernetes plugin answers them: a pure function of the Service and its
// EndpointSlices, so the index can swap a service's names in and out whole.
import type { Answer } from 'dns-packet';
import type { KubeObject } from '../api/types.ts';
import { dashedIp } from './names.ts';

/** CoreDNS's default record TTL (`ttl 5`): short, so clients follow endpoint changes. */
export const RECORD_TTL = 5;

export const TYPE = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, TXT: 16, AAAA: 28, SRV: 33, OPT: 41 } as const;

/** Answer and additional records for one query type at one name. */
export type RrSet = { answer: Answer[]; additional: Answer[] };

/** Everything at one name: record sets by query type, or a CNAME (ExternalName) target. */
export type NameData = { sets: Map<number, RrSet>; cname?: string };

export type ServiceRecords = {
  /** Dotted lower-case name → records. */
  names: Map<string, NameData>;
  /** PTR targets by address: the ClusterIPs (which win over endpoints, as in CoreDNS). */
  servicePtr: Map<string, string>;
  /** PTR targets by address: every endpoint address, named `<hostname or a-b-c-d>.<svc>.<ns>.svc.<zone>`. */
  endpointPtr: Map<string, string[]>;
};

type Port = { name: string; port: number; protocol: string };
type Endpoint = { ip: string; hostname: string; ports: Port[] };

/** The addresses and ports DNS publishes for a service: ready endpoints (all of them with publishNotReadyAddresses), deduplicated. */
export function publishedEndpoints(service: KubeObject, slices: Iterable<KubeObject>): Endpoint[] {
  const publishNotReady = service.spec?.publishNotReadyAddresses === true;
  const seen = new Map<string, Endpoint>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    const ports: Port[] = (slice.ports ?? []).map((p: { name?: string; port?: number; protocol?: string }) => ({
      name: (p.name ?? '').toLowerCase(),
      port: p.port ?? -1,
      protocol: (p.protocol ?? 'TCP').toLowerCase(),
    }));
    for (const ep of slice.endpoints ?? []) {
      if (!publishNotReady && ep.conditions?.ready === false) continue;
      for (const ip of ep.addresses ?? []) {
        const hostname = (typeof ep.hostname === 'string' && ep.hostname ? ep.hostname : dashedIp(ip)).toLowerCase();
        const key = `${ip}/${hostname}`;
        const known = seen.get(key);
        if (known) {
          for (const p of ports) if (!known.ports.some((k) => k.name === p.name && k.port === p.port && k.protocol === p.protocol)) known.ports.push(p);
        } else seen.set(key, { ip, hostname, ports: [...ports] });
      }
    }
  }
  return [...seen.values()];
}

const isV6 = (ip: string) => ip.includes(':');
const addressRr = (name: string, ip: string): Answer =>
  isV6(ip) ? { name, type: 'AAAA', ttl: RECORD_TTL, class: 'IN', data: ip } : { name, type: 'A', ttl: RECORD_TTL, class: 'IN', data: ip };
const srvRr = (name: string, weight: number, port: number, target: string): Answer => ({
  name,
  type: 'SRV',
  ttl: RECORD_TTL,
  class: 'IN',
  data: { priority: 0, weight, port, target },
});

/** One candidate answer, CoreDNS's msg.Service: an address, its port, and the name that SRV records point to. */
type Target = { ip: string; port: number; target: string };

/** CoreDNS's weight: 100 split evenly over every candidate (before duplicates are dropped), at least 1. */
const weightFor = (count: number) => Math.max(1, Math.floor(100 / count));

/** A, AAAA and SRV sets for a name answered by `targets`. */
function addressSets(name: string, targets: Target[]): Map<number, RrSet> {
  const sets = new Map<number, RrSet>();
  const a: Answer[] = [];
  const aaaa: Answer[] = [];
  const seenIp = new Set<string>();
  for (const t of targets) {
    if (seenIp.has(t.ip)) continue;
    seenIp.add(t.ip);
    (isV6(t.ip) ? aaaa : a).push(addressRr(name, t.ip));
  }
  if (a.length) sets.set(TYPE.A, { answer: a, additional: [] });
  if (aaaa.length) sets.set(TYPE.AAAA, { answer: aaaa, additional: [] });
  const weight = weightFor(targets.length);
  const srv: Answer[] = [];
  const extra: Answer[] = [];
  const seenSrv = new Set<string>();
  const seenExtra = new Set<string>();
  for (const t of targets) {
    if (t.port < 0) continue;
    const srvKey = `${t.target}/${t.port}`;
    if (!seenSrv.has(srvKey)) {
      seenSrv.add(srvKey);
      srv.push(srvRr(name, weight, t.port, t.target));
    }
    const extraKey = `${t.target}/${t.ip}`;
    if (!seenExtra.has(extraKey)) {
      seenExtra.add(extraKey);
      extra.push(addressRr(t.target, t.ip));
    }
  }
  if (srv.length) sets.set(TYPE.SRV, { answer: srv, additional: extra });
  return sets;
}

function addName(names: Map<string, NameData>, name: string, targets: Target[]): void {
  if (targets.length === 0) return;
  names.set(name, { sets: addressSets(name, targets) });
}

/** Services of type ExternalName whose externalName is a host name get a CNAME; an IP there gets nothing (CoreDNS). */
function externalTarget(service: KubeObject): string | undefined {
  const target = String(service.spec?.externalName ?? '').replace(/\.$/, '').toLowerCase();
  if (!target || /^[0-9.]+$/.test(target) || target.includes(':')) return undefined;
  return target;
}

export function serviceRecords(service: KubeObject, slices: Iterable<KubeObject>, zone: string): ServiceRecords {
  const names = new Map<string, NameData>();
  const servicePtr = new Map<string, string>();
  const endpointPtr = new Map<string, string[]>();
  const out = { names, servicePtr, endpointPtr };
  const svcName = String(service.metadata.name).toLowerCase();
  const ns = String(service.metadata.namespace).toLowerCase();
  const base = `${svcName}.${ns}.svc.${zone}`;

  if (service.spec?.type === 'ExternalName') {
    const target = externalTarget(service);
    if (target) names.set(base, { sets: new Map(), cname: target });
    return out;
  }

  const endpoints = publishedEndpoints(service, slices);
  const headless = service.spec?.clusterIP === 'None';
  const clusterIps: string[] = headless
    ? []
    : (service.spec?.clusterIPs ?? (service.spec?.clusterIP ? [service.spec.clusterIP] : [])).filter((ip: string) => ip && ip !== 'None');

  // Endpoint names (CoreDNS answers these for every service with endpoints, not only headless ones).
  const byHost = new Map<string, Target[]>();
  const endpointTargets: Target[] = [];
  const byPort = new Map<string, Target[]>();
  for (const ep of endpoints) {
    const target = `${ep.hostname}.${base}`;
    const list = byHost.get(ep.hostname) ?? [];
    byHost.set(ep.hostname, list);
    const ptrs = endpointPtr.get(ep.ip) ?? [];
    if (!ptrs.includes(target)) ptrs.push(target);
    endpointPtr.set(ep.ip, ptrs);
    const ports = ep.ports.length ? ep.ports : [{ name: '', port: -1, protocol: '' }];
    for (const p of ports) {
      const t = { ip: ep.ip, port: p.port, target };
      list.push(t);
      endpointTargets.push(t);
      if (headless && p.name) {
        const key = `_${p.name}._${p.protocol}`;
        byPort.set(key, [...(byPort.get(key) ?? []), t]);
      }
    }
  }
  for (const [host, targets] of byHost) addName(names, `${host}.${base}`, targets);

  if (headless) {
    addName(names, base, endpointTargets);
  } else if (clusterIps.length) {
    const all: Target[] = [];
    for (const p of service.spec?.ports ?? []) {
      const protocol = String(p.protocol ?? 'TCP').toLowerCase();
      const targets = clusterIps.map((ip) => ({ ip, port: Number(p.port), target: base }));
      all.push(...targets);
      if (p.name) {
        const key = `_${String(p.name).toLowerCase()}._${protocol}`;
        byPort.set(key, [...(byPort.get(key) ?? []), ...targets]);
      }
    }
    // A ClusterIP service without ports still has its address (SRV-less).
    addName(names, base, all.length ? all : clusterIps.map((ip) => ({ ip, port: -1, target: base })));
    for (const ip of clusterIps) servicePtr.set(ip, base);
  }
  for (const [portKey, targets] of byPort) addName(names, `${portKey}.${base}`, targets);
  return out;
}
