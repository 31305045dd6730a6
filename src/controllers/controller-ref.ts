// Controller references (Kubernetes' ControllerRefManager): which controller
// owns an object, and how a controller claims the objects its selector
// matches — adopting orphans, releasing what no longer matches, never
// touching what another controller owns.
import { ApiError, isNotFound } from '../api/errors.ts';
import type { KubeObject, OwnerReference } from '../api/types.ts';
import type { Client, ResourceRef } from '../client/index.ts';

/** The ownerReference with controller: true, if any. */
export function controllerOf(obj: KubeObject): OwnerReference | undefined {
  return obj.metadata.ownerReferences?.find((r) => r.controller === true);
}

/** The reference a controller puts on what it creates or adopts (metav1.NewControllerRef). */
export function newControllerRef(owner: KubeObject, type: { apiVersion: string; kind: string }): OwnerReference {
  return {
    apiVersion: type.apiVersion,
    kind: type.kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

export type ClaimDecision = 'claim' | 'adopt' | 'release' | 'ignore';

export type ClaimContext = {
  /** The claiming controller object (e.g. the ReplicaSet). */
  owner: KubeObject;
  /** Whether the object's labels match the owner's selector. */
  matches(obj: KubeObject): boolean;
};

/**
 * What a controller does with one object (ClaimObject): keep its own that
 * match, release its own that no longer match (unless it is being deleted),
 * adopt matching orphans (unless either side is being deleted), ignore the rest.
 */
export function claimDecision(obj: KubeObject, ctx: ClaimContext): ClaimDecision {
  const ownerDeleting = Boolean(ctx.owner.metadata.deletionTimestamp);
  const ref = controllerOf(obj);
  if (ref) {
    if (ref.uid !== ctx.owner.metadata.uid) return 'ignore';
    if (ctx.matches(obj)) return 'claim';
    return ownerDeleting ? 'ignore' : 'release';
  }
  if (ownerDeleting || !ctx.matches(obj)) return 'ignore';
  if (obj.metadata.deletionTimestamp) return 'ignore';
  if (ctx.owner.metadata.namespace && ctx.owner.metadata.namespace !== obj.metadata.namespace) return 'ignore';
  return 'adopt';
}

/**
 * Strategic merge patch adding the controller reference; the uid makes it
 * fail (uid is immutable) if the object was replaced by a namesake meanwhile.
 */
export function adoptPatch(ref: OwnerReference, objUid: string): object {
  return { metadata: { ownerReferences: [ref], uid: objUid } };
}

/** Strategic merge patch removing the owner's reference, guarded by the object's uid. */
export function releasePatch(ownerUid: string, objUid: string): object {
  return { metadata: { ownerReferences: [{ $patch: 'delete', uid: ownerUid }], uid: objUid } };
}

/**
 * A check run at most once per claim, before the first adoption: the owner,
 * read live (not from a cache), must still be the same object and not being
 * deleted (Kubernetes' RecheckDeletionTimestamp), so a deleted owner's stale
 * cache entry never adopts anything.
 */
export function recheckOwner(client: Client, ref: ResourceRef, owner: KubeObject): () => Promise<void> {
  let result: Promise<void> | undefined;
  return () => {
    result ??= (async () => {
      const { name = '', namespace, uid } = owner.metadata;
      const fresh = await client.get(ref, name, { namespace });
      if (fresh.metadata.uid !== uid)
        throw new Error(
          `original ${ref.resource} ${namespace}/${name} is gone: got uid ${fresh.metadata.uid}, wanted ${uid}`,
        );
      if (fresh.metadata.deletionTimestamp)
        throw new Error(
          `${ref.resource} ${namespace}/${name} has just been deleted at ${fresh.metadata.deletionTimestamp}`,
        );
    })();
    return result;
  };
}

export type ClaimOptions<T extends KubeObject> = ClaimContext & {
  client: Client;
  /** The resource of the objects being claimed (e.g. pods). */
  resource: ResourceRef;
  /** The controller reference to add on adoption. */
  controllerRef: OwnerReference;
  objects: T[];
  /** Runs before the first adoption; throwing stops adoption. */
  canAdopt(): Promise<void>;
};

/**
 * Claims objects for a controller: returns those it owns afterwards (kept and
 * adopted). Adoption and release errors are collected; if any happened the
 * first is thrown after every object was tried, so the caller retries.
 */
export async function claimObjects<T extends KubeObject>(options: ClaimOptions<T>): Promise<T[]> {
  const { client, resource, owner, controllerRef, objects } = options;
  const claimed: T[] = [];
  const failures: unknown[] = [];
  const ownerUid = owner.metadata.uid ?? '';
  for (const obj of objects) {
    const decision = claimDecision(obj, options);
    const { name = '', namespace, uid = '' } = obj.metadata;
    try {
      if (decision === 'claim') {
        claimed.push(obj);
      } else if (decision === 'adopt') {
        await options.canAdopt();
        const adopted = await client.patch<T>(resource, name, adoptPatch(controllerRef, uid), {
          type: 'strategic',
          namespace,
        });
        claimed.push(adopted);
      } else if (decision === 'release') {
        await client.patch(resource, name, releasePatch(ownerUid, uid), { type: 'strategic', namespace });
      }
    } catch (err) {
      if (isNotFound(err)) continue; // gone meanwhile: nothing to claim
      // Releasing something replaced or already released answers 422: it is not ours any more either way.
      if (decision === 'release' && err instanceof ApiError && err.code === 422) continue;
      failures.push(err);
    }
  }
  if (failures.length > 0) throw failures[0];
  return claimed;
}
