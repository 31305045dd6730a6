// What a DaemonSet should do next, as pkg/controller/daemon decides it, as
// pure functions: `manage` puts exactly one pod on each eligible node and
// removes pods from nodes that no longer qualify (or no longer exist);
// `rollingUpdate` replaces out-of-date pods within maxUnavailable, or with
// maxSurge starts the new pod first; `daemonSetStatus` counts what is there.
import type { KubeObject } from '../api/types.ts';
import { nodeShouldRunDaemonPod, targetNodeName } from './daemonset-nodes.ts';
import { creationMs, isFinished, isPodAvailable, isPodReady, isTerminating, msUntilAvailable, type Pod, REVISION_HASH_LABEL, scaledValue } from './workload-pods.ts';

/** Pods record the template generation they came from (alongside the revision hash). */
export const TEMPLATE_GENERATION_LABEL = 'pod-template-generation';
/** Where apps/v1 keeps spec.templateGeneration of older API versions. */
export const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

export type DaemonSetInput = {
  ds: KubeObject;
  nodes: KubeObject[];
  /** Pods the DaemonSet owns. */
  pods: Pod[];
  /** The update revision's hash (its controller-revision-hash label). */
  hash: string;
  now: number;
};

export type DaemonSetChanges = {
  /** Nodes to create a daemon pod on. */
  createOn: string[];
  deletePods: Pod[];
  /** Pods that failed, deleted so they are replaced (each worth an Event). */
  failedPods: Pod[];
};

export type DaemonSetStatus = {
  observedGeneration?: number;
  desiredNumberScheduled: number;
  currentNumberScheduled: number;
  numberMisscheduled: number;
  numberReady: number;
  numberAvailable: number;
  updatedNumberScheduled: number;
  numberUnavailable: number;
  collisionCount: number;
};

export const templateGeneration = (ds: KubeObject): string | undefined => ds.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION];

/** From the update revision: its hash label, or (older pods) the template generation (util.IsPodUpdated). */
export function isPodUpdated(pod: Pod, hash: string, generation: string | undefined): boolean {
  const labels = pod.metadata.labels ?? {};
  return (generation !== undefined && labels[TEMPLATE_GENERATION_LABEL] === generation) || (hash !== '' && labels[REVISION_HASH_LABEL] === hash);
}

/** Scheduled pods first, then oldest first, then by name (podByCreationTimestampAndPhase). */
export function byAgeScheduledFirst(a: Pod, b: Pod): number {
  const sa = a.spec?.nodeName ? 0 : 1;
  const sb = b.spec?.nodeName ? 0 : 1;
  return sa - sb || creationMs(a) - creationMs(b) || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
}

/** Pods by the node they are on or pinned to; pods bound for no node are left out. */
export function podsByNode(pods: Pod[]): Map<string, Pod[]> {
  const out = new Map<string, Pod[]>();
  for (const pod of pods) {
    const node = targetNodeName(pod);
    if (!node) continue;
    const list = out.get(node) ?? [];
    list.push(pod);
    out.set(node, list);
  }
  for (const list of out.values()) list.sort(byAgeScheduledFirst);
  return out;
}

const byName = (a: KubeObject, b: KubeObject) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');

