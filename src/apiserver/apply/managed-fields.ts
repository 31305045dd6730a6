// metadata.managedFields: decoding/encoding entries, and the bookkeeping every
// non-apply write (create, update, patch) does: the writer becomes owner of
// what it changed, everybody else loses it (Kubernetes' fieldmanager chain:
// skip-non-applied, cap-managers, managed-fields-updater, strip-meta).
import { isObject, type KubeObject, type ManagedFieldsEntry } from '../../api/types.ts';
import type { Schema, SchemaSource } from '../schema/types.ts';
import {
  difference,
  type FieldSet,
  fieldElement,
  fieldSetOf,
  fromFieldsV1,
  isEmptyFieldSet,
  recursiveDifference,
  toFieldsV1,
  union,
} from './fieldset.ts';
import { compare, type TypeContext } from './typed.ts';

/** Kubernetes keeps at most this many Update entries; older ones merge into "ancient-changes". */
export const MAX_UPDATE_MANAGERS = 10;
const ANCIENT_CHANGES = 'ancient-changes';
/** Owner of everything an object had when its first apply finds no managedFields. */
export const BEFORE_FIRST_APPLY = 'before-first-apply';
/** Longest manager name kept from a User-Agent (Kubernetes' limit). */
const MAX_MANAGER_NAME = 128;

export type Operation = 'Apply' | 'Update';

/** One decoded managedFields entry. */
export type Manager = {
  manager: string;
  operation: Operation;
  apiVersion: string;
  subresource?: string;
  time?: string;
  fields: FieldSet;
};

/** Paths never owned by anybody (Kubernetes' strip-meta set; exact paths). */
export const STRIPPED_FIELDS: FieldSet = fieldSetOf([
  ['f:apiVersion'],
  ['f:kind'],
  ['f:metadata'],
  ...['name', 'namespace', 'creationTimestamp', 'selfLink', 'uid', 'clusterName', 'generation']
    .concat(['managedFields', 'resourceVersion', 'deletionTimestamp', 'deletionGracePeriodSeconds'])
    .map((f) => ['f:metadata', fieldElement(f)]),
]);

/** Field-name paths (e.g. [['status']]) to a field set. */
export function fieldPaths(paths: string[][] | undefined): FieldSet {
  return fieldSetOf((paths ?? []).map((p) => p.map(fieldElement)));
}

/** What makes two entries the same manager (time and fields never do; apiVersion only for Update). */
export function managerKey(m: Pick<Manager, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  return JSON.stringify([m.manager, m.operation, m.operation === 'Update' ? m.apiVersion : '', m.subresource ?? '']);
}

/** RFC3339 with second precision, as metav1.Time serializes. */
export function rfc3339(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z');
}

/** The manager of a write: ?fieldManager=, else the User-Agent up to its first "/" (printable, ≤128). */
export function managerFromRequest(req: { fieldManager?: string; userAgent?: string }): string {
  if (req.fieldManager) return req.fieldManager;
  const prefix = (req.userAgent ?? '').split('/')[0];
  // biome-ignore lint/suspicious/noControlCharactersInRegex: dropping non-printable characters is the point
  return [...prefix.replace(/[\u0000-\u001f\u007f-\u009f]/g, '')].slice(0, MAX_MANAGER_NAME).join('') || 'unknown';
}

/** Decodes managedFields; throws on entries Kubernetes would reject. */
export function decodeManagedFields(entries: ManagedFieldsEntry[] | undefined): Manager[] {
  const byKey = new Map<string, Manager>();
  (entries ?? []).forEach((e, i) => {
    if (e.operation !== 'Apply' && e.operation !== 'Update') throw new Error('operation must be `Apply` or `Update`');
    if (!e.apiVersion) throw new Error('apiVersion must not be empty');
    if (e.fieldsType !== 'FieldsV1') {
      throw new Error(
        e.fieldsType
          ? `invalid fieldsType "${e.fieldsType}" in managed fields entry ${i}`
          : `missing fieldsType in managed fields entry ${i}`,
      );
    }
    const m: Manager = {
      manager: e.manager ?? '',
      operation: e.operation,
      apiVersion: e.apiVersion,
      subresource: e.subresource || undefined,
      time: e.time,
      fields: fromFieldsV1(e.fieldsV1 ?? {}),
    };
    byKey.set(managerKey(m), m);
  });
  return [...byKey.values()];
}

