// What EndpointSlices a user-written Endpoints object should be mirrored into
// (Kubernetes' endpointslicemirroring reconciler): one slice per address type
// and port set, at most 1000 addresses per subset, labels and most
// annotations copied, the first existing slice of a port set rewritten in
// place and the rest removed. Pure.
import { isIPv4, isIPv6 } from 'node:net';
import type { KubeObject } from '../api/types.ts';
import { canonical, hasSelector, SKIP_MIRROR_LABEL, TRIGGER_TIME_ANNOTATION } from './endpoints-plan.ts';
import { MANAGED_BY_LABEL, SERVICE_NAME_LABEL, type SlicePlan } from './endpointslice-plan.ts';

// biome-ignore lint/suspicious/noExplicitAny: specs are plain JSON
type Json = any;

export const MIRROR_CONTROLLER_NAME = 'endpointslicemirroring-controller.k8s.io';
/** kube-controller-manager's --mirroring-max-endpoints-per-subset default: also the most one mirrored slice holds. */
export const MAX_ENDPOINTS_PER_SUBSET = 1000;
/** Endpoints used as leader-election locks carry this; they are not service endpoints and are never mirrored. */
export const LEADER_ANNOTATION = 'control-plane.alpha.kubernetes.io/leader';
const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
/** Annotations of the Endpoints that its slices do not copy (Kubernetes leaves out the same two). */
const UNCOPIED_ANNOTATIONS = [TRIGGER_TIME_ANNOTATION, LAST_APPLIED_ANNOTATION];
/** EndpointSlice names are DNS subdomains; a generateName prefix leaves room for the 5 random characters. */
const MAX_PREFIX_LENGTH = 253 - 5;

export type AddressType = 'IPv4' | 'IPv6';
export type MirrorPort = { name: string; port: number; protocol: string; appProtocol?: string };
export type MirrorEndpoint = {
  addresses: string[];
  conditions: { ready: boolean };
  hostname?: string;
  nodeName?: string;
  targetRef?: Json;
};
export type MirrorGroup = { addressType: AddressType; ports: MirrorPort[]; endpoints: Map<string, MirrorEndpoint> };

/** Whether this Endpoints object is one to mirror at all (its Service is checked separately). */
export function shouldMirror(endpoints: KubeObject | undefined): boolean {
  if (!endpoints) return false;
  return endpoints.metadata.labels?.[SKIP_MIRROR_LABEL] !== 'true' && endpoints.metadata.annotations?.[LEADER_ANNOTATION] === undefined;
}

/** Mirrored slices exist only for a mirrorable Endpoints whose Service exists without a selector. */
export function wantsMirror(endpoints: KubeObject | undefined, svc: KubeObject | undefined): boolean {
  return shouldMirror(endpoints) && svc !== undefined && !hasSelector(svc);
}

/**
 * An Endpoints address as a slice address, parsed leniently as Go's
 * ParseIPSloppy does (IPv4 parts with leading zeros, IPv4-mapped IPv6 counts
 * as IPv4) and written canonically; undefined when it is no IP.
 */
