// Service ClusterIPs from the service CIDR (--service-cidr): one IPAddress
// record per address under /registry/networking.k8s.io/ipaddresses/, as
// Kubernetes 1.31 stores them.
import type { Store } from '../../store/types.ts';
import { cidrSize, formatIpv4, parseCidr, parseIpv4 } from '../../lib/ipv4.ts';
import { type Owner, RangeAllocator, type RangeSpec, type StaleCheck, recordMeta } from './range-allocator.ts';

/** Where IPAddress objects live (the key an IPAddress resource would use). */
export const IP_PREFIX = '/registry/networking.k8s.io/ipaddresses/';
/** Static band bounds (Kubernetes' calculateRangeOffset for IPs): 1/16 of the range, at least 16, at most 256. */
const IP_BAND_MIN = 16;
const IP_BAND_MAX = 256;
const IP_BAND_STEP = 16;

export function staticBand(size: number, bounds: { min: number; max: number; step: number }): number {
  if (size < bounds.min) return 0;
  return Math.min(Math.max(bounds.min, Math.floor(size / bounds.step)), bounds.max);
}

/** Usable addresses of a CIDR: all but the network and broadcast addresses (both kept for /31 and /32). */
export function ipRangeSpec(cidrText: string): RangeSpec {
  const cidr = parseCidr(cidrText);
  const total = cidrSize(cidr);
  const first = total > 2 ? cidr.network + 1 : cidr.network;
  const size = total > 2 ? total - 2 : total;
  return {
    prefix: IP_PREFIX,
    size,
    staticBand: staticBand(size, { min: IP_BAND_MIN, max: IP_BAND_MAX, step: IP_BAND_STEP }),
    text: cidrText,
    itemAt: (offset) => formatIpv4(first + offset),
    offsetOf(item) {
      let n: number;
      try {
        n = parseIpv4(item);
      } catch {
        return undefined;
      }
      const offset = n - first;
      return offset >= 0 && offset < size && formatIpv4(n) === item ? offset : undefined;
    },
    record: (item, owner, now) => ({
      apiVersion: 'networking.k8s.io/v1beta1',
      kind: 'IPAddress',
      metadata: recordMeta(item, now, {
        'ipaddress.kubernetes.io/ip-family': 'IPv4',
        'ipaddress.kubernetes.io/managed-by': 'ipallocator.k8s.io',
      }),
      spec: { parentRef: { group: '', resource: 'services', namespace: owner.namespace, name: owner.name } },
    }),
  };
}

/** The n-th usable address of the range (0-based): 10.96.0.1 is the first, 10.96.0.10 the tenth. */
export function nthServiceIp(cidrText: string, n: number): string {
  return ipRangeSpec(cidrText).itemAt(n - 1);
}

export function createIpAllocator(options: { store: Store; serviceCidr: string; isStale?: StaleCheck; now?: () => Date }): RangeAllocator {
  const spec = ipRangeSpec(options.serviceCidr);
  return new RangeAllocator({
    store: options.store,
    spec,
    isStale: options.isStale,
    now: options.now,
    messages: {
      allocated: 'provided IP is already allocated',
      notInRange: (ip) => `the provided IP (${ip}) is not in the valid range. The range of valid IPs is ${spec.text}`,
      full: 'range is full',
    },
  });
}

export type { Owner };
