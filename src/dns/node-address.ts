// Where cluster DNS listens on a node: the kube-dns Service IP itself, held by
// a dummy interface in the node's network namespace (the NodeLocal DNSCache
// pattern). Pods reach it through the node bridge as a local address and node
// processes reach it directly, so no DNAT is involved; the service proxy must
// leave the kube-dns VIP's port 53 alone on nodes that do this (the Service has
// no endpoints: DNS runs in skiff's agents, not in pods).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The dummy interface that carries the DNS address. */
export const DNS_DEVICE = 'skiff-dns';
/** kube-system/kube-dns's ClusterIP with the default service CIDR (10.96.0.0/12), the 10th address as in kubeadm. */
export const KUBE_DNS_IP = '10.96.0.10';

/** Creates (or keeps) the dummy interface with `address`/32 and brings it up. Idempotent; needs CAP_NET_ADMIN in the node's netns. */
export async function addDnsAddress(options: { address?: string; device?: string } = {}): Promise<void> {
  const device = options.device ?? DNS_DEVICE;
  const address = options.address ?? KUBE_DNS_IP;
  try {
    await run('ip', ['link', 'add', device, 'type', 'dummy']);
  } catch (err) {
    if (!String((err as { stderr?: string }).stderr ?? '').includes('File exists')) throw err;
  }
  await run('ip', ['addr', 'replace', `${address}/32`, 'dev', device]);
  await run('ip', ['link', 'set', device, 'up']);
}

/** Removes the dummy interface (and so its address); absent is fine. For `skiff reset`. */
export async function removeDnsAddress(options: { device?: string } = {}): Promise<void> {
  try {
    await run('ip', ['link', 'del', options.device ?? DNS_DEVICE]);
  } catch (err) {
    if (!/Cannot find device|does not exist/.test(String((err as { stderr?: string }).stderr ?? ''))) throw err;
  }
}
