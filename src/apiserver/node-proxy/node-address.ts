// Where a node's agent listens, from its Node object, as kube-apiserver
// finds the kubelet: an address by type preference, and
// status.daemonEndpoints.kubeletEndpoint.Port.
import type { KubeObject } from '../../api/types.ts';

export type AgentEndpoint = { host: string; port: number };

/** kube-apiserver's default --kubelet-preferred-address-types order (minus the cloud's ExternalDNS). */
const ADDRESS_PREFERENCE = ['Hostname', 'InternalDNS', 'InternalIP', 'ExternalDNS', 'ExternalIP'];
/** skiff prefers the IP: agents' serving certificates always carry it, and no DNS is needed to reach it. */
const SKIFF_PREFERENCE = ['InternalIP', 'ExternalIP', ...ADDRESS_PREFERENCE];

export function agentEndpoint(node: KubeObject): AgentEndpoint | undefined {
  const port = Number(node.status?.daemonEndpoints?.kubeletEndpoint?.Port);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
  const addresses: { type: string; address: string }[] = node.status?.addresses ?? [];
  for (const type of SKIFF_PREFERENCE) {
    const found = addresses.find((a) => a.type === type && a.address);
    if (found) return { host: found.address, port };
  }
  return undefined;
}
