// What a StatefulSet should do next, as pkg/controller/statefulset decides it
// (stateful_set_control.go), as a pure function of the set and its pods:
// ordinals in [start, start+replicas) are kept, the rest are condemned;
// OrderedReady makes one change at a time, each predecessor Running and Ready
// first, scaling down from the highest ordinal; Parallel does everything at
// once; RollingUpdate replaces pods from the highest ordinal down to the
// partition, one at a time (or up to maxUnavailable); OnDelete only replaces
// pods the user deletes.
import type { KubeObject } from '../api/types.ts';
import {
  isFinished,
  isPodAvailable,
  isPodReady,
  isRunning,
  isTerminating,
  msUntilAvailable,
  type Pod,
  REVISION_HASH_LABEL,
  scaledValue,
} from './workload-pods.ts';

/** Label holding the pod's own name, so a Service can select exactly one StatefulSet pod. */
export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
/** Label holding the pod's ordinal (PodIndexLabel, on by default since 1.28). */
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

export type StatefulSetStatus = {
  observedGeneration?: number;
  replicas: number;
  readyReplicas: number;
  currentReplicas: number;
  updatedReplicas: number;
  availableReplicas: number;
  currentRevision: string;
  updateRevision: string;
  collisionCount: number;
};

export type StatefulSetAction =
  /** Create `<set>-<ordinal>` from the current or the update revision. */
  | { type: 'create'; ordinal: number; revision: 'current' | 'update' }
  | { type: 'delete'; pod: Pod; why: 'finished' | 'scale-down' | 'update' }
  /** Labels that carry the pod's identity are missing or wrong. */
  | { type: 'fix-identity'; pod: Pod };

export type StatefulSetPlan = {
  actions: StatefulSetAction[];
  status: StatefulSetStatus;
  /** Look again then (a pod becomes available after minReadySeconds). */
  requeueAfterMs?: number;
};

export type PlanInput = {
  set: KubeObject;
  /** Pods the set owns (claimed), any order. */
  pods: Pod[];
  currentRevision: string;
  updateRevision: string;
  collisionCount: number;
  now: number;
};

const ORDINAL_NAME = /^(.*)-(\d+)$/;

/** `web-3` → { parent: 'web', ordinal: 3 }; ordinal -1 when the name has none. */
export function parentAndOrdinal(name: string): { parent: string; ordinal: number } {
  const m = ORDINAL_NAME.exec(name);
  if (!m) return { parent: '', ordinal: -1 };
  const ordinal = Number(m[2]);
  return Number.isSafeInteger(ordinal) ? { parent: m[1], ordinal } : { parent: '', ordinal: -1 };
}

export const podName = (set: KubeObject, ordinal: number): string => `${set.metadata.name}-${ordinal}`;
export const startOrdinal = (set: KubeObject): number => set.spec?.ordinals?.start ?? 0;
export const replicaCount = (set: KubeObject): number => set.spec?.replicas ?? 1;
export const podRevision = (pod: Pod): string => pod.metadata.labels?.[REVISION_HASH_LABEL] ?? '';

/** A pod that carries this set's name before its ordinal (isMemberOf). */
export const isMemberOf = (set: KubeObject, pod: Pod): boolean => parentAndOrdinal(pod.metadata.name ?? '').parent === set.metadata.name;

export function identityMatches(set: KubeObject, pod: Pod): boolean {
  const { parent, ordinal } = parentAndOrdinal(pod.metadata.name ?? '');
  const labels = pod.metadata.labels ?? {};
  return (
    ordinal >= 0 &&
    parent === set.metadata.name &&
    pod.metadata.namespace === set.metadata.namespace &&
    labels[POD_NAME_LABEL] === pod.metadata.name &&
    labels[POD_INDEX_LABEL] === String(ordinal)
  );
}

