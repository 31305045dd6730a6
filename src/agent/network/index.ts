// The pod network's public surface: BridgeNetwork (PodNetwork), the node's
// reset, the per-pod identity files and the IPAM/rule helpers others may need.
export { BridgeNetwork, type BridgeNetworkOptions, hostVethName, ipamPath, netnsDir, resetNodeNetwork } from './bridge-network.ts';
export { DEFAULT_BRIDGE, ensureNodeNetwork, type NodeNetwork, type NodeNetworkOptions } from './node.ts';
export { HOST_GW_ROUTE_PROTO, hostGwRoutes, resetHostGwRoutes, routeChanges, startHostGwRoutes } from './host-gw.ts';
export { type FirewallMode, detectFirewall, IPT_FILTER_CHAIN, IPT_NAT_CHAIN, NFT_TABLE } from './firewall.ts';
export { HostLocalIpam, IpamExhaustedError, type Allocation } from './ipam.ts';
export {
  DEFAULT_CLUSTER_DNS,
  DEFAULT_CLUSTER_DOMAIN,
  type DnsConfig,
  hostsFileContent,
  podDnsConfig,
  podHostname,
  type PodNetworkFiles,
  type PodNetworkFilesOptions,
  resolvConfContent,
  utsHostname,
  writePodNetworkFiles,
} from './pod-files.ts';
