// The nftables ruleset skiff's service proxy wants, as data: chains (with
// their rules) and sets/maps (with their elements), computed from the
// ServicePorts. The layout follows kube-proxy's nftables mode: verdict maps
// keyed by destination address, protocol and port send new connections to a
// per-Service chain that picks an endpoint chain with `numgen random`; the
// endpoint chain DNATs. Pure; nft-script.ts turns two states into a transaction.
import { createHash } from 'node:crypto';
import { type Endpoint, inRanges, type ServicePort } from './service-ports.ts';

/** The one table the proxy owns (ip family: IPv4 Services). */
export const NFT_TABLE = 'skiff-proxy';
/** Packet mark asking the postrouting chain to masquerade (kube-proxy's bit, so mixed nodes agree). */
export const MASQ_MARK = '0x4000';
/**
 * Base chain priorities: NAT at the standard dstnat/srcnat slots, filtering at
 * 0 so it sees packets after DNAT (only connections no rule translated are
 * rejected). Numbers, not names: nft 1.0.6 accepts `dstnat` only on prerouting.
 */
const NAT_PRE = -100;
const NAT_POST = 100;
const FILTER = 0;
/**
 * loadBalancerSourceRanges are checked before DNAT (kube-proxy's dstnat-10),
 * while the destination is still the load-balancer address and port.
 */
const FIREWALL = NAT_PRE - 10;
/** Characters of the hash that makes chain names unique whatever the key's length. */
const HASH_CHARS = 8;

export type NftChain = { hook?: string; rules: string[] };
export type NftSet = {
  kind: 'set' | 'map';
  spec: string;
  /** Elements the proxy manages (key → value; '' for sets). Absent for dynamic sets the kernel fills (affinity). */
  elements?: Map<string, string>;
};
export type NftState = { chains: Map<string, NftChain>; sets: Map<string, NftSet> };

export type NftOptions = {
  /** Addresses NodePorts answer on. */
  nodeIps: string[];
  /** The pod network: traffic to a ClusterIP from outside it is masqueraded (so replies come back through this node). */
  clusterCidr: string;
  /** When known, traffic to unallocated ClusterIPs is dropped instead of wandering off to the default route. */
  serviceCidr?: string;
  /**
   * Without br_netfilter, a pod's connection DNATed to a pod on the same
   * bridge gets its reply bridged past conntrack, un-NATed; masquerading such
   * connections makes the reply come back through the node. Names the bridge.
   */
  masqueradeBridge?: string;
};

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** First `HASH_CHARS` base32 characters of sha256(text): kube-proxy's chain-name prefix. */
export function hashName(text: string): string {
  const bytes = createHash('sha256').update(text).digest();
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < HASH_CHARS) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length >= HASH_CHARS) break;
  }
  return out;
}

export const serviceChain = (sp: ServicePort) => `service-${hashName(sp.key)}-${sp.key}`;
export const localChain = (sp: ServicePort) => `local-${hashName(sp.key)}-${sp.key}`;
export const externalChain = (sp: ServicePort) => `external-${hashName(sp.key)}-${sp.key}`;
export const firewallChain = (sp: ServicePort) => `firewall-${hashName(sp.key)}-${sp.key}`;
const endpointSuffix = (sp: ServicePort, e: Endpoint) => {
  const id = `${sp.key}__${e.ip}/${e.port}`;
  return `${hashName(id)}-${id}`;
};
export const endpointChain = (sp: ServicePort, e: Endpoint) => `endpoint-${endpointSuffix(sp, e)}`;
export const affinitySet = (sp: ServicePort, e: Endpoint) => `affinity-${endpointSuffix(sp, e)}`;

const ADDR_PROTO_PORT = 'ipv4_addr . inet_proto . inet_service : verdict';
const PROTO_PORT = 'inet_proto . inet_service : verdict';