/** The identity a pod of the set carries: labels, and hostname/subdomain for its DNS name `<pod>.<serviceName>`. */
export function applyIdentity(set: KubeObject, pod: Pod, ordinal: number): Pod {
  const name = podName(set, ordinal);
  pod.metadata.name = name;
  pod.metadata.namespace = set.metadata.namespace;
  pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal) };
  pod.spec = { ...(pod.spec ?? {}), hostname: name };
  if (set.spec?.serviceName) pod.spec.subdomain = set.spec.serviceName;
  return pod;
}

/** Running, Ready and not terminating (isHealthy). */
const isHealthy = (pod: Pod | undefined): boolean => !!pod && isRunning(pod) && isPodReady(pod) && !isTerminating(pod);

/** New pods below the partition come from the current revision, the rest from the update revision. */
export function revisionForNewPod(set: KubeObject, ordinal: number): 'current' | 'update' {
  const strategy = set.spec?.updateStrategy ?? {};
  if (strategy.type !== 'RollingUpdate' && strategy.type !== undefined) return 'update';
  const start = startOrdinal(set);
  const partition = strategy.rollingUpdate?.partition;
  const bound = partition === undefined ? (set.status?.currentReplicas ?? 0) : partition;
  return ordinal < start + bound ? 'current' : 'update';
}

