// Simulated nodes (in the spirit of kwok), for tests and benchmarks that need
// many nodes: Node objects with Leases whose pods are reported Running and
// Ready without any container, process or network behind them. Real nodes
// run the agent; these only play its part in the API.
import { ApiError } from '../../api/errors.ts';
import type { KubeObject } from '../../api/types.ts';
import { type Client, Informer, listWatcherFor, refs, runController, WorkQueue } from '../../client/index.ts';
import type { Logger } from '../../lib/log.ts';
import { IpPool } from './ip-pool.ts';
import { heartbeat, registerNodes, type SimulatedNode } from './nodes.ts';
import { MAX_SIMULATED_NODES, podAction, runningStatus } from './objects.ts';

export { MAX_SIMULATED_NODES, SIMULATED_ANNOTATION, SIMULATED_TYPE, podAction, runningStatus, simulatedNode } from './objects.ts';

/**
 * Pod status writes in flight at once, shared by all simulated nodes: enough
 * to keep a 2-core server busy, few enough that a burst of 1,000 pods queues
 * here instead of piling up as open requests.
 */
const POD_WORKERS = 16;
/** kubelet's fieldSelector: only pods bound to some node are of interest. */
const BOUND_PODS = 'spec.nodeName!=';

export type SimulatedNodesOptions = {
  client: Client;
  count: number;
  signal: AbortSignal;
  log: Logger;
  namePrefix?: string;
};

export type SimulatedNodes = {
  names: string[];
  /** Settles once every loop has stopped after the signal aborted. */
  stopped: Promise<void>;
};

/** Registers the nodes and starts their pod and heartbeat loops; resolves once all are registered and watching. */
export async function startSimulatedNodes(options: SimulatedNodesOptions): Promise<SimulatedNodes> {
  const { client, count, signal, log } = options;
  const prefix = options.namePrefix ?? 'sim-node-';
  if (!Number.isInteger(count) || count < 0 || count > MAX_SIMULATED_NODES) {
    throw new Error(`simulated nodes: count must be 0..${MAX_SIMULATED_NODES}, not ${count}`);
  }
  const names = Array.from({ length: count }, (_, i) => `${prefix}${i}`);
  if (count === 0) return { names, stopped: Promise.resolve() };
  const nodes = await registerNodes(client, names, signal);
  const byName = new Map(nodes.map((n) => [n.name, { node: n, ips: new IpPool(n.index) }]));
  const heartbeats = nodes.map((n) => heartbeat(client, n, signal, log));
  const pods = runPods({ client, signal, log, byName });
  await pods.synced;
  log.info('simulated nodes registered', { count, prefix });
  return { names, stopped: Promise.all([...heartbeats, pods.done]).then(() => undefined) };
}

type NodeState = { node: SimulatedNode; ips: IpPool };

/** Watches bound pods and does what a kubelet would for those on simulated nodes. */
function runPods(args: { client: Client; signal: AbortSignal; log: Logger; byName: Map<string, NodeState> }) {
  const { client, signal, log, byName } = args;
  const informer = new Informer({ source: listWatcherFor(client, refs.pods, { fieldSelector: BOUND_PODS }), signal, log });
  const queue = new WorkQueue({ signal });
  const ours = (pod: KubeObject) => byName.get(pod.spec?.nodeName ?? '');
  const enqueue = (pod: KubeObject) => {
    if (ours(pod) && podAction(pod) !== 'none') queue.add(`${pod.metadata.namespace}/${pod.metadata.name}`);
  };
  informer.addHandlers({
    onAdd: enqueue,
    onUpdate: (_old, pod) => enqueue(pod),
    onDelete: (pod) => ours(pod)?.ips.release(pod.metadata.uid ?? ''),
  });
  const informing = informer.run();

  const reconcile = async (key: string) => {
    const pod = informer.get(key);
    const state = pod && ours(pod);
    if (!pod || !state) return;
    const namespace = pod.metadata.namespace;
    const name = pod.metadata.name!;
    const uid = pod.metadata.uid ?? '';
    try {
      switch (podAction(pod)) {
        case 'delete':
          // Nothing to stop: finish termination at once, as kubelet does once containers exit.
          await client.delete(refs.pods, name, { namespace, gracePeriodSeconds: 0, preconditions: { uid } });
          state.ips.release(uid);
          return;
        case 'run': {
          const podIp = state.ips.assign(uid, pod.status?.podIP);
          if (!podIp) throw new Error(`node ${state.node.name} has no pod addresses left`);
          const status = runningStatus(pod, { podIp, hostIp: state.node.ip, now: new Date() });
          await client.patch(refs.pods, name, { status }, { type: 'merge', namespace, subresource: 'status' });
          return;
        }
        default:
          return;
      }
    } catch (err) {
      // Gone, or replaced by a pod of the same name: the informer brings whatever is current.
      if (err instanceof ApiError && (err.code === 404 || err.code === 409)) return;
      throw err;
    }
  };
  const done = (async () => {
    if (!(await informer.waitForSync())) return;
    await runController({ name: 'simulated-nodes', queue, workers: POD_WORKERS, reconcile, log });
    await informing;
  })();
  return { synced: informer.waitForSync(), done };
}