/** The fixed part: hooks, helper chains, the dispatch maps. */
function baseState(o: NftOptions): NftState {
  const chains = new Map<string, NftChain>([
    ['nat-prerouting', { hook: `type nat hook prerouting priority ${NAT_PRE}`, rules: ['jump services'] }],
    ['nat-output', { hook: `type nat hook output priority ${NAT_PRE}`, rules: ['jump services'] }],
    [
      'nat-postrouting',
      {
        hook: `type nat hook postrouting priority ${NAT_POST}`,
        rules: [
          ...(o.masqueradeBridge
            ? [`ct status dnat iifname "${o.masqueradeBridge}" oifname "${o.masqueradeBridge}" masquerade fully-random`]
            : []),
          'jump masquerading',
        ],
      },
    ],
    [
      'filter-input',
      { hook: `type filter hook input priority ${FILTER}`, rules: ['ct state new jump nodeport-endpoints-check'] },
    ],
    [
      'filter-forward',
      {
        hook: `type filter hook forward priority ${FILTER}`,
        rules: ['ct state new jump service-endpoints-check', 'ct state new jump cluster-ips-check'],
      },
    ],
    [
      'filter-output',
      {
        hook: `type filter hook output priority ${FILTER}`,
        // A VIP that is a local address (the node-local DNS address on the kube-dns ClusterIP) is served by the node itself.
        rules: [
          'ct state new fib daddr type != local jump service-endpoints-check',
          'ct state new fib daddr type != local jump cluster-ips-check',
        ],
      },
    ],
    // Locally originated connections pass the output hook (kube-proxy checks both).
    [
      'firewall-prerouting',
      { hook: `type filter hook prerouting priority ${FIREWALL}`, rules: ['ct state new jump firewall-check'] },
    ],
    [
      'firewall-output',
      { hook: `type filter hook output priority ${FIREWALL}`, rules: ['ct state new jump firewall-check'] },
    ],
    ['firewall-check', { rules: ['ip daddr . meta l4proto . th dport vmap @firewall-ips'] }],
    ['mark-for-masquerade', { rules: [`meta mark set meta mark | ${MASQ_MARK}`] }],
    [
      'masquerading',
      {
        rules: [
          `meta mark & ${MASQ_MARK} == 0 return`,
          `meta mark set meta mark ^ ${MASQ_MARK}`,
          'masquerade fully-random',
        ],
      },
    ],
    [
      'services',
      {
        rules: [
          'ip daddr . meta l4proto . th dport vmap @service-ips',
          'ip daddr @nodeport-ips meta l4proto . th dport vmap @service-nodeports',
        ],
      },
    ],
    ['service-endpoints-check', { rules: ['ip daddr . meta l4proto . th dport vmap @no-endpoint-services'] }],
    [
      'nodeport-endpoints-check',
      { rules: ['ip daddr @nodeport-ips meta l4proto . th dport vmap @no-endpoint-nodeports'] },
    ],
    [
      'cluster-ips-check',
      { rules: ['ip daddr @cluster-ips reject', ...(o.serviceCidr ? [`ip daddr ${o.serviceCidr} drop`] : [])] },
    ],
    // TCP gets a reset: the same "connection refused" as kube-proxy's ICMP port-unreachable, but not
    // subject to the kernel's per-host ICMP rate limit (which ICMP redirects on a pod bridge use up).
    ['reject-chain', { rules: ['meta l4proto tcp reject with tcp reset', 'reject'] }],
  ]);
  const set = (kind: 'set' | 'map', spec: string, keys: string[] = []): NftSet => ({
    kind,
    spec: `{ type ${spec} ; }`,
    elements: new Map(keys.map((k) => [k, ''])),
  });
  const sets = new Map<string, NftSet>([
    ['cluster-ips', set('set', 'ipv4_addr')],
    ['nodeport-ips', set('set', 'ipv4_addr', [...new Set(o.nodeIps)])],
    ['service-ips', set('map', ADDR_PROTO_PORT)],
    ['service-nodeports', set('map', PROTO_PORT)],
    ['no-endpoint-services', set('map', ADDR_PROTO_PORT)],
    ['no-endpoint-nodeports', set('map', PROTO_PORT)],
    ['firewall-ips', set('map', ADDR_PROTO_PORT)],
  ]);
  return { chains, sets };
}

/**
 * Sources a Service's load-balancer addresses accept, or undefined when it
 * has no ranges (or no such address). When a node address is inside the
 * ranges, the load-balancer addresses themselves are allowed too: a node
 * reaching an LB address that is local to it uses that address as source
 * (kube-proxy's allowFromNode).
 */
export function firewallSources(sp: ServicePort, nodeIps: string[]): string[] | undefined {
  if (sp.sourceRanges.length === 0 || sp.loadBalancerIps.length === 0) return undefined;
  const allowFromNode = nodeIps.some((ip) => inRanges(ip, sp.sourceRanges));
  const extra = allowFromNode ? sp.loadBalancerIps.filter((ip) => !inRanges(ip, sp.sourceRanges)) : [];
  return [...sp.sourceRanges, ...extra];
}

/** Rules choosing an endpoint: affinity lookups first, then an equal random spread. */
function spreadRules(sp: ServicePort, endpoints: Endpoint[]): string[] {
  const rules: string[] = [];
  if (sp.affinitySeconds !== undefined) {
    for (const e of endpoints) rules.push(`ip saddr @${affinitySet(sp, e)} goto ${endpointChain(sp, e)}`);
  }
  const arms = endpoints.map((e, i) => `${i} : goto ${endpointChain(sp, e)}`).join(' , ');
  rules.push(`numgen random mod ${endpoints.length} vmap { ${arms} }`);
  return rules;
}

