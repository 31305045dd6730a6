// The node agent (skiff's kubelet): registers the Node, keeps its Lease and
// status, and runs the pods bound to it through the runtime, image store and
// pod network it is given (cli/ wires the concrete ones).
import { createHash } from 'node:crypto';
import { isNotFound } from '../../api/errors.ts';
import type { KubeObject } from '../../api/types.ts';
import {
  type Client,
  createEventRecorder,
  Informer,
  listWatcherFor,
  refs,
  runController,
  WorkQueue,
} from '../../client/index.ts';
import type { Logger } from '../../lib/log.ts';
import { cgroupParentFor } from '../runtime/cgroups.ts';
import type { ContainerRuntime, ImageStore, PodNetwork } from '../types.ts';
import { POD_WORKERS } from './constants.ts';
import { containerLogPath, createContainerOps } from './containers.ts';
import { readMachineInfo } from './machine.ts';
import type { Instance } from './model.ts';
import { registerNode, runNodeLoops, waitForPodCidr } from './node.ts';
import { allocatableOf } from './node-object.ts';
import { PodWorkers } from './pod-workers.ts';
import { Prober } from './prober.ts';
import { createPuller } from './pull.ts';
import { RuntimeCache, runPleg } from './runtime-cache.ts';
import { StatusManager } from './status-manager.ts';

export { preflight, preflightMessage, type PreflightProblem } from './preflight.ts';
export { runcVersion } from './machine.ts';
export { containerLogPath, podLogDir } from './containers.ts';
export { LABELS, KUBELET_VERSION } from './constants.ts';

/** The kubelet's port, reported in the Node's daemonEndpoints when no streaming server says otherwise. */
export const DEFAULT_KUBELET_PORT = 10250;
/** Failed pod syncs are retried after this long at first, doubling (the work queue's cap applies). */
const SYNC_RETRY_BASE_MS = 500;
const SYNC_RETRY_MAX_MS = 60_000;

/** What the streaming endpoints (logs, exec, attach, port-forward, metrics) need from the agent. */
export type AgentHandle = {
  nodeName: string;
  runtime: ContainerRuntime;
  /** The pod as this node knows it (bound here, from the informer). */
  pod(namespace: string, name: string): KubeObject | undefined;
  /** A container's runs, newest first: id (the runc id), restart count, state, and the CRI log file. */
  containerRuns(namespace: string, podName: string, container: string): (Instance & { logPath: string })[];
  /** Every pod bound here, with their containers' runs (kubectl top, stats). */
  pods(): KubeObject[];
};

export type AgentOptions = {
  client: Client;
  dataDir: string;
  nodeName: string;
  nodeIp: string;
  clusterDns?: string[];
  clusterDomain?: string;
  signal: AbortSignal;
  log: Logger;
  runtime: ContainerRuntime;
  images: ImageStore;
  /** The pod network, or how to make it once the node's podCIDR is known. */
  network: PodNetwork | ((podCidr: string) => PodNetwork | Promise<PodNetwork>);
  /** `runc://<version>` for nodeInfo.containerRuntimeVersion. */
  runtimeVersion: string;
  /** Labels the node as control plane (the server's embedded agent). */
  controlPlane?: boolean;
  clusterCaPem?: string;
  /** Starts the agent's authenticated TLS server for streaming; its port goes into the Node's daemonEndpoints. */
  streaming?: (agent: AgentHandle) => Promise<{ port: number }>;
};

export type Agent = AgentHandle & {
  /** Settles once every loop has stopped after the signal aborted. */
  stopped: Promise<void>;
};

/** Per-pod timers where the earliest wins (a back-off ending in 10 s beats the minute resync). */
class Wakeups {
  #timers = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  #fire: (uid: string) => void;

