// Server-side apply (PATCH with application/apply-patch+yaml): merge the
// applied configuration into the live object, prune what this manager applied
// before but no longer does, detect conflicts with other managers, and record
// ownership — Kubernetes' structured-merge-diff Updater.Apply plus the
// fieldmanager wrappers around it (first-apply adoption, client-side-apply
// upgrade for "kubectl", last-applied annotation sync).
import { isDeepStrictEqual } from 'node:util';
import { type ApiError, errors } from '../../api/errors.ts';
import { type KubeObject, splitApiVersion } from '../../api/types.ts';
import type { Schema, SchemaSource } from '../schema/types.ts';
import { type Conflict, conflictError, conflictsOf } from './conflicts.ts';
import {
  difference,
  type FieldSet,
  goJson,
  hasPath,
  intersection,
  isEmptyFieldSet,
  recursiveDifference,
  toFieldSet,
  union,
} from './fieldset.ts';
import {
  BEFORE_FIRST_APPLY,
  decodeManagedFields,
  fieldPaths,
  type Manager,
  managerKey,
  recordUpdate,
  rfc3339,
  STRIPPED_FIELDS,
  type UpdateContext,
  withManagedFields,
  withoutManagedFields,
} from './managed-fields.ts';
import { type ResourceApplyOptions, resourceContext } from './resource.ts';
import { TypedError } from './schema-walk.ts';
import { compare, ensureNamedFieldsAreMembers, merge, removePaths } from './typed.ts';

/** kubectl's client-side apply annotation. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';
/** Only this manager upgrades client-side-apply ownership (Kubernetes hard-codes it). */
const KUBECTL_MANAGER = 'kubectl';

export type ServerSideApplyOptions = {
  /** The stored object; undefined when the apply creates it. */
  live: KubeObject | undefined;
  /** The parsed apply body. */
  applied: KubeObject;
  /** ?fieldManager= (required for apply; the caller checks presence). */
  manager: string;
  /** ?force=true: take conflicting fields instead of failing. */
  force?: boolean;
  /** The group/version of the request, e.g. "apps/v1". */
  apiVersion: string;
  /** The kind served at the URL; defaults to live's kind. */
  kind?: string;
  /** The name in the URL; defaults to live's name. */
  name?: string;
  /** The namespace in the URL, if namespaced. */
  namespace?: string;
  subresource?: string;
  now: Date;
  /** Root schema of the kind; undefined for unknown types. */
  schema: Schema | undefined;
  source?: SchemaSource;
  /** Field-name paths this endpoint does not manage, e.g. [['status']]. */
  resetFields?: string[][];
  /** True for custom resources (see TypeContext.unstructured). */
  unstructured?: boolean;
};

function gvkString(apiVersion: string, kind: string): string {
  const { group, version } = splitApiVersion(apiVersion);
  return `${group}/${version}, Kind=${kind}`;
}

