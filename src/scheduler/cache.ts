// The scheduler's view of the cluster: per node, what its pods request, the
// host ports they hold and how many pods of each owner run there. Pods the
// scheduler has decided on but whose binding is still in flight are
// "assumed", so the next decisions already see them.
import type { KubeObject } from '../api/types.ts';
import { type Resources, addResources, emptyResources, nodeAllocatable, podRequests } from './resources.ts';

export type PodInfo = {
  key: string;
  pod: KubeObject;
  nodeName: string;
  requests: Resources;
  nonZero: Resources;
  ports: string[];
  owner: string | undefined;
  assumed: boolean;
  /** Has required pod anti-affinity terms (other pods must check them). */
  antiAffinity: boolean;
};

export type NodeInfo = {
  name: string;
  node: KubeObject;
  allocatable: Resources;
  requested: Resources;
  nonZeroRequested: Resources;
  pods: Map<string, PodInfo>;
  /** "protocol/hostIP/port" → count. */
  ports: Map<string, number>;
  /** controller owner uid → pods on this node. */
  owners: Map<string, number>;
};

export const podKey = (pod: KubeObject) => `${pod.metadata.namespace}/${pod.metadata.name}`;

/** The pod's controller owner, used to spread replicas of one workload. */
export function controllerOwner(pod: KubeObject): string | undefined {
  return pod.metadata.ownerReferences?.find((r) => r.controller)?.uid;
}

/** Host ports a pod needs, as "protocol/hostIP/port" (0.0.0.0 when no hostIP). */
export function hostPorts(pod: KubeObject): string[] {
  const out: string[] = [];
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const p of c.ports ?? []) {
      if (p.hostPort) out.push(`${p.protocol ?? 'TCP'}/${p.hostIP || '0.0.0.0'}/${p.hostPort}`);
    }
  }
  return out;
}

export function podInfo(pod: KubeObject, nodeName: string, assumed = false): PodInfo {
  return {
    key: podKey(pod),
    pod,
    nodeName,
    requests: podRequests(pod),
    nonZero: podRequests(pod, { nonZero: true }),
    ports: hostPorts(pod),
    owner: controllerOwner(pod),
    assumed,
    antiAffinity: (pod.spec?.affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).length > 0,
  };
}

export function newNodeInfo(node: KubeObject): NodeInfo {
  return {
    name: node.metadata.name ?? '',
    node,
    allocatable: nodeAllocatable(node),
    requested: emptyResources(),
    nonZeroRequested: emptyResources(),
    pods: new Map(),
    ports: new Map(),
    owners: new Map(),
  };
}

function account(info: NodeInfo, p: PodInfo, sign: 1 | -1): void {
  addResources(info.requested, p.requests, sign);
  addResources(info.nonZeroRequested, p.nonZero, sign);
  for (const port of p.ports) info.ports.set(port, (info.ports.get(port) ?? 0) + sign);
  if (p.owner) info.owners.set(p.owner, (info.owners.get(p.owner) ?? 0) + sign);
  if (sign > 0) info.pods.set(p.key, p);
  else info.pods.delete(p.key);
}

export class SchedulerCache {
  #nodes = new Map<string, NodeInfo>();
  /** Pods on nodes we do not know (yet): accounted once the node appears. */
  #pods = new Map<string, PodInfo>();
  #list: NodeInfo[] | undefined;
  #withAntiAffinity = new Set<PodInfo>();

  setNode(node: KubeObject): void {
    const name = node.metadata.name ?? '';
    const known = this.#nodes.get(name);
    if (known) {
      known.node = node;
      known.allocatable = nodeAllocatable(node);
      return;
    }
    const info = newNodeInfo(node);
    for (const p of this.#pods.values()) if (p.nodeName === name) account(info, p, 1);
    this.#nodes.set(name, info);
    this.#list = undefined;
  }

  removeNode(name: string): void {
    this.#nodes.delete(name);
    this.#list = undefined;
  }

  /** Every node, in a stable order (the array is reused until nodes change). */
  nodes(): NodeInfo[] {
    this.#list ??= [...this.#nodes.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    return this.#list;
  }

  node(name: string): NodeInfo | undefined {
    return this.#nodes.get(name);
  }

  /** A bound pod as the API reports it (confirms an assumed one). */
  setPod(pod: KubeObject): void {
    this.#put(podInfo(pod, pod.spec?.nodeName ?? ''));
  }

  /** Counts the pod on the node before the API confirms the binding. */
  assume(pod: KubeObject, nodeName: string): void {
    this.#put(podInfo(pod, nodeName, true));
  }

  /** Drops an assumed pod whose binding failed (a confirmed pod stays). */
  forget(key: string): void {
    if (this.#pods.get(key)?.assumed) this.removePod(key);
  }

  isAssumed(key: string): boolean {
    return this.#pods.get(key)?.assumed === true;
  }

  removePod(key: string): void {
    const old = this.#pods.get(key);
    if (!old) return;
    this.#pods.delete(key);
    this.#withAntiAffinity.delete(old);
    const info = this.#nodes.get(old.nodeName);
    if (info?.pods.get(key) === old) account(info, old, -1);
  }

  /** Every pod the cache counts (for pod affinity). */
  pods(): Iterable<PodInfo> {
    return this.#pods.values();
  }

  /** Pods with required anti-affinity, which every new pod must respect. */
  podsWithAntiAffinity(): Iterable<PodInfo> {
    return this.#withAntiAffinity;
  }

  #put(p: PodInfo): void {
    this.removePod(p.key);
    this.#pods.set(p.key, p);
    if (p.antiAffinity) this.#withAntiAffinity.add(p);
    const info = this.#nodes.get(p.nodeName);
    if (info) account(info, p, 1);
  }
}