/** maxSurge and maxUnavailable as pod counts of the eligible nodes (both round up; never both 0). */
export function updateBounds(ds: KubeObject, desired: number): { maxSurge: number; maxUnavailable: number } {
  const ru = ds.spec?.updateStrategy?.rollingUpdate ?? {};
  const maxSurge = scaledValue(ru.maxSurge, desired, { roundUp: true, fallback: 0 });
  let maxUnavailable = scaledValue(ru.maxUnavailable, desired, { roundUp: true, fallback: 1 });
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

/** The core loop (manage + podsShouldBeOnNode): one daemon pod per eligible node, none elsewhere. */
export function manage(input: DaemonSetInput): DaemonSetChanges {
  const { ds, nodes, hash, now } = input;
  const changes: DaemonSetChanges = { createOn: [], deletePods: [], failedPods: [] };
  const byNode = podsByNode(input.pods);
  const surge = (ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate' && updateBounds(ds, nodes.length).maxSurge > 0;
  const minReady = ds.spec?.minReadySeconds ?? 0;
  for (const node of [...nodes].sort(byName)) {
    const name = node.metadata.name ?? '';
    const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
    const here = byNode.get(name) ?? [];
    if (shouldRun && here.length === 0) {
      changes.createOn.push(name);
      continue;
    }
    if (!shouldContinueRunning) {
      changes.deletePods.push(...here.filter((p) => !isTerminating(p)));
      continue;
    }
    const running: Pod[] = [];
    for (const pod of here) {
      if (isTerminating(pod)) continue;
      if (pod.status?.phase === 'Failed') changes.failedPods.push(pod);
      else running.push(pod);
    }
    if (!surge) {
      // More than one: keep the oldest. None left (all failed): the next pass creates one.
      changes.deletePods.push(...running.slice(1));
      continue;
    }
    if (running.length <= 1) {
      if (running.length === 0 && shouldRun) changes.createOn.push(name);
      continue;
    }
    // Surging: one old and one new may overlap until the new one is available.
    let oldestNew: Pod | undefined;
    let oldestOld: Pod | undefined;
    for (const pod of running) {
      const isNew = pod.metadata.labels?.[REVISION_HASH_LABEL] === hash;
      if (isNew && !oldestNew) oldestNew = pod;
      else if (!isNew && !oldestOld) oldestOld = pod;
      else changes.deletePods.push(pod);
    }
    if (oldestNew && oldestOld && (!isPodReady(oldestOld) || isPodAvailable(oldestNew, minReady, now))) changes.deletePods.push(oldestOld);
  }
  // Daemon pods for nodes that are gone (no pod GC here to remove pods of deleted nodes).
  const existing = new Set(nodes.map((n) => n.metadata.name));
  for (const [node, pods] of byNode) if (!existing.has(node)) changes.deletePods.push(...pods.filter((p) => !isTerminating(p)));
  return changes;
}

/** The new and old pod on a node, or undefined when there are more than one of either (findUpdatedPodsOnNode). */
function updatedPodsOnNode(pods: Pod[], hash: string, generation: string | undefined): { newPod?: Pod; oldPod?: Pod } | undefined {
  const out: { newPod?: Pod; oldPod?: Pod } = {};
  for (const pod of pods) {
    if (isTerminating(pod)) continue;
    if (isPodUpdated(pod, hash, generation)) {
      if (out.newPod) return undefined;
      out.newPod = pod;
    } else {
      if (out.oldPod) return undefined;
      out.oldPod = pod;
    }
  }
  return out;
}

/** Replaces out-of-date pods within the bounds (update.go rollingUpdate). */
export function rollingUpdate(input: DaemonSetInput): DaemonSetChanges {
  const { ds, nodes, hash, now } = input;
  const changes: DaemonSetChanges = { createOn: [], deletePods: [], failedPods: [] };
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const generation = templateGeneration(ds);
  const nodeByName = new Map(nodes.map((n) => [n.metadata.name ?? '', n]));
  const desired = nodes.filter((n) => nodeShouldRunDaemonPod(n, ds).shouldRun).length;
  const { maxSurge, maxUnavailable } = updateBounds(ds, desired);
  const available = (p: Pod) => isPodAvailable(p, minReady, now);
  const byNode = [...podsByNode(input.pods)].sort(([a], [b]) => a.localeCompare(b));

  if (maxSurge === 0) {
    let unavailable = 0;
    const replacements: Pod[] = [];
    const candidates: Pod[] = [];
    for (const [, pods] of byNode) {
      const found = updatedPodsOnNode(pods, hash, generation);
      if (!found) {
        unavailable++; // the core loop cleans up extra pods first
        continue;
      }
      const { newPod, oldPod } = found;
      if ((!oldPod && !newPod) || (oldPod && newPod)) unavailable++;
      else if (newPod) {
        if (!available(newPod)) unavailable++;
      } else if (oldPod && !available(oldPod)) {
        replacements.push(oldPod); // down already: replacing it costs nothing
        unavailable++;
      } else if (oldPod && unavailable < maxUnavailable) candidates.push(oldPod);
    }
    const room = Math.min(Math.max(0, maxUnavailable - unavailable), candidates.length);
    changes.deletePods.push(...replacements, ...candidates.slice(0, room));
    return changes;
  }

  const shouldNotRun: Pod[] = [];
  const allowedNewNodes: string[] = [];
  const candidateNewNodes: string[] = [];
  let surging = 0;
  let numAvailable = 0;
  for (const [nodeName, pods] of byNode) {
    const found = updatedPodsOnNode(pods, hash, generation);
    if (!found) {
      surging++;
      continue;
    }
    const { newPod, oldPod } = found;
    if (oldPod ? available(oldPod) : newPod && available(newPod)) numAvailable++;
    if (!oldPod) continue;
    const node = nodeByName.get(nodeName);
    const runs = node ? nodeShouldRunDaemonPod(node, ds).shouldRun : false;
    if (!newPod) {
      if (!available(oldPod)) {
        if (!runs) changes.deletePods.push(oldPod);
        else allowedNewNodes.push(nodeName);
      } else if (!runs) shouldNotRun.push(oldPod);
      else if (surging < maxSurge) candidateNewNodes.push(nodeName);
      continue;
    }
    if (!available(newPod)) surging++;
    else changes.deletePods.push(oldPod); // the new pod serves: the old one can go
  }
  // Old pods on nodes that no longer qualify go only once enough pods elsewhere are available.
  const deletable = Math.min(Math.max(0, numAvailable - desired), shouldNotRun.length);
  changes.deletePods.push(...shouldNotRun.slice(0, deletable));
  const room = Math.min(Math.max(0, maxSurge - surging), candidateNewNodes.length);
  changes.createOn.push(...allowedNewNodes, ...candidateNewNodes.slice(0, room));
  return changes;
}

/** updateDaemonSetStatus's counts; `requeueAfterMs` when a ready pod becomes available later. */
export function daemonSetStatus(input: DaemonSetInput & { collisionCount: number }): { status: DaemonSetStatus; requeueAfterMs?: number } {
  const { ds, nodes, hash, now } = input;
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const generation = templateGeneration(ds);
  const byNode = podsByNode(input.pods.filter((p) => !(isFinished(p) && isTerminating(p))));
  const status: DaemonSetStatus = {
    observedGeneration: ds.metadata.generation,
    desiredNumberScheduled: 0,
    currentNumberScheduled: 0,
    numberMisscheduled: 0,
    numberReady: 0,
    numberAvailable: 0,
    updatedNumberScheduled: 0,
    numberUnavailable: 0,
    collisionCount: input.collisionCount,
  };
  let requeueAfterMs: number | undefined;
  for (const node of nodes) {
    const { shouldRun } = nodeShouldRunDaemonPod(node, ds);
    const pods = byNode.get(node.metadata.name ?? '') ?? [];
    if (!shouldRun) {
      if (pods.length > 0) status.numberMisscheduled++;
      continue;
    }
    status.desiredNumberScheduled++;
    if (pods.length === 0) continue;
    status.currentNumberScheduled++;
    const pod = pods[0];
    if (isPodReady(pod)) {
      status.numberReady++;
      if (isPodAvailable(pod, minReady, now)) status.numberAvailable++;
      else {
        const ms = msUntilAvailable(pod, minReady, now);
        if (ms > 0) requeueAfterMs = Math.min(requeueAfterMs ?? ms, ms);
      }
    }
    if (isPodUpdated(pod, hash, generation)) status.updatedNumberScheduled++;
  }
  status.numberUnavailable = status.desiredNumberScheduled - status.numberAvailable;
  return { status, requeueAfterMs };
}