function seconds(time: string | undefined): number {
  return time ? Math.floor(Date.parse(time) / 1000) : 0;
}

const order = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Entries in Kubernetes' order: Apply first, then by time, manager, apiVersion, subresource. */
export function encodeManagedFields(managers: Manager[]): ManagedFieldsEntry[] {
  return managers
    .filter((m) => !isEmptyFieldSet(m.fields))
    .sort(
      (p, q) =>
        order(p.operation, q.operation) ||
        seconds(p.time) - seconds(q.time) ||
        order(p.manager, q.manager) ||
        order(p.apiVersion, q.apiVersion) ||
        order(p.subresource ?? '', q.subresource ?? ''),
    )
    .map((m) => {
      const e: ManagedFieldsEntry = { manager: m.manager, operation: m.operation, apiVersion: m.apiVersion };
      if (m.time) e.time = m.time;
      e.fieldsType = 'FieldsV1';
      e.fieldsV1 = toFieldsV1(m.fields);
      if (m.subresource) e.subresource = m.subresource;
      return e;
    });
}

/** A copy of `obj` without metadata.managedFields (never part of the compared object). */
export function withoutManagedFields<T extends KubeObject | undefined>(obj: T): T {
  if (!obj) return obj;
  const { managedFields: _, ...metadata } = obj.metadata ?? {};
  return { ...obj, metadata } as T;
}

/** `obj` (copied) carrying `managers` as its managedFields. */
export function withManagedFields(obj: KubeObject, managers: Manager[]): KubeObject {
  const encoded = encodeManagedFields(managers);
  const { managedFields: _, ...metadata } = obj.metadata ?? {};
  return { ...obj, metadata: encoded.length > 0 ? { ...metadata, managedFields: encoded } : metadata };
}

export type Writer = { manager: string; apiVersion: string; subresource?: string };

export type UpdateContext = TypeContext & {
  /** Paths this write does not manage (reset fields, e.g. status on the main resource). */
  ignored: FieldSet;
  now: Date;
};

/** Merges the oldest Update entries into per-version "ancient-changes" buckets beyond the cap. */
function capUpdateManagers(managers: Manager[]): Manager[] {
  const updaters = managers.filter((m) => m.operation === 'Update');
  if (updaters.length <= MAX_UPDATE_MANAGERS) return managers;
  updaters.sort((a, b) => seconds(a.time) - seconds(b.time) || order(managerKey(a), managerKey(b)));
  const out = new Map(managers.map((m) => [managerKey(m), m]));
  const firstByVersion = new Map<string, Manager>();
  let count = updaters.length;
  for (const m of updaters) {
    if (count <= MAX_UPDATE_MANAGERS) break;
    const first = firstByVersion.get(m.apiVersion);
    if (!first) {
      firstByVersion.set(m.apiVersion, m);
      continue;
    }
    const bucketKey = managerKey({ manager: ANCIENT_CHANGES, operation: 'Update', apiVersion: m.apiVersion });
    let bucket = out.get(bucketKey);
    if (!bucket) {
      // The first entry of this version becomes the bucket.
      bucket = first;
      out.delete(managerKey(first));
    }
    out.delete(managerKey(m));
    out.set(bucketKey, {
      manager: ANCIENT_CHANGES,
      operation: 'Update',
      apiVersion: m.apiVersion,
      time: m.time,
      fields: union(m.fields, bucket.fields),
    });
    count--;
  }
  return [...out.values()];
}

