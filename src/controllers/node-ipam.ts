// Node IPAM controller (kube-controller-manager's node-ipam with the range
// allocator): every Node gets a /24 pod range from the cluster CIDR in
// spec.podCIDR and spec.podCIDRs. Which ranges are taken is derived from the
// Nodes themselves, so nothing is lost across restarts, and a deleted Node's
// range is free again. Nodes that arrive with a podCIDR keep it (simulated
// nodes bring their own, outside the cluster CIDR; they are left alone).
import { isNotFound } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import { refs, runController, WorkQueue } from '../client/index.ts';
import { cidrWithin, formatCidr, parseCidr, subnetAt, subnetCount } from '../lib/ipv4.ts';
import type { ControllerContext } from './context.ts';

/** kube-controller-manager's --cluster-cidr default in most distributions (flannel's, k3s'). */
export const DEFAULT_CLUSTER_CIDR = '10.244.0.0/16';
/** --node-cidr-mask-size for IPv4: 254 pod addresses per node (the kubelet allows 110 pods). */
export const NODE_CIDR_MASK_SIZE = 24;
/** Allocation must be serial: two workers could hand out the same free range. */
const WORKERS = 1;

/** The lowest /maskSize block of the cluster CIDR that no node holds; undefined when all are taken. Pure. */
export function nextPodCidr(clusterCidr: string, used: Iterable<string>, maskSize = NODE_CIDR_MASK_SIZE): string | undefined {
  const cluster = parseCidr(clusterCidr);
  const prefix = Math.max(maskSize, cluster.prefix);
  const taken = new Set<number>();
  for (const text of used) {
    try {
      const block = parseCidr(text);
      if (!cidrWithin(block, cluster) && !cidrWithin(cluster, block)) continue;
      // Mark every node-sized block this range overlaps (a hand-set range may be larger or smaller).
      const first = Math.floor((Math.max(block.network, cluster.network) - cluster.network) / 2 ** (32 - prefix));
      const span = Math.max(1, 2 ** (prefix - block.prefix));
      for (let i = first; i < first + span && i < subnetCount(cluster, prefix); i++) taken.add(i);
    } catch {
      // an unparsable podCIDR on some node holds nothing
    }
  }
  const count = subnetCount(cluster, prefix);
  for (let i = 0; i < count; i++) if (!taken.has(i)) return formatCidr(subnetAt(cluster, prefix, i));
  return undefined;
}

/** The ranges nodes hold: spec.podCIDRs, else spec.podCIDR. */
export function nodePodCidrs(node: KubeObject): string[] {
  const list: string[] = node.spec?.podCIDRs ?? [];
  return list.length > 0 ? list : node.spec?.podCIDR ? [node.spec.podCIDR] : [];
}

/** Runs until ctx.signal aborts. */
export async function runNodeIpamController(ctx: ControllerContext): Promise<void> {
  const { client, signal, log } = ctx;
  const clusterCidr = ctx.settings?.clusterCidr ?? DEFAULT_CLUSTER_CIDR;
  try {
    parseCidr(clusterCidr);
  } catch (err) {
    log.error('node IPAM disabled: bad --cluster-cidr', { clusterCidr, err });
    return;
  }
  const nodes = ctx.informers.for(refs.nodes);
  const queue = new WorkQueue({ signal });
  /** Ranges written but maybe not yet seen in the cache, by node name: never hand them out twice. */
  const pending = new Map<string, string>();
  /** Nodes already told there is no range left (one event, not one per retry). */
  const starved = new Set<string>();
  const enqueueWaiting = () => {
    for (const n of nodes.list()) if (nodePodCidrs(n).length === 0) queue.add(n.metadata.name ?? '');
  };
  nodes.addHandlers({
    onAdd: (n) => queue.add(n.metadata.name ?? ''),
    onUpdate: (_old, n) => {
      if (nodePodCidrs(n).length === 0) queue.add(n.metadata.name ?? '');
    },
    onDelete: (n) => {
      pending.delete(n.metadata.name ?? '');
      starved.delete(n.metadata.name ?? '');
      enqueueWaiting(); // its range is free now
    },
  });
  if (!(await ctx.informers.waitForSync())) return;

  const reconcile = async (name: string) => {
    const node = nodes.get(name);
    if (!node || nodePodCidrs(node).length > 0) {
      pending.delete(name);
      return;
    }
    const used = [
      ...nodes.list().flatMap((n) => (n.metadata.name === name ? [] : nodePodCidrs(n))),
      ...[...pending].filter(([other]) => other !== name).map(([, cidr]) => cidr),
    ];
    const cidr = pending.get(name) ?? nextPodCidr(clusterCidr, used);
    if (!cidr) {
      if (!starved.has(name)) {
        starved.add(name);
        log.warn('no pod range left for node', { node: name, clusterCidr });
        await ctx.recorder.record(node, 'Normal', 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable`);
      }
      return;
    }
    pending.set(name, cidr);
    try {
      await client.patch(refs.nodes, name, { spec: { podCIDR: cidr, podCIDRs: [cidr] } }, { type: 'merge' });
    } catch (err) {
      if (isNotFound(err)) {
        pending.delete(name);
        return;
      }
      throw err;
    }
    starved.delete(name);
    log.info('allocated pod range', { node: name, podCIDR: cidr });
  };

  await runController({ name: 'nodeipam', queue, workers: WORKERS, reconcile, log });
}
