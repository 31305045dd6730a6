// Node-level plumbing for the pod network, in whatever network namespace the
// agent runs in: the bridge with the gateway address, IP forwarding, bridged
// traffic through netfilter (for Service VIPs later) and skiff's rules.
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { formatIpv4 } from '../../lib/ipv4.ts';
import { CommandError, run, runIgnoring } from './exec.ts';
import { type FirewallMode, applyFirewall, detectFirewall, removeFirewall } from './firewall.ts';
import { podRange } from './ipam.ts';

/** The node bridge every pod's veth is attached to. */
export const DEFAULT_BRIDGE = 'skiff0';
const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';
/**
 * Bridged IPv4 through iptables/nftables (br_netfilter): a pod reaching a
 * Service VIP whose backend is on the same bridge needs its reply un-NATed.
 * Built into this kernel and per network namespace; absent where the module
 * is not loaded.
 */
const BRIDGE_NF_CALL_IPTABLES = '/proc/sys/net/bridge/bridge-nf-call-iptables';
/** iproute2's message when a link is missing. */
export const NO_DEVICE = /Cannot find device|does not exist/;

export type NodeNetworkOptions = {
  podCidr: string;
  /** Destinations that are pods (no masquerade); defaults to the podCIDR. */
  clusterCidr?: string;
  bridge?: string;
  /** MTU of the bridge when skiff creates it (e.g. the uplink's); the pods' veths take the bridge's MTU. */
  mtu?: number;
  /** Which tool programs the rules; default: nft if present, else iptables. */
  firewall?: FirewallMode | 'auto';
};

export type NodeNetwork = {
  bridge: string;
  gateway: string;
  prefixLength: number;
  mtu: number;
  firewall: FirewallMode;
  /** Whether bridged traffic passes netfilter here (br_netfilter present and enabled). */
  bridgeNetfilter: boolean;
};

type LinkJson = { ifname: string; mtu: number; master?: string };
type AddrJson = { ifname: string; addr_info: { family: string; local: string; prefixlen: number }[] };

async function showLink(name: string): Promise<LinkJson | undefined> {
  try {
    return (JSON.parse(await run(['ip', '-j', 'link', 'show', 'dev', name])) as LinkJson[])[0];
  } catch (err) {
    if (err instanceof CommandError && NO_DEVICE.test(err.stderr)) return undefined;
    throw err;
  }
}

/** Creates the bridge if missing, gives it exactly the gateway address, brings it up; returns its MTU. */
async function ensureBridge(bridge: string, gatewayCidr: string, mtu: number | undefined): Promise<number> {
  if (!(await showLink(bridge))) {
    await runIgnoring(['ip', 'link', 'add', 'name', bridge, ...(mtu ? ['mtu', String(mtu)] : []), 'type', 'bridge'], /File exists/);
  }
  const addrs = (JSON.parse(await run(['ip', '-j', '-4', 'addr', 'show', 'dev', bridge])) as AddrJson[])[0]?.addr_info ?? [];
  const have = addrs.map((a) => `${a.local}/${a.prefixlen}`);
  if (have.length !== 1 || have[0] !== gatewayCidr) {
    // A podCIDR change (or a stale address) would leave the node routing to the wrong block.
    await run(['ip', '-4', 'addr', 'flush', 'dev', bridge]);
    await run(['ip', 'addr', 'add', gatewayCidr, 'dev', bridge]);
  }
  await run(['ip', 'link', 'set', 'dev', bridge, 'up']);
  const link = await showLink(bridge);
  if (!link) throw new Error(`bridge ${bridge} vanished while being set up`);
  return link.mtu;
}

/** Sets up the node side once; safe to call again (idempotent). */
export async function ensureNodeNetwork(options: NodeNetworkOptions): Promise<NodeNetwork> {
  const bridge = options.bridge ?? DEFAULT_BRIDGE;
  const range = podRange(options.podCidr);
  const gateway = formatIpv4(range.gateway);
  const mtu = await ensureBridge(bridge, `${gateway}/${range.cidr.prefix}`, options.mtu);
  await writeFile(IP_FORWARD, '1');
  const bridgeNetfilter = existsSync(BRIDGE_NF_CALL_IPTABLES);
  if (bridgeNetfilter) await writeFile(BRIDGE_NF_CALL_IPTABLES, '1');
  const firewall = !options.firewall || options.firewall === 'auto' ? detectFirewall() : options.firewall;
  await applyFirewall(firewall, { podCidr: options.podCidr, clusterCidr: options.clusterCidr ?? options.podCidr, bridge });
  return { bridge, gateway, prefixLength: range.cidr.prefix, mtu, firewall, bridgeNetfilter };
}

/** Links attached to the bridge (the host ends of pod veths). */
export async function bridgePorts(bridge: string): Promise<string[]> {
  try {
    return (JSON.parse(await run(['ip', '-j', 'link', 'show', 'master', bridge])) as LinkJson[]).map((l) => l.ifname);
  } catch (err) {
    if (err instanceof CommandError && NO_DEVICE.test(err.stderr)) return [];
    throw err;
  }
}

/** Removes the bridge (and every veth still on it) and skiff's rules; idempotent. */
export async function removeNodeNetwork(options: { bridge?: string } = {}): Promise<void> {
  const bridge = options.bridge ?? DEFAULT_BRIDGE;
  for (const port of await bridgePorts(bridge)) await runIgnoring(['ip', 'link', 'del', 'dev', port], NO_DEVICE);
  await runIgnoring(['ip', 'link', 'del', 'dev', bridge], NO_DEVICE);
  await removeFirewall();
}
