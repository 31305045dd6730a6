// Revisions of a Deployment (Kubernetes' deploymentutil annotations and
// sync.go cleanupDeployment): the new ReplicaSet's annotations (copied from
// the Deployment, revision = max old + 1, the previous revision kept in
// revision-history when an old ReplicaSet comes back on rollback), and which
// old ReplicaSets revisionHistoryLimit lets go. Pure.
import {
  byRevision,
  DESIRED_REPLICAS_ANNOTATION,
  type Deployment,
  LAST_APPLIED_ANNOTATION,
  MAX_INT32,
  MAX_REPLICAS_ANNOTATION,
  type ReplicaSet,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  ROLLBACK_TO_ANNOTATION,
  specReplicas,
} from './deployment-replicasets.ts';
import { replicasAnnotations } from './deployment-rolling.ts';

/** revision-history is cut (oldest first) to stay within this many characters (Kubernetes' maxRevHistoryLengthInChars). */
export const MAX_REVISION_HISTORY_CHARS = 2000;

/** Deployment annotations never copied to its ReplicaSets (annotationsToSkip); change-cause and the rest are copied. */
export const NOT_COPIED: ReadonlySet<string> = new Set([
  LAST_APPLIED_ANNOTATION,
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  ROLLBACK_TO_ANNOTATION,
]);

/**
 * The annotations the new ReplicaSet should carry (SetNewReplicaSetAnnotations),
 * or undefined when they are already right. `exists` is false for a
 * ReplicaSet about to be created, which also gets desired/max-replicas.
 */
export function newReplicaSetAnnotations(
  d: Deployment,
  rs: ReplicaSet,
  newRevision: number,
  options: { exists: boolean },
): Record<string, string> | undefined {
  const annotations: Record<string, string> = { ...(rs.metadata.annotations ?? {}) };
  let changed = false;
  for (const [k, v] of Object.entries((d.metadata.annotations ?? {}) as Record<string, string>)) {
    if (NOT_COPIED.has(k) || annotations[k] === v) continue;
    annotations[k] = v;
    changed = true;
  }
  const oldText = annotations[REVISION_ANNOTATION];
  if (oldText !== undefined && oldText !== '' && !/^\d+$/.test(oldText)) return changed ? annotations : undefined;
  const oldRevision = oldText ? Number(oldText) : 0;
  if (oldRevision < newRevision) {
    annotations[REVISION_ANNOTATION] = String(newRevision);
    changed = true;
    // A ReplicaSet that had a revision and gets a newer one is being rolled back to: remember where it was.
    if (oldText !== undefined) {
      const history = annotations[REVISION_HISTORY_ANNOTATION] ?? '';
      annotations[REVISION_HISTORY_ANNOTATION] = appendRevisionHistory(history, oldText);
    }
  }
  if (!options.exists) {
    Object.assign(annotations, replicasAnnotations(d));
    changed = true;
  }
  return changed ? annotations : undefined;
}

/** history + "," + revision, dropping the oldest entries past MAX_REVISION_HISTORY_CHARS. */
export function appendRevisionHistory(history: string, revision: string): string {
  if (history === '') return revision;
  const entries = history.split(',');
  let total = history.length + revision.length + 1;
  let start = 0;
  while (total > MAX_REVISION_HISTORY_CHARS && start < entries.length) {
    total -= entries[start].length + 1;
    start++;
  }
  if (total > MAX_REVISION_HISTORY_CHARS) return history;
  return [...entries.slice(start), revision].join(',');
}

/** A revisionHistoryLimit that is set and is not the old APIs' "unset" MaxInt32. */
export function hasRevisionHistoryLimit(d: Deployment): boolean {
  const limit = d.spec?.revisionHistoryLimit;
  return typeof limit === 'number' && limit !== MAX_INT32;
}

/**
 * Old ReplicaSets beyond revisionHistoryLimit to delete, lowest revision
 * first (cleanupDeployment); only those scaled to 0 with no pods left and
 * their current spec observed are deleted.
 */
export function replicaSetsToCleanUp(d: Deployment, oldRSs: ReplicaSet[]): ReplicaSet[] {
  if (!hasRevisionHistoryLimit(d)) return [];
  const alive = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp);
  const excess = alive.length - d.spec.revisionHistoryLimit;
  if (excess <= 0) return [];
  return [...alive]
    .sort(byRevision)
    .slice(0, excess)
    .filter(
      (rs) =>
        (rs.status?.replicas ?? 0) === 0 &&
        specReplicas(rs) === 0 &&
        (rs.metadata.generation ?? 0) <= (rs.status?.observedGeneration ?? 0),
    );
}
