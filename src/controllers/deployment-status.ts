// A Deployment's status and conditions (Kubernetes' sync.go calculateStatus,
// progress.go syncRolloutStatus, deploymentutil conditions): counts from its
// ReplicaSets, Available from minimum availability, Progressing from
// rollout progress against progressDeadlineSeconds, ReplicaFailure copied
// from the ReplicaSets. Pure: `now` is a parameter.
import { normalizeTemplate } from './deployment-hash.ts';
import {
  actualReplicaCount,
  availableReplicaCount,
  type Deployment,
  MAX_INT32,
  type ReplicaSet,
  readyReplicaCount,
  replicaCount,
  specReplicas,
} from './deployment-replicasets.ts';
import { maxUnavailable } from './deployment-rolling.ts';

export type DeploymentCondition = {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  lastUpdateTime?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
};

export type DeploymentStatus = {
  observedGeneration?: number;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  unavailableReplicas?: number;
  collisionCount?: number;
  conditions?: DeploymentCondition[];
};

/** Condition reasons, spelled as Kubernetes' deploymentutil spells them (users and tools match on them). */
export const REASONS = {
  newRS: 'NewReplicaSetCreated',
  foundNewRS: 'FoundNewReplicaSet',
  rsUpdated: 'ReplicaSetUpdated',
  newRSAvailable: 'NewReplicaSetAvailable',
  timedOut: 'ProgressDeadlineExceeded',
  paused: 'DeploymentPaused',
  resumed: 'DeploymentResumed',
  failedRSCreate: 'ReplicaSetCreateError',
  minimumAvailable: 'MinimumReplicasAvailable',
  minimumUnavailable: 'MinimumReplicasUnavailable',
} as const;

/** Kubernetes' condition timestamps have second precision. */
export const timestamp = (now: Date) => now.toISOString().replace(/\.\d+Z$/, 'Z');

export function newCondition(type: string, status: DeploymentCondition['status'], reason: string, message: string, now: Date): DeploymentCondition {
  const at = timestamp(now);
  return { type, status, lastUpdateTime: at, lastTransitionTime: at, reason, message };
}

export function getCondition(status: DeploymentStatus | undefined, type: string): DeploymentCondition | undefined {
  return status?.conditions?.find((c) => c.type === type);
}

/**
 * Sets a condition in place (SetDeploymentCondition): the same status and
 * reason changes nothing; the same status keeps its lastTransitionTime; the
 * condition moves to the end.
 */
export function setCondition(status: DeploymentStatus, condition: DeploymentCondition): void {
  const current = getCondition(status, condition.type);
  if (current && current.status === condition.status && current.reason === condition.reason) return;
  const next = { ...condition };
  if (current && current.status === condition.status) next.lastTransitionTime = current.lastTransitionTime;
  status.conditions = [...(status.conditions ?? []).filter((c) => c.type !== condition.type), next];
}

export function removeCondition(status: DeploymentStatus, type: string): void {
  if (!status.conditions) return;
  status.conditions = status.conditions.filter((c) => c.type !== type);
}

/** A progress deadline that is set and is not the old APIs' "unset" MaxInt32. */
export function hasProgressDeadline(d: Deployment): boolean {
  const s = d.spec?.progressDeadlineSeconds;
  return typeof s === 'number' && s !== MAX_INT32;
}

/** Counts from the ReplicaSets plus Available (calculateStatus); other conditions are carried over. */
export function calculateStatus(d: Deployment, allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, now: Date): DeploymentStatus {
  const available = availableReplicaCount(allRSs);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata.generation,
    replicas: actualReplicaCount(allRSs),
    updatedReplicas: actualReplicaCount([newRS]),
    readyReplicas: readyReplicaCount(allRSs),
    availableReplicas: available,
    unavailableReplicas: Math.max(0, replicaCount(allRSs) - available),
    conditions: structuredClone(d.status?.conditions ?? []),
  };
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  if (available >= specReplicas(d) - maxUnavailable(d)) {
    setCondition(status, newCondition('Available', 'True', REASONS.minimumAvailable, 'Deployment has minimum availability.', now));
  } else {
    setCondition(status, newCondition('Available', 'False', REASONS.minimumUnavailable, 'Deployment does not have minimum availability.', now));
  }
  return status;
}

