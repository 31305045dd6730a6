// The garbage collector's view of the cluster: every object's owners and
// dependents by uid, built from metadata-only informers; decisions about one
// object computed without I/O.
import type { KubeObject, OwnerReference } from '../api/types.ts';
import type { DiscoveredResource } from '../client/index.ts';

export const FOREGROUND_FINALIZER = 'foregroundDeletion';
export const ORPHAN_FINALIZER = 'orphan';

export type GcNode = {
  uid: string;
  namespace: string;
  name: string;
  /** The resource the object was seen through (the first one, when several groups serve it). */
  resource: DiscoveredResource;
  owners: OwnerReference[];
  finalizers: string[];
  deleting: boolean;
};

/** Identity of a resource for bookkeeping: objects served under two groups share one node. */
export const resourceKey = (r: { group: string; resource: string }) => `${r.group}/${r.resource}`;

export function nodeOf(obj: KubeObject, resource: DiscoveredResource): GcNode {
  const m = obj.metadata;
  return {
    uid: m.uid ?? '',
    namespace: m.namespace ?? '',
    name: m.name ?? '',
    resource,
    owners: m.ownerReferences ?? [],
    finalizers: m.finalizers ?? [],
    deleting: Boolean(m.deletionTimestamp),
  };
}

export class GcGraph {
  #nodes = new Map<string, GcNode>();
  /** Which resources (resourceKey) currently show each uid. */
  #seenVia = new Map<string, Set<string>>();
  /** owner uid → dependent uids (the owner itself may not be known). */
  #dependents = new Map<string, Set<string>>();

  get size(): number {
    return this.#nodes.size;
  }

  get(uid: string): GcNode | undefined {
    return this.#nodes.get(uid);
  }

  /** Adds or replaces a node; returns the owner uids it no longer references. */
  upsert(node: GcNode): string[] {
    const via = this.#seenVia.get(node.uid) ?? new Set<string>();
    via.add(resourceKey(node.resource));
    this.#seenVia.set(node.uid, via);
    const old = this.#nodes.get(node.uid);
    const stored = old ? { ...node, resource: old.resource } : node;
    this.#nodes.set(node.uid, stored);
    const now = new Set(node.owners.map((o) => o.uid));
    const dropped = (old?.owners ?? []).map((o) => o.uid).filter((uid) => !now.has(uid));
    for (const uid of dropped) this.#unlink(uid, node.uid);
    for (const uid of now) {
      const set = this.#dependents.get(uid) ?? new Set<string>();
      set.add(node.uid);
      this.#dependents.set(uid, set);
    }
    return dropped;
  }

  /** The object is no longer seen through this resource; returns the node when it is gone from all. */
  remove(uid: string, resource: DiscoveredResource): GcNode | undefined {
    const via = this.#seenVia.get(uid);
    via?.delete(resourceKey(resource));
    if (via && via.size > 0) return undefined;
    this.#seenVia.delete(uid);
    const node = this.#nodes.get(uid);
    if (!node) return undefined;
    this.#nodes.delete(uid);
    for (const owner of node.owners) this.#unlink(owner.uid, uid);
    return node;
  }

  dependentsOf(uid: string): GcNode[] {
    const out: GcNode[] = [];
    for (const dep of this.#dependents.get(uid) ?? []) {
      const node = this.#nodes.get(dep);
      if (node) out.push(node);
    }
    return out;
  }

  #unlink(owner: string, dependent: string): void {
    const set = this.#dependents.get(owner);
    set?.delete(dependent);
    if (set?.size === 0) this.#dependents.delete(owner);
  }
}

/** How an owner stands for its dependent (Kubernetes' classifyReferences). */
export type OwnerState = 'solid' | 'dangling' | 'waiting';

export function ownerStateOf(owner: { deleting: boolean; finalizers: string[] } | undefined): OwnerState {
  if (!owner) return 'dangling';
  return owner.deleting && owner.finalizers.includes(FOREGROUND_FINALIZER) ? 'waiting' : 'solid';
}

/** What to do about an object in the graph, given how each of its owners stands. */
export type DependentAction =
  | { kind: 'none' }
  | { kind: 'removeOwners'; uids: string[] }
  | { kind: 'delete'; propagation: 'Foreground' | 'Background' | 'Orphan' };

export function decideForDependent(node: GcNode, states: Map<string, OwnerState>, hasDependents: boolean): DependentAction {
  if (node.deleting || node.owners.length === 0) return { kind: 'none' };
  const solid = node.owners.filter((o) => states.get(o.uid) === 'solid');
  const gone = node.owners.filter((o) => states.get(o.uid) !== 'solid' && states.has(o.uid)).map((o) => o.uid);
  if (solid.length > 0 || gone.length < node.owners.length) {
    // Still owned: forget the owners that are gone or waiting for us, so they can finish.
    return gone.length > 0 ? { kind: 'removeOwners', uids: gone } : { kind: 'none' };
  }
  const waiting = node.owners.some((o) => states.get(o.uid) === 'waiting');
  if (waiting && hasDependents) return { kind: 'delete', propagation: 'Foreground' };
  if (node.finalizers.includes(ORPHAN_FINALIZER)) return { kind: 'delete', propagation: 'Orphan' };
  if (node.finalizers.includes(FOREGROUND_FINALIZER)) return { kind: 'delete', propagation: 'Foreground' };
  return { kind: 'delete', propagation: 'Background' };
}

/** Dependents that keep an owner in foreground deletion (blockOwnerDeletion: true on the reference to it). */
export function blockingDependents(graph: GcGraph, ownerUid: string): GcNode[] {
  return graph.dependentsOf(ownerUid).filter((d) => d.owners.some((o) => o.uid === ownerUid && o.blockOwnerDeletion === true));
}
