// The agent's Node: registration, the Lease heartbeat, and the status loop
// (conditions re-judged every 10 s, posted when changed, re-posted at once
// when someone else marked the node not Ready).
import { ApiError, isNotFound } from '../../api/errors.ts';
import type { KubeObject } from '../../api/types.ts';
import { type Client, Informer, listWatcherFor, refs, sleep } from '../../client/index.ts';
import type { Logger } from '../../lib/log.ts';
import { LEASE_RENEW_MS, NODE_LEASE_NAMESPACE, NODE_STATUS_CHECK_MS, NODE_STATUS_REPORT_MS } from './constants.ts';
import { readMachineInfo, readPressure } from './machine.ts';
import {
  type ConditionSample,
  conditionSamples,
  conditionsChanged,
  isoSeconds,
  microTime,
  type NodeIdentity,
  newNode,
  nodeConditions,
  nodeLabels,
  nodeLease,
  nodeStatusBase,
} from './node-object.ts';

/** Waiting for the podCIDR is reported after this long, so a missing node-ipam controller is noticed. */
const PODCIDR_WARN_MS = 10_000;
const PODCIDR_POLL_MS = 200;

export type NodeLoopOptions = {
  client: Client;
  id: NodeIdentity;
  dataDir: string;
  runtimeVersion: string;
  kubeletPort: number;
  signal: AbortSignal;
  log: Logger;
  /** Whether the node can run pods now (runtime and network healthy). */
  readiness(): { ok: boolean; message?: string };
};

const conflict = (err: unknown) => err instanceof ApiError && err.code === 409;

/** Creates the Node, or on a restart takes it over again, keeping what users changed (labels added, taints, cordon). */
export async function registerNode(o: NodeLoopOptions): Promise<KubeObject> {
  const machine = await readMachineInfo(o.dataDir, o.runtimeVersion);
  const wanted = newNode(o.id, machine, o.kubeletPort);
  let node: KubeObject;
  try {
    node = await o.client.create(refs.nodes, wanted);
  } catch (err) {
    if (!conflict(err)) throw err;
    node = await o.client.patch(
      refs.nodes,
      o.id.name,
      { metadata: { labels: nodeLabels(o.id, machine.architecture) } },
      { type: 'merge' },
    );
  }
  node = await postStatus(o, node, undefined);
  o.log.info('node registered', { node: o.id.name, ip: o.id.ip });
  return node;
}

async function postStatus(
  o: NodeLoopOptions,
  node: KubeObject,
  samples: ConditionSample[] | undefined,
): Promise<KubeObject> {
  const machine = await readMachineInfo(o.dataDir, o.runtimeVersion);
  const current = samples ?? conditionSamples(await readPressure(o.dataDir), o.readiness());
  const status = {
    ...nodeStatusBase(o.id, machine, o.kubeletPort),
    conditions: nodeConditions(current, node.status?.conditions, isoSeconds(new Date())),
  };
  return o.client.patch(refs.nodes, o.id.name, { status }, { type: 'merge', subresource: 'status' });
}

/** Resolves with spec.podCIDR once the node-ipam controller has set it. */
export async function waitForPodCidr(client: Client, name: string, signal: AbortSignal, log: Logger): Promise<string> {
  const started = Date.now();
  let warned = false;
  while (!signal.aborted) {
    const node = await client.get(refs.nodes, name).catch(() => undefined);
    const cidr: string | undefined = node?.spec?.podCIDR;
    if (cidr) return cidr;
    if (!warned && Date.now() - started > PODCIDR_WARN_MS) {
      warned = true;
      log.warn(
        'still waiting for this node to get a podCIDR (the node-ipam controller assigns one from --cluster-cidr)',
        { node: name },
      );
    }
    await sleep(PODCIDR_POLL_MS, signal);
  }
  throw new Error('stopped while waiting for the podCIDR');
}

async function renewLease(client: Client, node: KubeObject, known: KubeObject | undefined): Promise<KubeObject> {
  const renewTime = microTime(new Date());
  if (known) {
    try {
      return await client.update(refs.leases, { ...known, spec: { ...known.spec, renewTime } });
    } catch (err) {
      if (!(err instanceof ApiError) || (err.code !== 409 && err.code !== 404)) throw err;
    }
  }
  try {
    const current = await client.get(refs.leases, node.metadata.name!, { namespace: NODE_LEASE_NAMESPACE });
    return await client.update(refs.leases, {
      ...current,
      spec: { ...current.spec, holderIdentity: node.metadata.name, renewTime },
    });
  } catch (err) {
    if (!isNotFound(err)) throw err;
    return client.create(refs.leases, nodeLease(node, renewTime));
  }
}

const readyOf = (node: KubeObject | undefined) =>
  (node?.status?.conditions as { type: string; status: string }[] | undefined)?.find((c) => c.type === 'Ready')?.status;

/** Lease and status loops until the signal aborts; `nudge` re-judges the status at once (e.g. the network became ready). */
export function runNodeLoops(o: NodeLoopOptions, registered: KubeObject): { nudge(): void; done: Promise<void> } {
  // A nudge during a post is not lost: the next wait is skipped.
  const wake = { pending: false, now: new AbortController() };
  const nudge = () => {
    wake.pending = true;
    wake.now.abort();
  };
  return { nudge, done: nodeLoops(o, registered, nudge, wake) };
}

async function nodeLoops(
  o: NodeLoopOptions,
  registered: KubeObject,
  nudge: () => void,
  wake: { pending: boolean; now: AbortController },
): Promise<void> {
  let node = registered;
  // Our own Node, watched: a Ready that is not True (the lifecycle controller's Unknown) is answered at once.
  const informer = new Informer({
    source: listWatcherFor(o.client, refs.nodes, { fieldSelector: `metadata.name=${o.id.name}` }),
    signal: o.signal,
    log: o.log,
  });
  const onNode = (n: KubeObject) => {
    if (readyOf(n) !== 'True' && o.readiness().ok) nudge();
  };
  informer.addHandlers({ onAdd: onNode, onUpdate: (_a, n) => onNode(n) });
  const informing = informer.run();

  const leaseLoop = (async () => {
    let lease: KubeObject | undefined;
    while (!o.signal.aborted) {
      try {
        lease = await renewLease(o.client, node, lease);
      } catch (err) {
        lease = undefined;
        if (!o.signal.aborted) o.log.debug('lease renewal failed', { err: (err as Error).message });
      }
      await sleep(LEASE_RENEW_MS, o.signal);
    }
  })();

  let posted: ConditionSample[] | undefined;
  let postedAt = Date.now();
  while (!o.signal.aborted) {
    try {
      const samples = conditionSamples(await readPressure(o.dataDir), o.readiness());
      const seen = informer.get(o.id.name);
      const stale = readyOf(seen) !== undefined && readyOf(seen) !== samples.find((s) => s.type === 'Ready')?.status;
      if (conditionsChanged(samples, posted) || stale || Date.now() - postedAt >= NODE_STATUS_REPORT_MS) {
        node = await postStatus(o, seen ?? node, samples);
        posted = samples;
        postedAt = Date.now();
      }
    } catch (err) {
      posted = undefined;
      if (!o.signal.aborted) o.log.debug('node status update failed', { err: (err as Error).message });
    }
    if (!wake.pending) await sleep(NODE_STATUS_CHECK_MS, AbortSignal.any([o.signal, wake.now.signal]));
    wake.pending = false;
    wake.now = new AbortController();
  }
  await Promise.all([leaseLoop, informing]);
}
