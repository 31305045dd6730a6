// Rolling-update and scaling arithmetic of the Deployment controller
// (Kubernetes' rolling.go, sync.go scale(), deploymentutil): surge and
// unavailability bounds, how far the new ReplicaSet may grow, which old
// ReplicaSets shrink, and proportional scaling during a rollout. Pure: each
// function returns the sizes to set; the controller writes them.
import {
  activeReplicaSets,
  availableReplicaCount,
  availableReplicas,
  byCreation,
  bySizeNewer,
  bySizeOlder,
  DESIRED_REPLICAS_ANNOTATION,
  type Deployment,
  MAX_REPLICAS_ANNOTATION,
  type ReplicaSet,
  replicaCount,
  specReplicas,
} from './deployment-replicasets.ts';

export type IntOrPercent = number | string | undefined | null;
export type Scaling = { rs: ReplicaSet; replicas: number };

/**
 * An absolute number, or a percentage of total rounded up or down
 * (intstr.GetScaledValueFromIntOrPercent). Throws on anything else.
 */
export function scaledValue(value: IntOrPercent, total: number, roundUp: boolean): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number') return value;
  const m = /^(-?\d+)%$/.exec(value);
  if (!m) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage: ${JSON.stringify(value)}`);
  const scaled = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

/**
 * maxSurge rounded up, maxUnavailable rounded down; if both come out 0
 * (validation forbids it explicitly, rounding can still get there)
 * unavailable becomes 1 so the rollout can move (ResolveFenceposts).
 */
export function resolveFenceposts(maxSurge: IntOrPercent, maxUnavailable: IntOrPercent, desired: number): { surge: number; unavailable: number } {
  const surge = scaledValue(maxSurge ?? 0, desired, true);
  let unavailable = scaledValue(maxUnavailable ?? 0, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export const isRollingUpdate = (d: Deployment) => (d.spec?.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate';

const fenceposts = (d: Deployment) => {
  const ru = d.spec?.strategy?.rollingUpdate ?? {};
  return resolveFenceposts(ru.maxSurge ?? '25%', ru.maxUnavailable ?? '25%', specReplicas(d));
};

/** Pods allowed above the desired count; 0 for Recreate (deploymentutil.MaxSurge). */
export function maxSurge(d: Deployment): number {
  return isRollingUpdate(d) ? fenceposts(d).surge : 0;
}

/** Pods allowed to be unavailable, never more than desired; 0 for Recreate or 0 replicas (deploymentutil.MaxUnavailable). */
export function maxUnavailable(d: Deployment): number {
  const desired = specReplicas(d);
  if (!isRollingUpdate(d) || desired === 0) return 0;
  return Math.min(fenceposts(d).unavailable, desired);
}

/** The size the new ReplicaSet may grow to now (NewRSNewReplicas). */
export function newReplicaSetReplicas(d: Deployment, allRSs: ReplicaSet[], newRS: ReplicaSet): number {
  const desired = specReplicas(d);
  if (!isRollingUpdate(d)) return desired;
  const current = replicaCount(allRSs);
  const maxTotal = desired + maxSurge(d);
  if (current >= maxTotal) return specReplicas(newRS);
  const up = Math.min(maxTotal - current, desired - specReplicas(newRS));
  return specReplicas(newRS) + up;
}

/**
 * The old ReplicaSets to shrink in one rolling step (reconcileOldReplicaSets):
 * first their unavailable pods (they cost no availability), then available
 * ones down to desired - maxUnavailable, counting the new ReplicaSet's
 * unavailable pods against the budget. Oldest ReplicaSets shrink first.
 */
export function oldReplicaSetsScaleDown(d: Deployment, allRSs: ReplicaSet[], oldRSs: ReplicaSet[], newRS: ReplicaSet): Scaling[] {
  const active = activeReplicaSets(oldRSs).sort(byCreation);
  if (replicaCount(active) === 0) return [];
  const minAvailable = specReplicas(d) - maxUnavailable(d);
  const newUnavailable = specReplicas(newRS) - availableReplicas(newRS);
  const maxScaledDown = replicaCount(allRSs) - minAvailable - newUnavailable;
  if (maxScaledDown <= 0) return [];

  const sizes = new Map<ReplicaSet, number>(active.map((rs) => [rs, specReplicas(rs)]));
  // Unhealthy replicas first, otherwise they block the rollout (cleanupUnhealthyReplicas).
  let cleaned = 0;
  for (const rs of active) {
    if (cleaned >= maxScaledDown) break;
    const size = sizes.get(rs) ?? 0;
    const unhealthy = size - availableReplicas(rs);
    if (size === 0 || unhealthy <= 0) continue;
    const n = Math.min(maxScaledDown - cleaned, unhealthy);
    sizes.set(rs, size - n);
    cleaned += n;
  }
  // Then available replicas, as far as availability allows (scaleDownOldReplicaSetsForRollingUpdate).
  const available = availableReplicaCount(allRSs);
  if (available > minAvailable) {
    const budget = available - minAvailable;
    let scaled = 0;
    for (const rs of active) {
      if (scaled >= budget) break;
      const size = sizes.get(rs) ?? 0;
      if (size === 0) continue;
      const n = Math.min(size, budget - scaled);
      sizes.set(rs, size - n);
      scaled += n;
    }
  }
  return active.filter((rs) => sizes.get(rs) !== specReplicas(rs)).map((rs) => ({ rs, replicas: sizes.get(rs) ?? 0 }));
}

/** The one ReplicaSet with pods, or the newest when none has any; undefined when several have pods (FindActiveOrLatest). */
export function findActiveOrLatest(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): ReplicaSet | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const olds = [...oldRSs].sort((a, b) => byCreation(b, a));
  const active = activeReplicaSets([...olds, newRS]);
  if (active.length === 0) return newRS ?? olds[0];
  return active.length === 1 ? active[0] : undefined;
}

const intAnnotation = (rs: ReplicaSet | undefined, key: string): number | undefined => {
  const v = rs?.metadata.annotations?.[key];
  return v !== undefined && /^-?\d+$/.test(v) ? Number(v) : undefined;
};

/** The Deployment's size when this ReplicaSet was last scaled by it (desired-replicas annotation). */
export const desiredReplicasAnnotation = (rs: ReplicaSet | undefined) => intAnnotation(rs, DESIRED_REPLICAS_ANNOTATION);

/** The new ReplicaSet has every replica, all available, for the current size (IsSaturated). */
export function isSaturated(d: Deployment, rs: ReplicaSet | undefined): boolean {
  if (!rs) return false;
  const desired = desiredReplicasAnnotation(rs);
  if (desired === undefined) return false;
  const n = specReplicas(d);
  return specReplicas(rs) === n && desired === n && availableReplicas(rs) === n;
}

/** Whether the Deployment was resized since its active ReplicaSets were last scaled (isScalingEvent). */
export function isScalingEvent(d: Deployment, allRSs: (ReplicaSet | undefined)[]): boolean {
  return activeReplicaSets(allRSs).some((rs) => {
    const desired = desiredReplicasAnnotation(rs);
    return desired !== undefined && desired !== specReplicas(d);
  });
}

/** This ReplicaSet's share of the replicas being added or removed (GetReplicaSetProportion). */
function proportion(rs: ReplicaSet, d: Deployment, toAdd: number, added: number): number {
  if (specReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
  const allowed = toAdd - added;
  let fraction: number;
  if (specReplicas(d) === 0) {
    fraction = -specReplicas(rs);
  } else {
    const maxNow = specReplicas(d) + maxSurge(d);
    let maxBefore = intAnnotation(rs, MAX_REPLICAS_ANNOTATION);
    // Without the annotation (someone edited the ReplicaSet) the current total is the best estimate.
    if (!maxBefore) maxBefore = d.status?.replicas ?? 0;
    if (!maxBefore) return 0;
    fraction = Math.round((specReplicas(rs) * maxNow) / maxBefore) - specReplicas(rs);
  }
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

export type ScaleStep = Scaling & { operation: 'up' | 'down' | '' };

/**
 * What a resize of the Deployment does to its ReplicaSets (sync.go scale()):
 * a single active (or the newest) ReplicaSet takes the whole size; a
 * saturated new one leaves the old at 0; otherwise, in a rolling update, the
 * change is spread over the active ReplicaSets in proportion to their size,
 * leftovers to the largest. Every listed ReplicaSet is written (its
 * desired/max annotations refresh even when its size stays).
 */
export function scalePlan(d: Deployment, newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): ScaleStep[] {
  const desired = specReplicas(d);
  const single = findActiveOrLatest(newRS, oldRSs);
  if (single) {
    if (specReplicas(single) === desired) return [];
    return [{ rs: single, replicas: desired, operation: specReplicas(single) < desired ? 'up' : 'down' }];
  }
  if (isSaturated(d, newRS)) {
    return activeReplicaSets(oldRSs).map((rs) => ({ rs, replicas: 0, operation: 'down' as const }));
  }
  if (!isRollingUpdate(d)) return [];
  const all = activeReplicaSets([...oldRSs, newRS]);
  const allowedSize = desired > 0 ? desired + maxSurge(d) : 0;
  const toAdd = allowedSize - replicaCount(all);
  let operation: ScaleStep['operation'] = '';
  if (toAdd > 0) {
    all.sort(bySizeNewer);
    operation = 'up';
  } else if (toAdd < 0) {
    all.sort(bySizeOlder);
    operation = 'down';
  }
  let added = 0;
  const sizes = all.map((rs) => {
    if (toAdd === 0) return specReplicas(rs);
    const p = proportion(rs, d, toAdd, added);
    added += p;
    return specReplicas(rs) + p;
  });
  if (toAdd !== 0 && sizes.length > 0) sizes[0] = Math.max(0, sizes[0] + toAdd - added);
  return all.map((rs, i) => ({ rs, replicas: sizes[i], operation }));
}

/** The desired/max-replicas annotations a scaled ReplicaSet carries (SetReplicasAnnotations). */
export function replicasAnnotations(d: Deployment): Record<string, string> {
  return {
    [DESIRED_REPLICAS_ANNOTATION]: String(specReplicas(d)),
    [MAX_REPLICAS_ANNOTATION]: String(specReplicas(d) + maxSurge(d)),
  };
}

/** Whether the ReplicaSet's desired/max annotations are out of date (ReplicasAnnotationsNeedUpdate). */
export function replicasAnnotationsNeedUpdate(rs: ReplicaSet, d: Deployment): boolean {
  const want = replicasAnnotations(d);
  const have = rs.metadata.annotations ?? {};
  return Object.entries(want).some(([k, v]) => have[k] !== v);
}
