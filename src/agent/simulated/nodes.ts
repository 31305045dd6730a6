// Registers simulated Nodes and keeps them alive as kubelet does: a Lease in
// kube-node-lease renewed every 10 s, and a Node status heartbeat now and then.
import { ApiError, isNotFound } from '../../api/errors.ts';
import type { KubeObject } from '../../api/types.ts';
import { type Client, refs, sleep } from '../../client/index.ts';
import type { Logger } from '../../lib/log.ts';
import { NODE_LEASE_NAMESPACE, isoSeconds, microTime, nodeConditions, nodeLease, simulatedNode } from './objects.ts';

/** kubelet renews its Lease every 10 s (a quarter of the 40 s duration). */
export const LEASE_RENEW_MS = 10_000;
/**
 * kubelet re-posts an unchanged Node status every 5 min; once a minute keeps
 * `kubectl describe node` heartbeats fresh while 1,000 nodes cost ~17 writes/s.
 */
export const NODE_STATUS_REPORT_MS = 60_000;
/** Nodes registered at once: enough to register 1,000 in a few seconds without swamping the server. */
const REGISTER_CONCURRENCY = 32;

const alreadyExists = (err: unknown) => err instanceof ApiError && err.code === 409;

export type SimulatedNode = { name: string; index: number; ip: string; uid: string };

/** Creates (or on restart, refreshes) one Node; returns what the pod side needs. */
async function registerNode(client: Client, name: string, index: number): Promise<SimulatedNode> {
  const wanted = simulatedNode(name, index, new Date());
  let node: KubeObject;
  try {
    node = await client.create(refs.nodes, wanted);
  } catch (err) {
    if (!alreadyExists(err)) throw err;
    // Keep what users changed (labels, taints, cordon); report ready again.
    node = await client.patch(refs.nodes, name, { metadata: { labels: wanted.metadata.labels, annotations: wanted.metadata.annotations } }, { type: 'merge' });
    await client.patch(refs.nodes, name, { status: wanted.status }, { type: 'merge', subresource: 'status' });
  }
  // The Lease exists from the start, as kubelet's does; renewals then spread out over the period.
  try {
    await client.create(refs.leases, nodeLease(node, new Date()));
  } catch (err) {
    if (!alreadyExists(err)) throw err;
  }
  return { name, index, ip: wanted.status.addresses[0].address, uid: node.metadata.uid! };
}

/** Registers every node, a few at a time; resolves once all exist. */
export async function registerNodes(client: Client, names: string[], signal: AbortSignal): Promise<SimulatedNode[]> {
  const out: SimulatedNode[] = new Array(names.length);
  let next = 0;
  const worker = async () => {
    while (next < names.length && !signal.aborted) {
      const i = next++;
      out[i] = await registerNode(client, names[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(REGISTER_CONCURRENCY, names.length) }, worker));
  return out;
}

/** Renews the node's Lease and posts status heartbeats until the signal aborts. */
export async function heartbeat(client: Client, node: SimulatedNode, signal: AbortSignal, log: Logger): Promise<void> {
  let lease: KubeObject | undefined;
  const since = isoSeconds(new Date());
  let lastStatus = Date.now();
  // Spread the nodes over the renew period so their writes do not arrive together.
  await sleep(Math.random() * LEASE_RENEW_MS, signal);
  while (!signal.aborted) {
    try {
      lease = await renewLease(client, node, lease);
      if (Date.now() - lastStatus >= NODE_STATUS_REPORT_MS) {
        await client.patch(refs.nodes, node.name, { status: { conditions: nodeConditions(new Date(), since) } }, { type: 'merge', subresource: 'status' });
        lastStatus = Date.now();
      }
    } catch (err) {
      lease = undefined;
      if (!signal.aborted) log.debug('heartbeat failed', { node: node.name, err: (err as Error).message });
    }
    await sleep(LEASE_RENEW_MS, signal);
  }
}

async function renewLease(client: Client, node: SimulatedNode, known: KubeObject | undefined): Promise<KubeObject> {
  const now = new Date();
  if (known) {
    try {
      return await client.update(refs.leases, { ...known, spec: { ...known.spec, renewTime: microTime(now) } });
    } catch (err) {
      if (!(err instanceof ApiError) || (err.code !== 409 && err.code !== 404)) throw err;
    }
  }
  try {
    const current = await client.get(refs.leases, node.name, { namespace: NODE_LEASE_NAMESPACE });
    return await client.update(refs.leases, { ...current, spec: { ...current.spec, holderIdentity: node.name, renewTime: microTime(now) } });
  } catch (err) {
    if (!isNotFound(err)) throw err;
    return client.create(refs.leases, nodeLease({ metadata: { name: node.name, uid: node.uid } }, now));
  }
}