/** The whole desired ruleset. */
export function desiredNftState(ports: ServicePort[], o: NftOptions): NftState {
  const state = baseState(o);
  const { chains, sets } = state;
  const element = (set: string, key: string, value = '') => sets.get(set)!.elements!.set(key, value);
  for (const sp of ports) {
    const svcChain = serviceChain(sp);
    // Whatever the endpoints, new connections to an LB address from other sources are dropped first.
    const sources = firewallSources(sp, o.nodeIps);
    if (sources) {
      chains.set(firewallChain(sp), { rules: [`ip saddr != { ${sources.join(', ')} } drop`] });
      for (const ip of sp.loadBalancerIps)
        element('firewall-ips', `${ip} . ${sp.protocol} . ${sp.port}`, `goto ${firewallChain(sp)}`);
    }
    const masqClusterIp = sp.clusterIp
      ? [`ip daddr ${sp.clusterIp} ip saddr != ${o.clusterCidr} jump mark-for-masquerade`]
      : [];
    for (const e of new Set([...sp.clusterEndpoints, ...sp.localEndpoints])) {
      const rules = [`ip saddr ${e.ip} jump mark-for-masquerade`];
      if (sp.affinitySeconds !== undefined) {
        sets.set(affinitySet(sp, e), {
          kind: 'set',
          spec: `{ type ipv4_addr ; flags dynamic,timeout ; timeout ${sp.affinitySeconds}s ; }`,
        });
        rules.push(`update @${affinitySet(sp, e)} { ip saddr }`);
      }
      rules.push(`meta l4proto ${sp.protocol} dnat to ${e.ip}:${e.port}`);
      chains.set(endpointChain(sp, e), { rules });
    }
    if (sp.clusterEndpoints.length > 0)
      chains.set(svcChain, { rules: [...masqClusterIp, ...spreadRules(sp, sp.clusterEndpoints)] });
    const wantsLocal =
      sp.internalLocal || (sp.externalLocal && (sp.nodePort !== undefined || sp.externalIps.length > 0));
    const hasLocal = wantsLocal && sp.localEndpoints.length > 0;
    if (hasLocal) {
      chains.set(localChain(sp), {
        rules: [...(sp.internalLocal ? masqClusterIp : []), ...spreadRules(sp, sp.localEndpoints)],
      });
    }
    // No endpoint at all → reject (the client learns at once); none usable under a Local policy → drop (as kube-proxy).
    const missing = sp.hasEndpoints ? 'drop' : 'goto reject-chain';

    if (sp.clusterIp) {
      element('cluster-ips', sp.clusterIp);
      const target = sp.internalLocal
        ? hasLocal
          ? localChain(sp)
          : undefined
        : sp.clusterEndpoints.length > 0
          ? svcChain
          : undefined;
      const key = `${sp.clusterIp} . ${sp.protocol} . ${sp.port}`;
      if (target) element('service-ips', key, `goto ${target}`);
      else element('no-endpoint-services', key, missing);
    }

    if (sp.nodePort === undefined && sp.externalIps.length === 0) continue;
    const extKeys = sp.externalIps.map((ip) => `${ip} . ${sp.protocol} . ${sp.port}`);
    const nodePortKey = sp.nodePort !== undefined ? `${sp.protocol} . ${sp.nodePort}` : undefined;
    if (sp.clusterEndpoints.length === 0) {
      for (const key of extKeys) element('no-endpoint-services', key, 'goto reject-chain');
      if (nodePortKey) element('no-endpoint-nodeports', nodePortKey, 'goto reject-chain');
      continue;
    }
    const ext = externalChain(sp);
    const rules = sp.externalLocal
      ? [
          `ip saddr ${o.clusterCidr} goto ${svcChain}`,
          'fib saddr type local jump mark-for-masquerade',
          `fib saddr type local goto ${svcChain}`,
          ...(hasLocal ? [`goto ${localChain(sp)}`] : []),
        ]
      : ['jump mark-for-masquerade', `goto ${svcChain}`];
    chains.set(ext, { rules });
    for (const key of extKeys) element('service-ips', key, `goto ${ext}`);
    if (nodePortKey) element('service-nodeports', nodePortKey, `goto ${ext}`);
    if (sp.externalLocal && !hasLocal) {
      // Outside clients fall through the external chain untranslated; these drop them.
      for (const key of extKeys) element('no-endpoint-services', key, 'drop');
      if (nodePortKey) element('no-endpoint-nodeports', nodePortKey, 'drop');
    }
  }
  return state;
}
