// IPv4 address and CIDR arithmetic, shared by the node IPAM controller (a /24
// per Node from the cluster CIDR) and the agent's host-local pod IPAM. Pure.

export type Cidr = {
  /** The network address as an unsigned 32-bit number. */
  network: number;
  prefix: number;
};

const OCTET = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Parses dotted-quad IPv4; throws on anything else. */
export function parseIpv4(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => OCTET.test(p))) throw new Error(`not an IPv4 address: ${JSON.stringify(text)}`);
  return parts.reduce((n, p) => n * 256 + Number(p), 0);
}

export function formatIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parses "a.b.c.d/p"; host bits must be zero (as Kubernetes' --cluster-cidr requires). */
export function parseCidr(text: string): Cidr {
  const [addr, bits, ...rest] = text.split('/');
  const prefix = Number(bits);
  if (rest.length > 0 || bits === undefined || !/^\d{1,2}$/.test(bits) || prefix > 32) {
    throw new Error(`not an IPv4 CIDR: ${JSON.stringify(text)}`);
  }
  const ip = parseIpv4(addr);
  const network = (ip & mask(prefix)) >>> 0;
  if (network !== ip) throw new Error(`CIDR ${text} has host bits set (did you mean ${formatIpv4(network)}/${prefix}?)`);
  return { network, prefix };
}

export function formatCidr(cidr: Cidr): string {
  return `${formatIpv4(cidr.network)}/${cidr.prefix}`;
}

/** Number of addresses in the block. */
export function cidrSize(cidr: Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

export function broadcastOf(cidr: Cidr): number {
  return cidr.network + cidrSize(cidr) - 1;
}

export function cidrContains(cidr: Cidr, ip: number): boolean {
  return ip >= cidr.network && ip <= broadcastOf(cidr);
}

/** Whether block `inner` lies wholly inside `outer`. */
export function cidrWithin(inner: Cidr, outer: Cidr): boolean {
  return inner.prefix >= outer.prefix && cidrContains(outer, inner.network);
}

/** The i-th sub-block of size /prefix inside `outer` (0-based). */
export function subnetAt(outer: Cidr, prefix: number, index: number): Cidr {
  return { network: outer.network + index * 2 ** (32 - prefix), prefix };
}

/** How many /prefix blocks fit in `outer`. */
export function subnetCount(outer: Cidr, prefix: number): number {
  return prefix < outer.prefix ? 0 : 2 ** (prefix - outer.prefix);
}
