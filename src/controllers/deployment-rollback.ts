// apps/v1beta1 and extensions/v1beta1 `spec.rollbackTo` (stored as the
// deprecated.deployment.rollback.to annotation): which ReplicaSet's template
// a Deployment goes back to (Kubernetes' rollback.go). kubectl 1.32 rolls
// back client-side instead, by patching the template; both end up the same.
// Pure.
import { equalIgnoreHash } from './deployment-hash.ts';
import { NOT_COPIED } from './deployment-history.ts';
import { type Deployment, type ReplicaSet, revisionOf } from './deployment-replicasets.ts';

export type RollbackTarget =
  | { kind: 'found'; revision: number; rs: ReplicaSet; annotations: Record<string, string> }
  | { kind: 'unchanged'; revision: number }
  | { kind: 'noLast' }
  | { kind: 'notFound' };

/** The second-highest revision among the ReplicaSets (deploymentutil.LastRevision); 0 when there is none. */
export function lastRevision(sets: ReplicaSet[]): number {
  let max = 0;
  let second = 0;
  for (const rs of sets) {
    const v = revisionOf(rs);
    if (v >= max) {
      second = max;
      max = v;
    } else if (v > second) {
      second = v;
    }
  }
  return second;
}

/**
 * Where a rollback to `revision` (0: the previous one) leads. On 'found' the
 * Deployment takes the ReplicaSet's template and its annotations, keeping
 * only its own controller-managed ones (SetDeploymentAnnotationsTo).
 */
export function rollbackTarget(d: Deployment, sets: ReplicaSet[], revision: number): RollbackTarget {
  const wanted = revision === 0 ? lastRevision(sets) : revision;
  if (wanted === 0) return { kind: 'noLast' };
  const rs = sets.find((s) => revisionOf(s) === wanted);
  if (!rs) return { kind: 'notFound' };
  if (equalIgnoreHash(d.spec?.template, rs.spec?.template)) return { kind: 'unchanged', revision: wanted };
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries((d.metadata.annotations ?? {}) as Record<string, string>)) if (NOT_COPIED.has(k)) annotations[k] = v;
  for (const [k, v] of Object.entries((rs.metadata.annotations ?? {}) as Record<string, string>)) if (!NOT_COPIED.has(k)) annotations[k] = v;
  return { kind: 'found', revision: wanted, rs, annotations };
}
