// A Deployment's ReplicaSets: which one is new (its template equals the
// Deployment's), which are old, their orderings and replica counts
// (Kubernetes' deploymentutil and controller.ReplicaSetsBy*). Pure.
import type { KubeObject } from '../api/types.ts';
import { addHashLabel, addHashToSelector, computeHash, equalIgnoreHash } from './deployment-hash.ts';

export type ReplicaSet = KubeObject;
export type Deployment = KubeObject;

/** deployment.kubernetes.io annotations the controller keeps on Deployments and ReplicaSets. */
export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
export const CHANGE_CAUSE_ANNOTATION = 'kubernetes.io/change-cause';
/** apps/v1beta1 spec.rollbackTo, carried through apps/v1 storage (see registry/apps-versions.ts). */
export const ROLLBACK_TO_ANNOTATION = 'deprecated.deployment.rollback.to';
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
export const DEPLOYMENT_TYPE = { apiVersion: 'apps/v1', kind: 'Deployment' };
/** Go's MaxInt32: how old API versions spelled "no limit" for revisionHistoryLimit and progressDeadlineSeconds. */
export const MAX_INT32 = 2147483647;

/** spec.replicas as the API defaults it. */
export function specReplicas(obj: KubeObject | undefined): number {
  const r = obj?.spec?.replicas;
  return typeof r === 'number' ? r : 1;
}

const statusCount = (rs: ReplicaSet | undefined, field: string): number => {
  const v = rs?.status?.[field];
  return typeof v === 'number' ? v : 0;
};

/** Sum of spec.replicas (GetReplicaCountForReplicaSets). */
export function replicaCount(sets: (ReplicaSet | undefined)[]): number {
  return sets.reduce((sum, rs) => sum + (rs ? specReplicas(rs) : 0), 0);
}
/** Sum of status.replicas (GetActualReplicaCountForReplicaSets). */
export const actualReplicaCount = (sets: (ReplicaSet | undefined)[]) => sets.reduce((s, rs) => s + statusCount(rs, 'replicas'), 0);
export const readyReplicaCount = (sets: (ReplicaSet | undefined)[]) => sets.reduce((s, rs) => s + statusCount(rs, 'readyReplicas'), 0);
export const availableReplicaCount = (sets: (ReplicaSet | undefined)[]) => sets.reduce((s, rs) => s + statusCount(rs, 'availableReplicas'), 0);
export const availableReplicas = (rs: ReplicaSet | undefined) => statusCount(rs, 'availableReplicas');

/** Sets with spec.replicas > 0 (FilterActiveReplicaSets). */
export function activeReplicaSets(sets: (ReplicaSet | undefined)[]): ReplicaSet[] {
  return sets.filter((rs): rs is ReplicaSet => rs !== undefined && specReplicas(rs) > 0);
}

/** Oldest first; equal timestamps by name (ReplicaSetsByCreationTimestamp). */
export function byCreation(a: ReplicaSet, b: ReplicaSet): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  if (ta !== tb) return Date.parse(ta) - Date.parse(tb);
  return (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
}

/** Largest first; equal sizes newer first (ReplicaSetsBySizeNewer, for scaling up). */
export const bySizeNewer = (a: ReplicaSet, b: ReplicaSet) => specReplicas(b) - specReplicas(a) || byCreation(b, a);
/** Largest first; equal sizes older first (ReplicaSetsBySizeOlder, for scaling down). */
export const bySizeOlder = (a: ReplicaSet, b: ReplicaSet) => specReplicas(b) - specReplicas(a) || byCreation(a, b);

/** The revision annotation as a number; 0 when missing or not a number (deploymentutil.Revision). */
export function revisionOf(obj: KubeObject | undefined): number {
  const v = obj?.metadata.annotations?.[REVISION_ANNOTATION];
  if (v === undefined || !/^\d+$/.test(v)) return 0;
  return Number(v);
}

/** Lowest revision first; equal revisions by age (ReplicaSetsByRevision). */
export const byRevision = (a: ReplicaSet, b: ReplicaSet) => revisionOf(a) - revisionOf(b) || byCreation(a, b);

export function maxRevision(sets: ReplicaSet[]): number {
  return sets.reduce((max, rs) => Math.max(max, revisionOf(rs)), 0);
}

/** The oldest ReplicaSet whose template equals the Deployment's (FindNewReplicaSet). */
export function findNewReplicaSet(d: Deployment, sets: ReplicaSet[]): ReplicaSet | undefined {
  return [...sets].sort(byCreation).find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template));
}

/** Every other ReplicaSet (FindOldReplicaSets' allOldRSs). */
export function findOldReplicaSets(d: Deployment, sets: ReplicaSet[], newRS = findNewReplicaSet(d, sets)): ReplicaSet[] {
  return sets.filter((rs) => rs !== newRS && rs.metadata.uid !== newRS?.metadata.uid);
}

/** A new ReplicaSet for the Deployment's template, without replicas or annotations yet (getNewReplicaSet). */
export function newReplicaSetFor(d: Deployment, ownerRef: KubeObject['metadata']['ownerReferences']): ReplicaSet {
  const template = structuredClone(d.spec?.template ?? {});
  const hash = computeHash(template, d.status?.collisionCount);
  template.metadata = { ...(template.metadata ?? {}), labels: addHashLabel(template.metadata?.labels, hash) };
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name: `${d.metadata.name}-${hash}`,
      namespace: d.metadata.namespace,
      ownerReferences: ownerRef,
      labels: { ...template.metadata.labels },
    },
    spec: {
      replicas: 0,
      minReadySeconds: d.spec?.minReadySeconds ?? 0,
      selector: addHashToSelector(d.spec?.selector, hash),
      template,
    },
  };
}
