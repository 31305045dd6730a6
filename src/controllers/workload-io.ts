// The I/O the StatefulSet and DaemonSet controllers share: routing pod events
// to owners, claiming pods (through controller-ref.ts), keeping ControllerRevisions
// (create with hash-collision handling, bump, prune) and slow-start batches.
import { ApiError, isNotFound } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import { type Client, type Informer, keyOf, type ResourceRef, refs, type WorkQueue } from '../client/index.ts';
import { ownedRevisions, planUpdateRevision, type Revision, sameData } from './revisions.ts';
import { claimObjects, controllerOf, newControllerRef, recheckOwner } from './controller-ref.ts';
import { type Pod, selectorMatcher } from './workload-pods.ts';

/** Hash collisions tolerated in one pass before giving up (each bumps status.collisionCount). */
const MAX_COLLISION_RETRIES = 5;

const isAlreadyExists = (err: unknown) => err instanceof ApiError && err.code === 409 && err.reason === 'AlreadyExists';

/**
 * Pod events enqueue their controller (of `kind`); an orphan enqueues every
 * owner in its namespace whose selector matches, so it can be adopted.
 */
export function watchOwnedPods(options: { pods: Informer; owners: Informer; kind: string; queue: WorkQueue }): void {
  const { pods, owners, kind, queue } = options;
  const route = (pod: Pod) => {
    const ref = controllerOf(pod);
    const ns = pod.metadata.namespace ?? '';
    if (ref) {
      if (ref.kind !== kind) return;
      const owner = owners.get(`${ns}/${ref.name}`);
      if (owner && owner.metadata.uid === ref.uid) queue.add(keyOf(owner));
      return;
    }
    if (pod.metadata.deletionTimestamp) return;
    for (const owner of owners.list({ namespace: ns })) {
      if (selectorMatcher(owner.spec?.selector)(pod.metadata.labels)) queue.add(keyOf(owner));
    }
  };
  pods.addHandlers({
    onAdd: route,
    onUpdate(oldPod, newPod) {
      const a = controllerOf(oldPod);
      const b = controllerOf(newPod);
      if (a && a.uid !== b?.uid) route(oldPod);
      const labelsChanged = JSON.stringify(oldPod.metadata.labels) !== JSON.stringify(newPod.metadata.labels);
      if (!b && !labelsChanged && oldPod.metadata.resourceVersion !== undefined) {
        // An orphan whose labels did not change cannot have become adoptable.
        if (JSON.stringify(oldPod.metadata.ownerReferences) === JSON.stringify(newPod.metadata.ownerReferences)) return;
      }
      route(newPod);
    },
    onDelete: route,
  });
}

/** Claims the owner's pods (controller-ref.ts), adopting orphans and releasing pods it no longer selects. */
export function claim(
  client: Client,
  owner: KubeObject,
  candidates: Pod[],
  options: { kind: string; ownerRef: ResourceRef; filter?: (pod: Pod) => boolean },
): Promise<Pod[]> {
  const matches = selectorMatcher(owner.spec?.selector);
  const filter = options.filter ?? (() => true);
  return claimObjects({
    client,
    resource: refs.pods,
    owner,
    matches: (pod) => matches(pod.metadata.labels) && filter(pod),
    controllerRef: newControllerRef(owner, { apiVersion: 'apps/v1', kind: options.kind }),
    objects: candidates,
    canAdopt: recheckOwner(client, options.ownerRef, owner),
  });
}

export type Revisions = { sorted: Revision[]; update: Revision; collisionCount: number };

/**
 * Makes sure a ControllerRevision holds the owner's current template and is
 * the newest (creating it, or bumping an older equal one), resolving name collisions.
 */
export async function syncRevisions(
  client: Client,
  owner: KubeObject,
  cached: Revision[],
  options: { kind: string },
): Promise<Revisions> {
  const sorted = ownedRevisions(owner, cached);
  let collisionCount: number = owner.status?.collisionCount ?? 0;
  const plan = planUpdateRevision(owner, sorted, { kind: options.kind, collisionCount });
  if (plan.action === 'use') return { sorted, update: plan.revision, collisionCount };
  if (plan.action === 'bump') {
    const bumped = await client.update<Revision>(refs.controllerrevisions, { ...plan.revision, revision: plan.to });
    return { sorted: [...sorted.filter((r) => r !== plan.revision), bumped], update: bumped, collisionCount };
  }
  let candidate = plan.revision;
  for (let attempt = 0; ; attempt++) {
    try {
      const created = await client.create<Revision>(refs.controllerrevisions, candidate);
      return { sorted: [...sorted, created], update: created, collisionCount };
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const existing = await client.get<Revision>(refs.controllerrevisions, candidate.metadata.name ?? '', { namespace: owner.metadata.namespace });
      // Our own revision that the cache had not seen yet.
      if (controllerOf(existing)?.uid === owner.metadata.uid && sameData(existing, candidate)) {
        return { sorted: [...sorted, existing], update: existing, collisionCount };
      }
      if (attempt >= MAX_COLLISION_RETRIES) throw err;
      collisionCount++;
      const next = planUpdateRevision(owner, sorted, { kind: options.kind, collisionCount });
      if (next.action !== 'create') throw err;
      candidate = next.revision;
    }
  }
}

/** Deletes revisions; one that is already gone is fine. */
export async function deleteRevisions(client: Client, revisions: Revision[]): Promise<void> {
  for (const r of revisions) {
    await client.delete(refs.controllerrevisions, r.metadata.name ?? '', { namespace: r.metadata.namespace }).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }
}

/** The pod template a revision snapshotted (its data without the "$patch" directive). */
export function templateOf(revision: Revision): KubeObject | undefined {
  const template = (revision.data as { spec?: { template?: Record<string, unknown> } } | undefined)?.spec?.template;
  if (!template) return undefined;
  const { $patch: _, ...rest } = template;
  return rest as KubeObject;
}

/**
 * Runs fn over items in batches of 1, 2, 4, … (controller.slowStartBatch), so a
 * failing call (quota, bad template) fails once rather than N times. Returns successes;
 * throws the first error after its batch ends.
 */
export async function slowStartBatch<T>(items: T[], fn: (item: T) => Promise<void>): Promise<number> {
  let done = 0;
  let size = 1;
  while (done < items.length) {
    const batch = items.slice(done, done + size);
    const results = await Promise.allSettled(batch.map(fn));
    const failed = results.find((r) => r.status === 'rejected');
    done += results.filter((r) => r.status === 'fulfilled').length;
    if (failed) throw (failed as PromiseRejectedResult).reason;
    size *= 2;
  }
  return done;
}

export const statusChanged = (before: Record<string, unknown> | undefined, after: Record<string, unknown>): boolean =>
  Object.entries(after).some(([k, v]) => JSON.stringify(before?.[k]) !== JSON.stringify(v));
