// CRD status as Kubernetes' naming and establishing controllers leave it:
// acceptedNames, NamesAccepted and Established conditions, storedVersions.
// skiff serves a CRD as soon as its names are accepted, so both controllers'
// work happens in one pure step.
import type { KubeObject } from '../../api/types.ts';
import type { CrdCondition, CrdNames, CrdStatus, CustomResourceDefinition } from './types.ts';
import { defaultCrd } from './validate-crd.ts';

const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

function claimed(others: KubeObject[], group: string, self: string) {
  const resources = new Set<string>();
  const kinds = new Set<string>();
  for (const o of others) {
    if (o.spec?.group !== group || o.metadata?.name === self) continue;
    const n = o.status?.acceptedNames;
    if (!n) continue;
    for (const r of [n.plural, n.singular, ...(n.shortNames ?? [])]) if (r) resources.add(r);
    for (const k of [n.kind, n.listKind]) if (k) kinds.add(k);
  }
  return { resources, kinds };
}

/** Null when the requested name is ours already or free; otherwise why not. */
function conflict(requested: string | undefined, accepted: string | undefined, used: Set<string>): string | null {
  if (requested === accepted || !requested || !used.has(requested)) return null;
  return `${JSON.stringify(requested)} is already in use`;
}

function setCondition(list: CrdCondition[], next: CrdCondition, now: Date): CrdCondition[] {
  const old = list.find((c) => c.type === next.type);
  const lastTransitionTime =
    old?.status === next.status && old.lastTransitionTime ? old.lastTransitionTime : rfc3339(now);
  const updated = {
    type: next.type,
    status: next.status,
    lastTransitionTime,
    reason: next.reason,
    message: next.message,
  };
  return old ? list.map((c) => (c === old ? updated : c)) : [...list, updated];
}

/**
 * The status a CRD should have, given every other CRD (their status.acceptedNames
 * hold the names already claimed in each group). Pure: `crd` is not changed.
 */
export function crdStatus(input: KubeObject, otherCrds: KubeObject[], now = new Date()): CrdStatus {
  const crd = input as CustomResourceDefinition;
  const spec = defaultCrd(structuredClone(crd)).spec;
  const requested = spec.names;
  const accepted: CrdNames = crd.status?.acceptedNames ?? { plural: '', kind: '' };
  const { resources, kinds } = claimed(otherCrds, spec.group, crd.metadata?.name ?? '');
  const names: CrdNames = { ...accepted };
  let problem: { reason: string; message: string } | undefined;

  const check = (reason: string, err: string | null, take: () => void) => {
    if (err) problem = { reason, message: err };
    else take();
  };
  check(
    'PluralConflict',
    conflict(requested.plural, accepted.plural, resources),
    () => (names.plural = requested.plural),
  );
  check(
    'SingularConflict',
    conflict(requested.singular, accepted.singular, resources),
    () => (names.singular = requested.singular),
  );
  if (JSON.stringify(requested.shortNames ?? []) !== JSON.stringify(accepted.shortNames ?? [])) {
    const mine = new Set(accepted.shortNames ?? []);
    const errs = (requested.shortNames ?? [])
      .filter((s) => !mine.has(s))
      .map((s) => conflict(s, '', resources))
      .filter((e) => e !== null);
    const message = errs.length === 1 ? errs[0] : errs.length > 1 ? `[${errs.join(', ')}]` : null;
    check('ShortNamesConflict', message, () => {
      if (requested.shortNames) names.shortNames = requested.shortNames;
      else delete names.shortNames;
    });
  }
  check('KindConflict', conflict(requested.kind, accepted.kind, kinds), () => (names.kind = requested.kind));
  check(
    'ListKindConflict',
    conflict(requested.listKind, accepted.listKind, kinds),
    () => (names.listKind = requested.listKind),
  );
  if (requested.categories) names.categories = requested.categories;
  else delete names.categories;

  let conditions = crd.status?.conditions ?? [];
  const namesAccepted: CrdCondition = problem
    ? { type: 'NamesAccepted', status: 'False', ...problem }
    : { type: 'NamesAccepted', status: 'True', reason: 'NoConflicts', message: 'no conflicts found' };
  conditions = setCondition(conditions, namesAccepted, now);
  const wasEstablished = conditions.some((c) => c.type === 'Established' && c.status === 'True');
  if (!wasEstablished) {
    const established: CrdCondition = problem
      ? { type: 'Established', status: 'False', reason: 'NotAccepted', message: 'not all names are accepted' }
      : {
          type: 'Established',
          status: 'True',
          reason: 'InitialNamesAccepted',
          message: 'the initial names have been accepted',
        };
    conditions = setCondition(conditions, established, now);
  }

  const storedVersions = [...(crd.status?.storedVersions ?? [])];
  const storage = spec.versions?.find((v) => v.storage)?.name;
  if (storage && !storedVersions.includes(storage)) storedVersions.push(storage);
  return { acceptedNames: names, conditions, storedVersions };
}
