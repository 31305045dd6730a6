// The in-memory cluster zone: every name that exists under the cluster domain,
// with its records, kept current from Services, EndpointSlices and Namespaces
// (fed by informers). A change to one Service recomputes only that Service's
// names; lookups are one Map.get on the query's wire-form name.
import type { Answer } from 'dns-packet';
import type { KubeObject } from '../api/types.ts';
import { wireKey } from './names.ts';
import { type NameData, RECORD_TTL, type RrSet, type ServiceRecords, TYPE, serviceRecords } from './records.ts';

/** CoreDNS's DNS schema version TXT (`dns-version.<zone>`), from the Kubernetes DNS specification. */
export const DNS_SCHEMA_VERSION = '1.1.0';
/** TTL CoreDNS gives the dns-version record. */
const SCHEMA_TTL = 28800;
/** The EndpointSlice label naming its Service. */
const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** The Service whose address is the zone's name server (`ns.dns.<zone>`). */
const DNS_SERVICE = 'kube-system/kube-dns';

export type NameEntry = {
  /** Dotted lower-case name. */
  name: string;
  data: NameData;
  /** Encoded replies by query type, filled lazily by the server; dropped with the entry. */
  replies: Map<number, unknown>;
};

const EMPTY: NameData = { sets: new Map() };

export class ClusterDnsIndex {
  readonly zone: string;
  readonly zoneKey: string;
  #names = new Map<string, NameEntry>();
  #owners = new Map<string, string>();
  #services = new Map<string, KubeObject>();
  #slices = new Map<string, Map<string, KubeObject>>();
  #records = new Map<string, ServiceRecords>();
  #namespaces = new Set<string>();
  #servicePtr = new Map<string, Map<string, string>>();
  #endpointPtr = new Map<string, Map<string, string[]>>();
  #clock: () => number;
  #modified: number;
  #generation = 0;
  #listeners: (() => void)[] = [];

  /** `clock`: Unix seconds for the SOA serial (a replica takes its primary's, so every thread answers the same serial). */
  constructor(options: { zone: string; clock?: () => number }) {
    this.#clock = options.clock ?? (() => Math.floor(Date.now() / 1000));
    this.#modified = this.#clock();
    this.zone = options.zone.toLowerCase().replace(/\.$/, '');
    this.zoneKey = wireKey(this.zone);
    this.#rebuildStatic();
  }

  /** SOA serial: the Unix time of the last change, as CoreDNS's kubernetes plugin reports it. */
  get serial(): number {
    return this.#modified >>> 0;
  }

  /** Bumped on every change; replies that span several names (CNAME chains) are cached per generation. */
  get generation(): number {
    return this.#generation;
  }

  /** Called after every change (the server refreshes its precomputed negative replies). */
  onChange(listener: () => void): void {
    this.#listeners.push(listener);
  }

  /** The entry for a wire-form lower-case name, if the name exists. */
  lookupKey(key: string): NameEntry | undefined {
    return this.#names.get(key);
  }

  lookup(name: string): NameEntry | undefined {
    return this.#names.get(wireKey(name));
  }

  hasNamespace(ns: string): boolean {
    return this.#namespaces.has(ns.toLowerCase());
  }

  /** PTR targets for an address: the Service owning it as a ClusterIP, else every endpoint name with it. */
  ptr(ip: string): string[] {
    const services = this.#servicePtr.get(ip);
    if (services?.size) return [[...services.values()].sort()[0]];
    const endpoints = this.#endpointPtr.get(ip);
    if (!endpoints) return [];
    return [...endpoints.values()].flat().sort();
  }