  constructor(fire: (uid: string) => void, signal: AbortSignal) {
    this.#fire = fire;
    signal.addEventListener('abort', () => {
      for (const t of this.#timers.values()) clearTimeout(t.timer);
      this.#timers.clear();
    });
  }

  at(uid: string, delayMs: number): void {
    const at = Date.now() + delayMs;
    const known = this.#timers.get(uid);
    if (known && known.at <= at) return;
    if (known) clearTimeout(known.timer);
    const timer = setTimeout(() => {
      this.#timers.delete(uid);
      this.#fire(uid);
    }, delayMs);
    timer.unref();
    this.#timers.set(uid, { at, timer });
  }
}

/** Starts the agent; resolves once the Node is registered and the pods are being synced. */
export async function startAgent(o: AgentOptions): Promise<Agent> {
  const { client, signal, log } = o;
  const nodeTag = createHash('sha256').update(o.dataDir).digest('hex').slice(0, 8);
  const recorder = createEventRecorder({ client, component: 'kubelet', host: o.nodeName, log });
  const cache = new RuntimeCache({ runtime: o.runtime, nodeTag });
  await cache.relist();

  const pods = new Informer({
    source: listWatcherFor(client, refs.pods, { fieldSelector: `spec.nodeName=${o.nodeName}` }),
    signal,
    log,
  });
  const servicesRef = { group: '', version: 'v1', resource: 'services', namespaced: true };
  const services = new Informer({ source: listWatcherFor(client, servicesRef), signal, log });
  const getter = (ref: typeof refs.pods) => async (namespace: string, name: string) => {
    try {
      return await client.get(ref, name, { namespace });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };
  const getConfigMap = getter({ group: '', version: 'v1', resource: 'configmaps', namespaced: true });
  const getSecret = getter({ group: '', version: 'v1', resource: 'secrets', namespaced: true });

  const handle: AgentHandle = {
    nodeName: o.nodeName,
    runtime: o.runtime,
    pod: (namespace, name) => pods.get(`${namespace}/${name}`),
    containerRuns(namespace, podName, container) {
      const pod = pods.get(`${namespace}/${podName}`);
      if (!pod) return [];
      return cache
        .pod(pod.metadata.uid!)
        .filter((i) => i.name === container)
        .sort((a, b) => b.restartCount - a.restartCount)
        .map((i) => ({ ...i, logPath: containerLogPath(o.dataDir, pod, i.name, i.restartCount) }));
    },
    pods: () => pods.list(),
  };
  const kubeletPort = o.streaming ? (await o.streaming(handle)).port : DEFAULT_KUBELET_PORT;

  const id = { name: o.nodeName, ip: o.nodeIp, controlPlane: o.controlPlane === true };
  let networkReady = false;
  const nodeLoop = {
    client,
    id,
    dataDir: o.dataDir,
    runtimeVersion: o.runtimeVersion,
    kubeletPort,
    signal,
    log: log.child('node'),
    readiness: () =>
      networkReady
        ? { ok: true }
        : { ok: false, message: 'container runtime network not ready: waiting for the podCIDR' },
  };
  const node = await registerNode(nodeLoop);
  const nodeLoops = runNodeLoops(nodeLoop, node);
  const nodeDone = nodeLoops.done.catch((err) => log.error('node loops stopped', { err }));
  const podCidr = await waitForPodCidr(client, o.nodeName, signal, log);
  const network = typeof o.network === 'function' ? await o.network(podCidr) : o.network;
  networkReady = true;
  nodeLoops.nudge();
  const machine = await readMachineInfo(o.dataDir, o.runtimeVersion);
  const allocatable = allocatableOf(machine);

  const puller = createPuller({ images: o.images, recorder, getSecret });
  const ops = createContainerOps({
    runtime: o.runtime,
    images: o.images,
    puller,
    recorder,
    dataDir: o.dataDir,
    nodeName: o.nodeName,
    nodeIp: o.nodeIp,
    nodeTag,
    cgroupParent: cgroupParentFor(o.dataDir),
    getConfigMap,
    getSecret,
    services: (namespace) => services.list({ namespace }),
    nodeAllocatable: () => ({
      cpu: machine.cpus,
      memory: Number.parseInt(allocatable.memory, 10) * 1024,
      'ephemeral-storage': Number(allocatable['ephemeral-storage']),
    }),
    log,
  });
  const queue = new WorkQueue({ signal, baseDelayMs: SYNC_RETRY_BASE_MS, maxDelayMs: SYNC_RETRY_MAX_MS });
  const wakeups = new Wakeups((uid) => queue.add(uid), signal);
  const prober = new Prober({ runtime: o.runtime, recorder, onChange: (uid) => queue.add(uid), signal, log });
  const status = new StatusManager({ client, log, signal });
  const workers = new PodWorkers({
    client,
    dataDir: o.dataDir,
    nodeIp: o.nodeIp,
    clusterDns: o.clusterDns ?? ['10.96.0.10'],
    clusterDomain: o.clusterDomain ?? 'cluster.local',
    network,
    ops,
    cache,
    prober,
    status,
    recorder,
    getConfigMap,
    getSecret,
    clusterCaPem: o.clusterCaPem,
    signal,
    log,
  });

  const onPod = (pod: KubeObject) => {
    workers.setPod(pod.metadata.uid!, pod);
    queue.add(pod.metadata.uid!);
  };
  pods.addHandlers({
    onAdd: onPod,
    onUpdate: (_old, pod) => onPod(pod),
    onDelete: (pod) => {
      workers.setPod(pod.metadata.uid!, undefined);
      queue.add(pod.metadata.uid!);
    },
  });
  const informing = Promise.all([pods.run(), services.run()]);
  const pleg = runPleg(cache, (uid) => queue.add(uid), signal, log);
  const running = (async () => {
    if (!(await pods.waitForSync())) return;
    // Re-adoption: runs and networks of pods no longer bound here are cleaned up by their sync.
    for (const uid of await workers.known()) queue.add(uid);
    await runController({
      name: 'kubelet',
      queue,
      workers: POD_WORKERS,
      reconcile: async (uid) => {
        const after = await workers.sync(uid);
        if (after !== undefined) wakeups.at(uid, after);
      },
      log,
      onError: (uid, err, retries) => {
        if (retries === 1 || retries % 10 === 0)
          log.warn('pod sync failed', { uid, err: (err as Error).message, retries });
      },
    });
  })();
  await pods.waitForSync();
  log.info('node agent running', { node: o.nodeName, podCidr });
  return {
    ...handle,
    stopped: Promise.all([nodeDone, informing, pleg, running]).then(() => undefined),
  };
}