/** Every replica updated and available, and this generation observed (DeploymentComplete). */
export function deploymentComplete(d: Deployment, s: DeploymentStatus): boolean {
  const n = specReplicas(d);
  return s.updatedReplicas === n && s.replicas === n && s.availableReplicas === n && (s.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}

/** Any sign of progress against the last status (DeploymentProgressing). */
export function deploymentProgressing(d: Deployment, s: DeploymentStatus): boolean {
  const old: DeploymentStatus = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (s.replicas ?? 0) - (s.updatedReplicas ?? 0);
  return (
    (s.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) ||
    newOld < oldOld ||
    (s.readyReplicas ?? 0) > (old.readyReplicas ?? 0) ||
    (s.availableReplicas ?? 0) > (old.availableReplicas ?? 0)
  );
}

/** No progress reported for progressDeadlineSeconds (DeploymentTimedOut). */
export function deploymentTimedOut(d: Deployment, s: DeploymentStatus, now: Date): boolean {
  if (!hasProgressDeadline(d)) return false;
  const c = getCondition(s, 'Progressing');
  if (!c) return false;
  if (c.reason === REASONS.newRSAvailable) return false;
  if (c.reason === REASONS.timedOut) return true;
  const from = Date.parse(c.lastUpdateTime ?? '');
  return !Number.isNaN(from) && from + d.spec.progressDeadlineSeconds * 1000 < now.getTime();
}

/** The first ReplicaFailure condition of the new ReplicaSet, else of any other (getReplicaFailures). */
function replicaFailure(allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): DeploymentCondition | undefined {
  const failureOf = (rs: ReplicaSet | undefined) =>
    (rs?.status?.conditions as DeploymentCondition[] | undefined)?.find((c) => c.type === 'ReplicaFailure');
  const found = failureOf(newRS) ?? allRSs.map(failureOf).find(Boolean);
  if (!found) return undefined;
  // ReplicaSetToDeploymentCondition: a ReplicaSet condition has no lastUpdateTime; the transition time serves.
  return {
    type: 'ReplicaFailure',
    status: found.status,
    lastUpdateTime: found.lastTransitionTime,
    lastTransitionTime: found.lastTransitionTime,
    reason: found.reason,
    message: found.message,
  };
}

/** The status after a rollout step, with Progressing estimated (syncRolloutStatus). */
export function rolloutStatus(d: Deployment, allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined, now: Date): DeploymentStatus {
  const status = calculateStatus(d, allRSs, newRS, now);
  const deadline = hasProgressDeadline(d);
  if (!deadline) removeCondition(status, 'Progressing');
  const current = getCondition(d.status, 'Progressing');
  const complete = status.replicas === status.updatedReplicas && current?.reason === REASONS.newRSAvailable;
  if (deadline && !complete) {
    const name = newRS ? `ReplicaSet "${newRS.metadata.name}"` : `Deployment "${d.metadata.name}"`;
    if (deploymentComplete(d, status)) {
      setCondition(status, newCondition('Progressing', 'True', REASONS.newRSAvailable, `${name} has successfully progressed.`, now));
    } else if (deploymentProgressing(d, status)) {
      // Progress refreshes lastUpdateTime even with the same reason; a True condition keeps its transition time.
      const c = newCondition('Progressing', 'True', REASONS.rsUpdated, `${name} is progressing.`, now);
      if (current?.status === 'True') c.lastTransitionTime = current.lastTransitionTime;
      removeCondition(status, 'Progressing');
      setCondition(status, c);
    } else if (deploymentTimedOut(d, status, now)) {
      setCondition(status, newCondition('Progressing', 'False', REASONS.timedOut, `${name} has timed out progressing.`, now));
    }
  }
  const failure = replicaFailure(allRSs, newRS);
  if (failure) setCondition(status, failure);
  else removeCondition(status, 'ReplicaFailure');
  return status;
}

/**
 * When to look again so a stalled rollout is reported as timed out on time
 * (requeueStuckDeployment): undefined when no check is needed.
 */
export function progressRecheckMs(d: Deployment, s: DeploymentStatus, now: Date): number | undefined {
  const c = getCondition(d.status, 'Progressing');
  if (!hasProgressDeadline(d) || !c) return undefined;
  if (deploymentComplete(d, s) || c.reason === REASONS.timedOut) return undefined;
  const from = Date.parse(c.lastUpdateTime ?? '');
  if (Number.isNaN(from)) return undefined;
  return Math.max(0, from + d.spec.progressDeadlineSeconds * 1000 - now.getTime());
}

/**
 * Progressing Unknown with DeploymentPaused / DeploymentResumed when the
 * paused flag flips (checkPausedConditions); a reported timeout is kept.
 * Returns the changed status, or undefined when nothing changes.
 */
export function pausedConditionUpdate(d: Deployment, now: Date): DeploymentStatus | undefined {
  if (!hasProgressDeadline(d)) return undefined;
  const c = getCondition(d.status, 'Progressing');
  if (c?.reason === REASONS.timedOut) return undefined;
  const pausedShown = c?.reason === REASONS.paused;
  const status: DeploymentStatus = structuredClone(d.status ?? {});
  if (d.spec?.paused && !pausedShown) {
    setCondition(status, newCondition('Progressing', 'Unknown', REASONS.paused, 'Deployment is paused', now));
    return status;
  }
  if (!d.spec?.paused && pausedShown) {
    setCondition(status, newCondition('Progressing', 'Unknown', REASONS.resumed, 'Deployment is resumed', now));
    return status;
  }
  return undefined;
}

/** Whether writing `next` would change the stored status (reflect.DeepEqual; zero counts equal absent ones). */
export function statusDiffers(current: DeploymentStatus | undefined, next: DeploymentStatus): boolean {
  const norm = (s: DeploymentStatus | undefined) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(s ?? {})) if (v !== 0) out[k] = v;
    return JSON.stringify(normalizeTemplate(out));
  };
  return norm(current) !== norm(next);
}