  upsertNamespace(ns: KubeObject): void {
    const name = String(ns.metadata.name).toLowerCase();
    if (this.#namespaces.has(name)) return;
    this.#namespaces.add(name);
    this.#put(`${name}.svc.${this.zone}`, EMPTY, `ns:${name}`);
    this.#put(`${name}.pod.${this.zone}`, EMPTY, `ns:${name}`);
    this.#changed();
  }

  deleteNamespace(ns: KubeObject): void {
    const name = String(ns.metadata.name).toLowerCase();
    if (!this.#namespaces.delete(name)) return;
    this.#remove(`${name}.svc.${this.zone}`, `ns:${name}`);
    this.#remove(`${name}.pod.${this.zone}`, `ns:${name}`);
    this.#changed();
  }

  upsertService(svc: KubeObject): void {
    const key = `${svc.metadata.namespace}/${svc.metadata.name}`;
    this.#services.set(key, svc);
    this.#recompute(key);
  }

  deleteService(svc: KubeObject): void {
    const key = `${svc.metadata.namespace}/${svc.metadata.name}`;
    if (!this.#services.delete(key)) return;
    this.#recompute(key);
  }

  upsertSlice(slice: KubeObject): void {
    const key = this.#sliceServiceKey(slice);
    if (!key) return;
    const slices = this.#slices.get(key) ?? new Map<string, KubeObject>();
    this.#slices.set(key, slices);
    slices.set(String(slice.metadata.name), slice);
    if (this.#services.has(key)) this.#recompute(key);
  }

  deleteSlice(slice: KubeObject): void {
    const key = this.#sliceServiceKey(slice);
    if (!key) return;
    const slices = this.#slices.get(key);
    if (!slices?.delete(String(slice.metadata.name))) return;
    if (slices.size === 0) this.#slices.delete(key);
    if (this.#services.has(key)) this.#recompute(key);
  }

  #sliceServiceKey(slice: KubeObject): string | undefined {
    const svc = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    return svc ? `${slice.metadata.namespace}/${svc}` : undefined;
  }

  #recompute(key: string): void {
    const svc = this.#services.get(key);
    const before = this.#records.get(key);
    const after = svc ? serviceRecords(svc, this.#slices.get(key)?.values() ?? [], this.zone) : undefined;
    const owner = `svc:${key}`;
    if (before) for (const name of before.names.keys()) if (!after?.names.has(name)) this.#remove(name, owner);
    if (after) for (const [name, data] of after.names) this.#put(name, data, owner);
    this.#setPtr(this.#servicePtr, key, before?.servicePtr, after?.servicePtr);
    this.#setPtr(this.#endpointPtr, key, before?.endpointPtr, after?.endpointPtr);
    if (after) this.#records.set(key, after);
    else this.#records.delete(key);
    if (key === DNS_SERVICE) this.#rebuildStatic();
    this.#changed();
  }

  #setPtr<V>(index: Map<string, Map<string, V>>, key: string, before?: Map<string, V>, after?: Map<string, V>): void {
    if (before) {
      for (const ip of before.keys()) {
        const owners = index.get(ip);
        owners?.delete(key);
        if (owners?.size === 0) index.delete(ip);
      }
    }
    if (after) {
      for (const [ip, value] of after) {
        const owners = index.get(ip) ?? new Map<string, V>();
        index.set(ip, owners);
        owners.set(key, value);
      }
    }
  }

  #put(name: string, data: NameData, owner: string): void {
    const key = wireKey(name);
    this.#names.set(key, { name, data, replies: new Map() });
    this.#owners.set(key, owner);
  }

  #remove(name: string, owner: string): void {
    const key = wireKey(name);
    if (this.#owners.get(key) !== owner) return;
    this.#names.delete(key);
    this.#owners.delete(key);
  }

  /** The zone apex (NS), `svc.` and `pod.` (empty but existing), `dns-version` (TXT) and `ns.dns` (the DNS Service's address). */
  #rebuildStatic(): void {
    const z = this.zone;
    const nsName = `ns.dns.${z}`;
    const dnsService = this.#services.get(DNS_SERVICE);
    const nsIps: string[] = (dnsService?.spec?.clusterIPs ?? []).filter((ip: string) => ip && ip !== 'None');
    const nsAddresses: Answer[] = nsIps.map((ip) =>
      ip.includes(':')
        ? { name: nsName, type: 'AAAA', ttl: RECORD_TTL, class: 'IN', data: ip }
        : { name: nsName, type: 'A', ttl: RECORD_TTL, class: 'IN', data: ip },
    );
    const apex = new Map<number, RrSet>([
      [TYPE.NS, { answer: [{ name: z, type: 'NS', ttl: RECORD_TTL, class: 'IN', data: nsName }], additional: nsAddresses }],
    ]);
    this.#put(z, { sets: apex }, 'static');
    this.#put(`svc.${z}`, EMPTY, 'static');
    this.#put(`pod.${z}`, EMPTY, 'static');
    const version: Answer = { name: `dns-version.${z}`, type: 'TXT', ttl: SCHEMA_TTL, class: 'IN', data: DNS_SCHEMA_VERSION };
    this.#put(`dns-version.${z}`, { sets: new Map([[TYPE.TXT, { answer: [version], additional: [] }]]) }, 'static');
    const nsSets = new Map<number, RrSet>();
    const v4 = nsAddresses.filter((a) => a.type === 'A');
    const v6 = nsAddresses.filter((a) => a.type === 'AAAA');
    if (v4.length) nsSets.set(TYPE.A, { answer: v4, additional: [] });
    if (v6.length) nsSets.set(TYPE.AAAA, { answer: v6, additional: [] });
    this.#put(nsName, { sets: nsSets }, 'static');
  }

  /** What the index was built from (namespaces, Services, EndpointSlices), to seed a replica. */
  sources(): { namespaces: string[]; services: KubeObject[]; slices: KubeObject[] } {
    const slices: KubeObject[] = [];
    for (const bySlice of this.#slices.values()) slices.push(...bySlice.values());
    return { namespaces: [...this.#namespaces], services: [...this.#services.values()], slices };
  }

  #changed(): void {
    this.#modified = this.#clock();
    this.#generation++;
    for (const l of this.#listeners) l();
  }
}
