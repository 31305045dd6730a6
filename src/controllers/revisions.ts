// ControllerRevisions, as pkg/controller/history keeps them for StatefulSets
// and DaemonSets: each distinct pod template is snapshotted once as a
// strategic-merge patch ({"spec":{"template":{…,"$patch":"replace"}}}, the
// shape `kubectl rollout undo` applies back), named `<owner>-<hash>`, with a
// revision number that grows; returning to an old template bumps that old
// revision's number instead of making a new one. Pure functions only.
import type { KubeObject } from '../api/types.ts';
import { controllerOf, newControllerRef } from './controller-ref.ts';
import { REVISION_HASH_LABEL } from './workload-pods.ts';

export type Revision = KubeObject & { revision?: number; data?: unknown };

/** Kubernetes' safe alphabet for hashes in names (no vowels, no confusable digits). */
const SAFE_ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';
/** Owner names longer than this are cut so `<prefix>-<hash>` stays a valid name (history.ControllerRevisionName). */
const MAX_PREFIX_LENGTH = 223;

/** JSON with object keys sorted at every level, as Go's encoding/json writes maps. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** FNV-1 32-bit (Go's hash/fnv New32, which history.HashControllerRevision uses). */
export function fnv32(bytes: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const b of bytes) {
    hash = Math.imul(hash, 0x01000193) >>> 0;
    hash = (hash ^ b) >>> 0;
  }
  return hash;
}

/** rand.SafeEncodeString: each character mapped into the safe alphabet. */
export function safeEncode(s: string): string {
  let out = '';
  for (const ch of s) out += SAFE_ALPHANUMS[(ch.codePointAt(0) ?? 0) % SAFE_ALPHANUMS.length];
  return out;
}

/** The revision's data: the owner's pod template as a replacing strategic-merge patch. */
export function revisionData(owner: KubeObject): unknown {
  return { spec: { template: { ...structuredClone(owner.spec?.template ?? {}), $patch: 'replace' } } };
}

/** history.HashControllerRevision: FNV-1 of the data bytes, then the collision count, safe-encoded. */
export function hashRevision(data: unknown, collisionCount: number | undefined): string {
  let input = canonicalJson(data);
  if (collisionCount) input += String(collisionCount);
  return safeEncode(String(fnv32(new TextEncoder().encode(input))));
}

export function revisionName(prefix: string, hash: string): string {
  return `${prefix.slice(0, MAX_PREFIX_LENGTH)}-${hash}`;
}

export const sameData = (a: Revision, b: Revision): boolean => canonicalJson(a.data) === canonicalJson(b.data);

/** The owner's revisions (controlled by it) in ascending order: revision number, then age, then name. */
export function ownedRevisions(owner: KubeObject, all: Revision[]): Revision[] {
  return all
    .filter((r) => controllerOf(r)?.uid === owner.metadata.uid && !r.metadata.deletionTimestamp)
    .sort(
      (a, b) =>
        (a.revision ?? 0) - (b.revision ?? 0) ||
        (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
        (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
    );
}

export const nextRevisionNumber = (sorted: Revision[]): number => (sorted.length ? (sorted[sorted.length - 1].revision ?? 0) : 0) + 1;

/** A new ControllerRevision for the owner's current template (history.NewControllerRevision). */
export function newRevision(owner: KubeObject, options: { kind: string; revision: number; collisionCount: number }): Revision {
  const data = revisionData(owner);
  const hash = hashRevision(data, options.collisionCount);
  const annotations = owner.metadata.annotations;
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: revisionName(owner.metadata.name ?? '', hash),
      namespace: owner.metadata.namespace,
      labels: { ...(owner.spec?.template?.metadata?.labels ?? {}), [REVISION_HASH_LABEL]: hash },
      ...(annotations && Object.keys(annotations).length ? { annotations: { ...annotations } } : {}),
      ownerReferences: [newControllerRef(owner, { apiVersion: 'apps/v1', kind: options.kind })],
    },
    data,
    revision: options.revision,
  };
}

export type RevisionPlan =
  /** The newest revision already holds this template. */
  | { action: 'use'; revision: Revision }
  /** An older revision holds it: give it the next number (a rollback). */
  | { action: 'bump'; revision: Revision; to: number }
  /** No revision holds it yet. */
  | { action: 'create'; revision: Revision };

/** What to do so that a revision for the owner's current template exists and is the newest. */
export function planUpdateRevision(owner: KubeObject, sorted: Revision[], options: { kind: string; collisionCount: number }): RevisionPlan {
  const next = nextRevisionNumber(sorted);
  const candidate = newRevision(owner, { kind: options.kind, revision: next, collisionCount: options.collisionCount });
  const equal = sorted.filter((r) => sameData(r, candidate));
  if (equal.length > 0) {
    const newestEqual = equal[equal.length - 1];
    if (newestEqual === sorted[sorted.length - 1]) return { action: 'use', revision: newestEqual };
    return { action: 'bump', revision: newestEqual, to: next };
  }
  return { action: 'create', revision: candidate };
}

/**
 * Old revisions to delete beyond the history limit: not live (current, update,
 * or in use by a pod), oldest first (StatefulSet truncateHistory, DaemonSet cleanupHistory).
 */
export function revisionsToPrune(sorted: Revision[], live: Set<string>, limit: number): Revision[] {
  const history = sorted.filter((r) => !live.has(r.metadata.name ?? ''));
  return history.length <= limit ? [] : history.slice(0, history.length - limit);
}