function validate(opts: ServerSideApplyOptions): void {
  const { applied, live } = opts;
  if (!applied.apiVersion) throw errors.badRequest('apiVersion must be set');
  if (!applied.kind) throw errors.badRequest('kind must be set');
  const kind = opts.kind ?? live?.kind ?? applied.kind;
  if (applied.apiVersion !== opts.apiVersion || applied.kind !== kind) {
    throw errors.badRequest(`invalid object type: ${gvkString(applied.apiVersion, applied.kind)}`);
  }
  if (applied.metadata?.managedFields != null) throw errors.badRequest('metadata.managedFields must be nil');
  const name = opts.name ?? live?.metadata?.name;
  const given = applied.metadata?.name;
  if (given && name && given !== name) {
    throw errors.badRequest(`the name of the object (${given}) does not match the name on the URL (${name})`);
  }
  const ns = applied.metadata?.namespace;
  if (ns && opts.namespace !== undefined && ns !== opts.namespace) {
    throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
}

type ApplyResult = { object: KubeObject; managers: Manager[] };

class ConflictsFound extends Error {
  readonly conflicts: Conflict[];
  constructor(conflicts: Conflict[]) {
    super('apply conflicts');
    this.conflicts = conflicts;
  }
}

/** Updater.Apply: merge, prune, then take ownership (or report conflicts). */
function applyCore(
  managers: Manager[],
  live: KubeObject,
  applied: KubeObject,
  appliedSet: FieldSet,
  opts: ServerSideApplyOptions,
  ctx: UpdateContext,
  force: boolean,
): ApplyResult {
  let merged = merge(live, applied, ctx) as KubeObject;
  const me: Manager = {
    manager: opts.manager,
    operation: 'Apply',
    apiVersion: opts.apiVersion,
    subresource: opts.subresource,
    fields: appliedSet,
  };
  const myKey = managerKey(me);
  const previous = managers.find((m) => managerKey(m) === myKey);
  const others = managers.filter((m) => managerKey(m) !== myKey);

  // Prune: what I applied last time and nobody (me included) owns now.
  if (previous && !isEmptyFieldSet(previous.fields)) {
    const ownedNow = [...others, me].reduce((acc, m) => union(acc, m.fields), appliedSet);
    const toRemove = difference(
      ensureNamedFieldsAreMembers(previous.fields, ctx),
      ensureNamedFieldsAreMembers(ownedNow, ctx),
    );
    merged = (removePaths(merged, toRemove, ctx) ?? {}) as KubeObject;
  }

  const cmp = compare(live, merged, ctx);
  const changed = recursiveDifference(union(cmp.modified, cmp.added), ctx.ignored);
  const removed = recursiveDifference(cmp.removed, ctx.ignored);
  const conflicting = others
    .map((m) => ({ manager: m, fields: intersection(m.fields, changed) }))
    .filter((c) => !isEmptyFieldSet(c.fields));
  if (conflicting.length > 0 && !force) throw new ConflictsFound(conflictsOf(conflicting));

  const objectChanged = !isDeepStrictEqual(live, merged);
  const next: Manager[] = [];
  for (const m of others) {
    const fields = difference(difference(m.fields, changed), removed);
    if (!isEmptyFieldSet(fields)) next.push({ ...m, fields });
  }
  if (!isEmptyFieldSet(appliedSet)) {
    // Kubernetes stamps the time only when the object changed; a brand-new
    // entry gets one too so that every entry says when it was made.
    const time = objectChanged || !previous?.time ? rfc3339(ctx.now) : previous.time;
    next.push({ ...me, time });
  }
  return { object: merged, managers: next };
}

/** Fields the last-applied annotation proves kubectl's client-side apply set to today's values. */
function allowedFromLastApplied(
  live: KubeObject,
  opts: ServerSideApplyOptions,
  ctx: UpdateContext,
): FieldSet | undefined {
  const text = live.metadata?.annotations?.[LAST_APPLIED_ANNOTATION];
  if (!text) return undefined;
  let lastApplied: unknown;
  try {
    lastApplied = JSON.parse(text);
  } catch {
    return undefined;
  }
  if ((lastApplied as KubeObject)?.apiVersion !== opts.apiVersion) return undefined;
  try {
    const set = toFieldSet(lastApplied, ctx);
    const cmp = compare(lastApplied, live, ctx);
    return difference(difference(difference(set, cmp.modified), cmp.added), cmp.removed);
  } catch {
    return undefined;
  }
}

function typedPatchError(err: TypedError, opts: ServerSideApplyOptions): ApiError {
  const { applied } = opts;
  const where = `${applied.metadata?.namespace || opts.namespace || ''}/${applied.metadata?.name ?? opts.name ?? ''}`;
  return errors.badRequest(
    `failed to create typed patch object (${where}; ${gvkString(applied.apiVersion ?? '', applied.kind ?? '')}): ${err.message}`,
  );
}

/**
 * The object after applying `applied` as `manager`, managedFields included.
 * Throws 400 for malformed configurations and 409 Conflict (unless force).
 * Inputs are not mutated. Accepts plain options or a resource request
 * (ResourceDef + version + SchemaSource, see resource.ts).
 */
export function serverSideApply(args: ServerSideApplyOptions | ResourceApplyOptions): KubeObject {
  const opts: ServerSideApplyOptions = 'def' in args ? { ...args, ...resourceContext(args) } : args;
  validate(opts);
  const ctx: UpdateContext = {
    schema: opts.schema,
    source: opts.source,
    unstructured: opts.unstructured,
    ignored: fieldPaths(opts.resetFields),
    now: opts.now,
  };
  const applied = structuredClone(opts.applied);
  let appliedSet: FieldSet;
  try {
    appliedSet = toFieldSet(applied, { ...ctx, strict: true });
  } catch (err) {
    if (err instanceof TypedError) throw typedPatchError(err, opts);
    throw err;
  }
  appliedSet = recursiveDifference(difference(appliedSet, STRIPPED_FIELDS), ctx.ignored);

  const liveObj = withoutManagedFields(opts.live ? structuredClone(opts.live) : undefined);
  const base: KubeObject = liveObj ?? ({} as KubeObject);
  let managers: Manager[] = [];
  if (opts.live) {
    try {
      managers = decodeManagedFields(opts.live.metadata?.managedFields);
    } catch (err) {
      throw errors.internal(`failed to decode managed fields: ${(err as Error).message}`);
    }
    // An object nobody tracked yet: its current content belongs to a placeholder manager.
    if (managers.length === 0) {
      const writer = { manager: BEFORE_FIRST_APPLY, apiVersion: opts.apiVersion, subresource: opts.subresource };
      managers = recordUpdate([], {}, base, writer, ctx);
    }
  }

  let result: ApplyResult;
  try {
    result = applyCore(managers, base, applied, appliedSet, opts, ctx, !!opts.force);
  } catch (err) {
    if (!(err instanceof ConflictsFound)) throw err;
    // Upgrading from client-side apply: fields kubectl itself set (per the
    // annotation) and still holding those values are taken over silently.
    const allowed =
      opts.manager === KUBECTL_MANAGER && liveObj ? allowedFromLastApplied(liveObj, opts, ctx) : undefined;
    if (!allowed) throw conflictError(err.conflicts);
    const remaining = err.conflicts.filter((c) => !hasPath(allowed, c.path));
    if (remaining.length > 0) throw conflictError(remaining);
    result = applyCore(managers, base, applied, appliedSet, opts, ctx, true);
  }

  let object = result.object;
  // Keep the client-side apply annotation in step when kubectl moves to server-side apply.
  if (opts.manager === KUBECTL_MANAGER && liveObj?.metadata?.annotations?.[LAST_APPLIED_ANNOTATION]) {
    const { [LAST_APPLIED_ANNOTATION]: _, ...appliedAnnotations } = applied.metadata?.annotations ?? {};
    const config = { ...applied, metadata: { ...applied.metadata, annotations: appliedAnnotations } };
    if (Object.keys(appliedAnnotations).length === 0) delete (config.metadata as Record<string, unknown>).annotations;
    object = {
      ...object,
      metadata: {
        ...object.metadata,
        annotations: { ...object.metadata?.annotations, [LAST_APPLIED_ANNOTATION]: `${goJson(config)}\n` },
      },
    };
  }
  return withManagedFields(object, result.managers);
}