export function parseAddress(ip: string): { address: string; addressType: AddressType } | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (v4) {
    const parts = v4.slice(1).map(Number);
    return parts.every((p) => p <= 255) ? { address: parts.join('.'), addressType: 'IPv4' } : undefined;
  }
  if (!isIPv6(ip) || ip.includes('%')) return undefined;
  let address: string;
  try {
    // The URL parser writes IPv6 the way Go does (RFC 5952: lower case, longest zero run compressed).
    address = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(address);
  if (mapped) {
    const [hi, lo] = [Number.parseInt(mapped[1], 16), Number.parseInt(mapped[2], 16)];
    const v4addr = [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');
    if (isIPv4(v4addr)) return { address: v4addr, addressType: 'IPv4' };
  }
  return { address, addressType: 'IPv6' };
}

function toPorts(ports: Json[] | undefined): MirrorPort[] {
  return (ports ?? []).map((p) => {
    const out: MirrorPort = { name: p.name ?? '', port: p.port, protocol: p.protocol ?? 'TCP' };
    if (p.appProtocol) out.appProtocol = p.appProtocol;
    return out;
  });
}

/** Identifies a port set whatever the order of its ports or of their fields. */
function portsKey(ports: Json[] | undefined): string {
  const tuples = toPorts(ports).map((p) => JSON.stringify([p.name, p.port, p.protocol, p.appProtocol ?? '']));
  return JSON.stringify(tuples.sort());
}

const groupKey = (addressType: string, ports: Json[] | undefined) => `${addressType}/${portsKey(ports)}`;

/** Identity of an endpoint inside a slice: address and hostname (other fields can change in place). */
const endpointKey = (e: { addresses?: string[]; hostname?: string }) => `${[...(e.addresses ?? [])].sort().join(',')}/${e.hostname ?? ''}`;

function toEndpoint(address: Json, parsed: string, ready: boolean): MirrorEndpoint {
  const e: MirrorEndpoint = { addresses: [parsed], conditions: { ready } };
  if (address.hostname) e.hostname = address.hostname;
  if (address.nodeName) e.nodeName = address.nodeName;
  if (address.targetRef) e.targetRef = address.targetRef;
  return e;
}

export type DesiredMirror = {
  groups: Map<string, MirrorGroup>;
  /** Addresses that are no IP: left out, with a warning Event. */
  invalid: number;
  /** Addresses left out in all, invalid ones and those past the per-subset limit. */
  skipped: number;
};

/**
 * The endpoints each (address type, port set) should hold. Ready addresses
 * come first, then not-ready ones, up to the per-subset limit; a repeated
 * address and hostname in one port set is listed once (the later one wins).
 */
export function desiredMirror(endpoints: KubeObject, options: { maxPerSubset?: number } = {}): DesiredMirror {
  const max = options.maxPerSubset ?? MAX_ENDPOINTS_PER_SUBSET;
  const groups = new Map<string, MirrorGroup>();
  let invalid = 0;
  let skipped = 0;
  for (const subset of (endpoints.subsets ?? []) as Json[]) {
    const ports = toPorts(subset.ports);
    const groupFor = (addressType: AddressType) => {
      const key = groupKey(addressType, ports);
      const group = groups.get(key) ?? { addressType, ports, endpoints: new Map() };
      groups.set(key, group);
      return group;
    };
    // A subset's port set is desired even with no addresses of a type: existing slices of it then go away.
    groupFor('IPv4');
    groupFor('IPv6');
    const lists: [Json[], boolean][] = [
      [subset.addresses ?? [], true],
      [subset.notReadyAddresses ?? [], false],
    ];
    let total = 0;
    let added = 0;
    for (const [list, ready] of lists) {
      total += list.length;
      for (const address of list) {
        if (added >= max) break;
        const parsed = parseAddress(String(address?.ip ?? ''));
        if (!parsed) {
          invalid++;
          continue;
        }
        const e = toEndpoint(address, parsed.address, ready);
        groupFor(parsed.addressType).endpoints.set(endpointKey(e), e);
        added++;
      }
    }
    skipped += total - added;
  }
  // Subsets with the same ports share a slice, which holds no more than the limit either.
  for (const group of groups.values()) {
    for (const key of [...group.endpoints.keys()].slice(max)) {
      group.endpoints.delete(key);
      skipped++;
    }
  }
  return { groups, invalid, skipped };
}

export function mirroredLabels(endpoints: KubeObject): Record<string, string> {
  return { ...(endpoints.metadata.labels ?? {}), [SERVICE_NAME_LABEL]: endpoints.metadata.name ?? '', [MANAGED_BY_LABEL]: MIRROR_CONTROLLER_NAME };
}

export function mirroredAnnotations(endpoints: KubeObject): Record<string, string> {
  const out = { ...(endpoints.metadata.annotations ?? {}) };
  for (const a of UNCOPIED_ANNOTATIONS) delete out[a];
  return out;
}

export function ownerRef(endpoints: KubeObject) {
  return { apiVersion: 'v1', kind: 'Endpoints', name: endpoints.metadata.name ?? '', uid: endpoints.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

/** The slice a group should be: a new one to create (generateName), or `base` rewritten under its own name. */
function sliceFor(endpoints: KubeObject, group: MirrorGroup, base?: KubeObject): KubeObject {
  const annotations = mirroredAnnotations(endpoints);
  const metadata: KubeObject['metadata'] = {
    ...(base?.metadata ?? { generateName: `${(endpoints.metadata.name ?? '').slice(0, MAX_PREFIX_LENGTH - 1)}-`, namespace: endpoints.metadata.namespace }),
    labels: mirroredLabels(endpoints),
    ownerReferences: [ownerRef(endpoints)],
  };
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  else delete metadata.annotations;
  return {
    ...(base ?? {}),
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata,
    addressType: group.addressType,
    ports: group.ports,
    endpoints: [...group.endpoints.values()],
  };
}

/** Whether an existing slice already says what the group (and the Endpoints' metadata) says. */
function upToDate(endpoints: KubeObject, group: MirrorGroup, slice: KubeObject): boolean {
  const have = (slice.endpoints ?? []) as Json[];
  if (have.length !== group.endpoints.size) return false;
  for (const e of have) {
    const want = group.endpoints.get(endpointKey(e));
    if (!want || canonical(want) !== canonical(e)) return false;
  }
  const labels = { ...(slice.metadata.labels ?? {}) };
  delete labels[SERVICE_NAME_LABEL];
  delete labels[MANAGED_BY_LABEL];
  const owner = slice.metadata.ownerReferences?.find((r) => r.controller);
  return (
    canonical(labels) === canonical(endpoints.metadata.labels ?? {}) &&
    canonical(slice.metadata.annotations ?? {}) === canonical(mirroredAnnotations(endpoints)) &&
    // Not in Kubernetes' check: a re-created Endpoints adopts the slices instead of the garbage collector removing them.
    owner?.uid === endpoints.metadata.uid
  );
}

const byName = (a: KubeObject, b: KubeObject) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');

/**
 * The writes that turn `existing` (this controller's slices for the
 * Endpoints' name) into the mirror of `endpoints`. Per port set the first
 * existing slice is kept or rewritten, the others deleted; a slice to create
 * reuses the name of one to delete of the same address type (one update
 * instead of a create and a delete).
 */
export function planMirroredSlices(endpoints: KubeObject, existing: KubeObject[], options: { maxPerSubset?: number } = {}): SlicePlan & Omit<DesiredMirror, 'groups'> {
  const { groups, invalid, skipped } = desiredMirror(endpoints, options);
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  const existingByKey = new Map<string, KubeObject[]>();
  for (const slice of [...existing].sort(byName)) {
    const key = groupKey(slice.addressType, slice.ports);
    existingByKey.set(key, [...(existingByKey.get(key) ?? []), slice]);
  }
  for (const [key, slices] of existingByKey) if (!groups.get(key)?.endpoints.size) plan.delete.push(...slices);
  const creates: { group: MirrorGroup }[] = [];
  for (const [key, group] of groups) {
    if (group.endpoints.size === 0) continue;
    const [first, ...rest] = existingByKey.get(key) ?? [];
    plan.delete.push(...rest);
    if (!first) creates.push({ group });
    else if (!upToDate(endpoints, group, first)) plan.update.push(sliceFor(endpoints, group, first));
  }
  for (const { group } of creates) {
    const recycled = plan.delete.findIndex((s) => s.addressType === group.addressType);
    if (recycled >= 0) {
      const [base] = plan.delete.splice(recycled, 1);
      plan.update.push(sliceFor(endpoints, group, base));
    } else {
      plan.create.push(sliceFor(endpoints, group));
    }
  }
  return { ...plan, invalid, skipped };
}