export function computeStatus(input: PlanInput, pods: Pod[]): StatefulSetStatus {
  const minReady = input.set.spec?.minReadySeconds ?? 0;
  const status: StatefulSetStatus = {
    observedGeneration: input.set.metadata.generation,
    replicas: 0,
    readyReplicas: 0,
    currentReplicas: 0,
    updatedReplicas: 0,
    availableReplicas: 0,
    currentRevision: input.currentRevision,
    updateRevision: input.updateRevision,
    collisionCount: input.collisionCount,
  };
  for (const pod of pods) {
    status.replicas++;
    if (isRunning(pod) && isPodReady(pod)) {
      status.readyReplicas++;
      if (isPodAvailable(pod, minReady, input.now)) status.availableReplicas++;
    }
    if (isTerminating(pod)) continue;
    if (podRevision(pod) === input.currentRevision) status.currentReplicas++;
    if (podRevision(pod) === input.updateRevision) status.updatedReplicas++;
  }
  // A finished rolling update makes the update revision current (completeRollingUpdate).
  const rolling = (input.set.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
  if (rolling && status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas) {
    status.currentReplicas = status.updatedReplicas;
    status.currentRevision = status.updateRevision;
  }
  return status;
}

/** Splits pods into the ordinal slots to keep and the condemned (highest ordinal first). */
export function slotPods(set: KubeObject, pods: Pod[]): { replicas: (Pod | undefined)[]; condemned: Pod[] } {
  const start = startOrdinal(set);
  const replicas: (Pod | undefined)[] = new Array(replicaCount(set)).fill(undefined);
  const condemned: { pod: Pod; ordinal: number }[] = [];
  for (const pod of pods) {
    const { ordinal } = parentAndOrdinal(pod.metadata.name ?? '');
    if (ordinal < 0) continue;
    if (ordinal >= start && ordinal < start + replicas.length) replicas[ordinal - start] = pod;
    else condemned.push({ pod, ordinal });
  }
  condemned.sort((a, b) => b.ordinal - a.ordinal);
  return { replicas, condemned: condemned.map((c) => c.pod) };
}

/** The next changes for the set. */
export function planStatefulSet(input: PlanInput): StatefulSetPlan {
  const { set, now } = input;
  const minReady = set.spec?.minReadySeconds ?? 0;
  const monotonic = set.spec?.podManagementPolicy !== 'Parallel';
  const start = startOrdinal(set);
  const { replicas, condemned } = slotPods(set, input.pods);
  const status = computeStatus(input, [...replicas.filter((p): p is Pod => !!p), ...condemned]);
  const actions: StatefulSetAction[] = [];
  const plan: StatefulSetPlan = { actions, status };
  if (set.metadata.deletionTimestamp) return plan;
  const waitUntilAvailable = (pod: Pod) => {
    const ms = msUntilAvailable(pod, minReady, now);
    if (ms > 0) plan.requeueAfterMs = Math.min(plan.requeueAfterMs ?? ms, ms);
  };

  // The first unhealthy pod, among the kept ordinals upwards, then the condemned upwards.
  const firstUnhealthy = [...replicas, ...[...condemned].reverse()].find((p) => !isHealthy(p));
  // Revision each slot will have once this pass's creations land ('' for none).
  const slotRevision: string[] = replicas.map((p) => (p ? podRevision(p) : ''));

  for (let i = 0; i < replicas.length; i++) {
    const pod = replicas[i];
    const ordinal = start + i;
    if (!pod) {
      const revision = revisionForNewPod(set, ordinal);
      actions.push({ type: 'create', ordinal, revision });
      slotRevision[i] = revision === 'current' ? input.currentRevision : input.updateRevision;
      if (monotonic) return plan;
      continue;
    }
    if (isFinished(pod)) {
      // A finished pod is deleted and recreated on a later pass.
      if (!isTerminating(pod)) actions.push({ type: 'delete', pod, why: 'finished' });
      if (monotonic) return plan;
      continue;
    }
    if (monotonic && (isTerminating(pod) || !isRunning(pod) || !isPodReady(pod))) return plan;
    if (monotonic && !isPodAvailable(pod, minReady, now)) {
      waitUntilAvailable(pod);
      return plan;
    }
    if (!identityMatches(set, pod)) actions.push({ type: 'fix-identity', pod });
  }

  for (const pod of condemned) {
    if (isTerminating(pod)) {
      if (monotonic) return plan;
      continue;
    }
    if (monotonic && pod !== firstUnhealthy && !(isRunning(pod) && isPodReady(pod))) return plan;
    if (monotonic && pod !== firstUnhealthy && !isPodAvailable(pod, minReady, now)) {
      waitUntilAvailable(pod);
      return plan;
    }
    actions.push({ type: 'delete', pod, why: 'scale-down' });
    if (monotonic) return plan;
  }

  const strategy = set.spec?.updateStrategy ?? {};
  if ((strategy.type ?? 'RollingUpdate') !== 'RollingUpdate') return plan;
  rollingUpdate(input, replicas, slotRevision, plan);
  return plan;
}

/** Replaces out-of-date pods from the highest ordinal down to the partition. */
function rollingUpdate(input: PlanInput, replicas: (Pod | undefined)[], slotRevision: string[], plan: StatefulSetPlan): void {
  const rollingUpdate = input.set.spec?.updateStrategy?.rollingUpdate ?? {};
  const partition = rollingUpdate.partition ?? 0;
  const outdated = (i: number) => {
    const pod = replicas[i];
    return slotRevision[i] !== input.updateRevision && !!pod && !isTerminating(pod);
  };
  if (rollingUpdate.maxUnavailable === undefined) {
    for (let i = replicas.length - 1; i >= partition; i--) {
      const pod = replicas[i];
      if (pod && outdated(i)) {
        plan.actions.push({ type: 'delete', pod, why: 'update' });
        return;
      }
      if (!isHealthy(pod)) return; // wait for this pod before touching lower ordinals
    }
    return;
  }
  // maxUnavailable (MaxUnavailableStatefulSet): several at once, never more than that many unhealthy.
  const maxUnavailable = Math.max(1, scaledValue(rollingUpdate.maxUnavailable, replicas.length, { roundUp: false, fallback: 1 }));
  const unavailable = replicas.filter((p) => !isHealthy(p)).length;
  let budget = maxUnavailable - unavailable;
  for (let i = replicas.length - 1; i >= partition; i--) {
    const pod = replicas[i];
    if (!pod || !outdated(i)) continue;
    // Replacing a pod that is down already costs no availability.
    if (!isHealthy(pod)) plan.actions.push({ type: 'delete', pod, why: 'update' });
    else if (budget > 0) {
      plan.actions.push({ type: 'delete', pod, why: 'update' });
      budget--;
    }
  }
}