/**
 * Ownership after a non-apply write from `live` to `updated`: the writer gains
 * what it added or changed, every manager loses what changed or vanished.
 */
export function recordUpdate(
  managers: Manager[],
  live: unknown,
  updated: unknown,
  writer: Writer,
  ctx: UpdateContext,
): Manager[] {
  const cmp = compare(live, updated, ctx);
  const changed = recursiveDifference(union(cmp.modified, cmp.added), ctx.ignored);
  const removed = recursiveDifference(cmp.removed, ctx.ignored);
  const out: Manager[] = [];
  for (const m of managers) {
    const fields = difference(difference(m.fields, changed), removed);
    if (!isEmptyFieldSet(fields)) out.push({ ...m, fields });
  }
  const mine = difference(changed, STRIPPED_FIELDS);
  if (!isEmptyFieldSet(mine)) {
    const entry: Manager = { ...writer, operation: 'Update', time: rfc3339(ctx.now), fields: mine };
    const key = managerKey(entry);
    const at = out.findIndex((m) => managerKey(m) === key);
    if (at >= 0) out[at] = { ...entry, fields: union(out[at].fields, mine) };
    else out.push(entry);
  }
  return capUpdateManagers(out);
}

export type UpdateManagedFieldsOptions = {
  /** The stored object; undefined on create. */
  live: KubeObject | undefined;
  /** The object about to be stored (its managedFields, if the client sent some, are honoured). */
  updated: KubeObject;
  /** From managerFromRequest. */
  manager: string;
  operation?: 'Update';
  /** The group/version of the request, e.g. "apps/v1". */
  apiVersion: string;
  /** "status" or "scale" for subresource writes. */
  subresource?: string;
  now: Date;
  /** Root schema of the kind; undefined for unknown types. */
  schema: Schema | undefined;
  source?: SchemaSource;
  /** Field-name paths this endpoint does not manage, e.g. [['status']] on a main resource with a status subresource. */
  resetFields?: string[][];
  /** True for custom resources (see TypeContext.unstructured). */
  unstructured?: boolean;
};

const isEmptyEntry = (e: unknown): boolean => isObject(e) && Object.values(e).every((v) => v === undefined);

/** Which managers the write starts from: the request's own managedFields if it sent valid ones, else live's. */
function startingManagers(opts: UpdateManagedFieldsOptions): Manager[] {
  const fromLive = (): Manager[] => {
    try {
      return decodeManagedFields(opts.live?.metadata?.managedFields);
    } catch {
      return [];
    }
  };
  if (opts.subresource) return fromLive();
  const sent = opts.updated.metadata?.managedFields;
  // An empty list (or one empty entry) is how clients reset managedFields.
  if (Array.isArray(sent) && (sent.length === 0 || (sent.length === 1 && isEmptyEntry(sent[0])))) return [];
  try {
    const managers = decodeManagedFields(sent);
    if (managers.length > 0) return managers;
  } catch {
    // Undecodable: keep what the server had.
  }
  return fromLive();
}

/** `updated` with managedFields recording this create/update/patch. Inputs are not mutated. */
export function updateManagedFields(opts: UpdateManagedFieldsOptions): KubeObject {
  const managers = startingManagers(opts);
  const updated = withoutManagedFields(opts.updated);
  // Kubernetes starts tracking on create; an existing object without
  // managedFields stays untracked until its first apply.
  if (managers.length === 0 && opts.live?.metadata?.uid) return updated;
  const ctx: UpdateContext = {
    schema: opts.schema,
    source: opts.source,
    unstructured: opts.unstructured,
    ignored: fieldPaths(opts.resetFields),
    now: opts.now,
  };
  const writer: Writer = {
    manager: opts.manager || 'unknown',
    apiVersion: opts.apiVersion,
    subresource: opts.subresource,
  };
  const next = recordUpdate(managers, withoutManagedFields(opts.live) ?? {}, updated, writer, ctx);
  return withManagedFields(updated, next);
}
