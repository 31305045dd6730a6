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

/**
 * Gives the node `address`/32 on a dummy interface (created if needed, brought
 * up), or on `lo` where the kernel has no dummy driver: either way a local
 * address, which is all that matters. Idempotent; needs CAP_NET_ADMIN in the
 * node's netns. Returns the device that holds the address.
 */
export async function addDnsAddress(options: { address?: string; device?: string } = {}): Promise<string> {
  let device = options.device ?? DNS_DEVICE;
  const address = options.address ?? KUBE_DNS_IP;
  try {
    await run('ip', ['link', 'add', device, 'type', 'dummy']);
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? '');
    if (/Unknown device type|not supported/i.test(stderr)) device = 'lo';
    else if (!stderr.includes('File exists')) throw err;
  }
  await run('ip', ['addr', 'replace', `${address}/32`, 'dev', device]);
  await run('ip', ['link', 'set', device, 'up']);
  return device;
}

/** Removes the dummy interface, or the address from `lo` where it fell back there; absent is fine. For `skiff reset`. */
export async function removeDnsAddress(options: { address?: string; device?: string } = {}): Promise<void> {
  const quiet = (err: unknown) => {
    if (!/Cannot find device|does not exist|Address not found|Cannot assign/i.test(String((err as { stderr?: string }).stderr ?? ''))) throw err;
  };
  await run('ip', ['link', 'del', options.device ?? DNS_DEVICE]).catch(quiet);
  await run('ip', ['addr', 'del', `${options.address ?? KUBE_DNS_IP}/32`, 'dev', 'lo']).catch(quiet);
}
