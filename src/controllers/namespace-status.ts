// The status conditions a terminating namespace shows (as Kubernetes'
// namespace controller sets them), computed without I/O.

export type NamespaceCondition = {
  type: string;
  status: 'True' | 'False';
  reason: string;
  message: string;
  lastTransitionTime?: string;
};

/** What is left of one resource in the namespace after a deletion pass. */
export type Remaining = { resource: string; count: number; finalizers: Map<string, number> };

export function contentConditions(input: {
  discoveryFailures: string[];
  deleteFailures: string[];
  remaining: Remaining[];
}): NamespaceCondition[] {
  const { discoveryFailures, deleteFailures, remaining } = input;
  const finalizers = new Map<string, number>();
  for (const r of remaining) for (const [f, n] of r.finalizers) finalizers.set(f, (finalizers.get(f) ?? 0) + n);
  return [
    discoveryFailures.length > 0
      ? { type: 'NamespaceDeletionDiscoveryFailure', status: 'True', reason: 'DiscoveryFailed', message: `Discovery failed for some groups: ${discoveryFailures.join(', ')}` }
      : { type: 'NamespaceDeletionDiscoveryFailure', status: 'False', reason: 'ResourcesDiscovered', message: 'All resources successfully discovered' },
    { type: 'NamespaceDeletionGroupVersionParsingFailure', status: 'False', reason: 'ParsedGroupVersions', message: 'All legacy kube types successfully parsed' },
    deleteFailures.length > 0
      ? { type: 'NamespaceDeletionContentFailure', status: 'True', reason: 'ContentDeletionFailed', message: `Failed to delete all resource types, ${deleteFailures.length} remaining: ${deleteFailures.join(', ')}` }
      : { type: 'NamespaceDeletionContentFailure', status: 'False', reason: 'ContentDeleted', message: 'All content successfully deleted, may be waiting on finalization' },
    remaining.length > 0
      ? { type: 'NamespaceContentRemaining', status: 'True', reason: 'SomeResourcesRemain', message: `Some resources are remaining: ${remaining.map((r) => `${r.resource} has ${r.count} resource instances`).join(', ')}` }
      : { type: 'NamespaceContentRemaining', status: 'False', reason: 'ContentRemoved', message: 'All content successfully removed' },
    finalizers.size > 0
      ? { type: 'NamespaceFinalizersRemaining', status: 'True', reason: 'SomeFinalizersRemain', message: `Some content in the namespace has finalizers remaining: ${[...finalizers].map(([f, n]) => `${f} in ${n} resource instances`).join(', ')}` }
      : { type: 'NamespaceFinalizersRemaining', status: 'False', reason: 'ContentHasNoFinalizers', message: 'All content-preserving finalizers finished' },
  ];
}

/**
 * Puts the wanted conditions over the current ones; lastTransitionTime moves
 * only when a condition's status changes. `changed` says whether to write.
 */
export function mergeConditions(
  current: NamespaceCondition[],
  wanted: NamespaceCondition[],
  now: Date,
): { conditions: NamespaceCondition[]; changed: boolean } {
  const time = now.toISOString().replace(/\.\d+Z$/, 'Z');
  let changed = false;
  const out = current.filter((c) => !wanted.some((w) => w.type === c.type));
  for (const w of wanted) {
    const old = current.find((c) => c.type === w.type);
    if (old && old.status === w.status && old.reason === w.reason && old.message === w.message) {
      out.push(old);
      continue;
    }
    changed = true;
    out.push({ ...w, lastTransitionTime: old && old.status === w.status ? (old.lastTransitionTime ?? time) : time });
  }
  return { conditions: out, changed };
}
