// Apply conflicts and the 409 Kubernetes answers with, worded exactly like
// k8s.io/apimachinery/pkg/util/managedfields/internal/conflict.go.
import { ApiError } from '../../api/errors.ts';
import type { StatusCause } from '../../api/types.ts';
import { type FieldPath, type FieldSet, pathsOf, pathToString } from './fieldset.ts';
import type { Manager } from './managed-fields.ts';

export type Conflict = { manager: Manager; path: FieldPath };

/** `"name"`, `"name" with subresource "status"`, plus ` using apps/v1` for Update managers. */
export function describeManager(m: Pick<Manager, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  let text = JSON.stringify(m.manager);
  if (m.subresource) text += ` with subresource ${JSON.stringify(m.subresource)}`;
  return m.operation === 'Update' ? `${text} using ${m.apiVersion}` : text;
}

/** Conflicts with every path of each manager's conflicting set, managers sorted by description. */
export function conflictsOf(sets: { manager: Manager; fields: FieldSet }[]): Conflict[] {
  return [...sets]
    .sort((a, b) => (describeManager(a.manager) < describeManager(b.manager) ? -1 : 1))
    .flatMap(({ manager, fields }) => pathsOf(fields).map((path) => ({ manager, path })));
}

export function conflictMessage(conflicts: Conflict[]): string {
  if (conflicts.length === 1) {
    const [c] = conflicts;
    return `Apply failed with 1 conflict: conflict with ${describeManager(c.manager)}: ${pathToString(c.path)}`;
  }
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) {
    const who = describeManager(c.manager);
    byManager.set(who, [...(byManager.get(who) ?? []), pathToString(c.path)]);
  }
  const lines = [...byManager.keys()]
    .sort()
    .flatMap((who) => [`conflicts with ${who}:`, ...byManager.get(who)!.map((p) => `- ${p}`)]);
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}

/** The 409 Conflict Status error, one FieldManagerConflict cause per path. */
export function conflictError(conflicts: Conflict[]): ApiError {
  const causes: StatusCause[] = conflicts.map((c) => ({
    reason: 'FieldManagerConflict',
    message: `conflict with ${describeManager(c.manager)}`,
    field: pathToString(c.path),
  }));
  return new ApiError(409, 'Conflict', conflictMessage(conflicts), { causes });
}
