// Field sets: which fields of an object somebody owns, as a trie of path
// elements, and their FieldsV1 wire form (managedFields[].fieldsV1), encoded
// byte-for-byte like structured-merge-diff: `f:<name>` struct/map fields,
// `k:<json>` list items by key fields (sorted), `v:<json>` set items, `i:<n>`
// items by position, and `.` marking a node that is itself a member.
import { isObject } from '../../api/types.ts';
import type { Schema, SchemaSource } from '../schema/types.ts';
import { keyDefault, type Shape, shapeOf, TypedError } from './schema-walk.ts';

/** A path element in its serialized form: "f:spec", `k:{"name":"a"}`, `v:"x"`, "i:0". */
export type PathElement = string;
export type FieldPath = PathElement[];

export type FieldSet = {
  /** Path elements that are members here (the path itself is owned). */
  readonly members: Set<PathElement>;
  /** Path elements with owned paths below them. */
  readonly children: Map<PathElement, FieldSet>;
};

export function emptyFieldSet(): FieldSet {
  return { members: new Set(), children: new Map() };
}

export function isEmptyFieldSet(set: FieldSet): boolean {
  return set.members.size === 0 && set.children.size === 0;
}

/** Adds `path` to `set` in place (for building new sets). */
export function insertPath(set: FieldSet, path: FieldPath): void {
  if (path.length === 0) return;
  let node = set;
  for (let i = 0; i < path.length - 1; i++) {
    let next = node.children.get(path[i]);
    if (!next) {
      next = emptyFieldSet();
      node.children.set(path[i], next);
    }
    node = next;
  }
  node.members.add(path[path.length - 1]);
}

export function fieldSetOf(paths: FieldPath[]): FieldSet {
  const set = emptyFieldSet();
  for (const p of paths) insertPath(set, p);
  return set;
}

export function hasPath(set: FieldSet, path: FieldPath): boolean {
  let node: FieldSet | undefined = set;
  for (let i = 0; i < path.length - 1 && node; i++) node = node.children.get(path[i]);
  return !!node && path.length > 0 && node.members.has(path[path.length - 1]);
}

export function union(a: FieldSet, b: FieldSet): FieldSet {
  const out: FieldSet = { members: new Set([...a.members, ...b.members]), children: new Map(a.children) };
  for (const [pe, child] of b.children) {
    const mine = out.children.get(pe);
    out.children.set(pe, mine ? union(mine, child) : child);
  }
  return out;
}

/** Paths of `a` not in `b` (exact paths; descendants of b's members stay). */
export function difference(a: FieldSet, b: FieldSet): FieldSet {
  const out: FieldSet = { members: new Set([...a.members].filter((m) => !b.members.has(m))), children: new Map() };
  for (const [pe, child] of a.children) {
    const other = b.children.get(pe);
    const rest = other ? difference(child, other) : child;
    if (!isEmptyFieldSet(rest)) out.children.set(pe, rest);
  }
  return out;
}

export function intersection(a: FieldSet, b: FieldSet): FieldSet {
  const out: FieldSet = { members: new Set([...a.members].filter((m) => b.members.has(m))), children: new Map() };
  for (const [pe, child] of a.children) {
    const other = b.children.get(pe);
    if (!other) continue;
    const both = intersection(child, other);
    if (!isEmptyFieldSet(both)) out.children.set(pe, both);
  }
  return out;
}

/** Paths of `a` that are neither in `b` nor below a member of `b`. */
export function recursiveDifference(a: FieldSet, b: FieldSet): FieldSet {
  const out: FieldSet = { members: new Set([...a.members].filter((m) => !b.members.has(m))), children: new Map() };
  for (const [pe, child] of a.children) {
    if (b.members.has(pe)) continue;
    const other = b.children.get(pe);
    const rest = other ? recursiveDifference(child, other) : child;
    if (!isEmptyFieldSet(rest)) out.children.set(pe, rest);
  }
  return out;
}

/** Every path, in structured-merge-diff's iteration order (members, then children, each sorted). */
export function pathsOf(set: FieldSet, prefix: FieldPath = []): FieldPath[] {
  const out: FieldPath[] = [];
  for (const m of [...set.members].sort(comparePathElements)) out.push([...prefix, m]);
  for (const pe of [...set.children.keys()].sort(comparePathElements)) {
    out.push(...pathsOf(set.children.get(pe)!, [...prefix, pe]));
  }
  return out;
}

// ---- JSON the way Go's encoding/json writes it (sorted keys, HTML-safe) ----

function goString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function goJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(goJson).join(',')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${goString(k)}:${goJson(v[k])}`).join(',')}}`;
  }
  if (typeof v === 'string') return goString(v);
  return JSON.stringify(v ?? null);
}

// ---- path elements ----

export const fieldElement = (name: string): PathElement => `f:${name}`;
export const valueElement = (value: unknown): PathElement => `v:${goJson(value)}`;
export const indexElement = (index: number): PathElement => `i:${index}`;
export function keyElement(fields: Record<string, unknown>): PathElement {
  return `k:${goJson(fields)}`;
}

const KIND_ORDER: Record<string, number> = { f: 0, k: 1, v: 2, i: 3 };

function valueRank(v: unknown): number {
  if (typeof v === 'number') return 0;
  if (typeof v === 'string') return 1;
  if (typeof v === 'boolean') return 2;
  if (Array.isArray(v)) return 3;
  if (isObject(v)) return 4;
  return 5;
}

const cmp = <T>(a: T, b: T): number => (a < b ? -1 : a > b ? 1 : 0);

/** structured-merge-diff's total order on values (numbers, strings, bools, lists, maps, null). */
export function compareValues(a: unknown, b: unknown): number {
  const ra = valueRank(a);
  const rb = valueRank(b);
  if (ra !== rb) return ra - rb;
  if (ra <= 2) return cmp(a as number | string | boolean, b as number | string | boolean);
  if (ra === 3) {
    const x = a as unknown[];
    const y = b as unknown[];
    for (let i = 0; i < Math.min(x.length, y.length); i++) {
      const c = compareValues(x[i], y[i]);
      if (c !== 0) return c;
    }
    return x.length - y.length;
  }
  if (ra === 4) return compareFieldLists(a as Record<string, unknown>, b as Record<string, unknown>);
  return 0;
}

function compareFieldLists(a: Record<string, unknown>, b: Record<string, unknown>): number {
  const ka = Object.keys(a).sort();
  const kb = Object.keys(b).sort();
  for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
    const c = cmp(ka[i], kb[i]) || compareValues(a[ka[i]], b[kb[i]]);
    if (c !== 0) return c;
  }
  return ka.length - kb.length;
}

function parseElement(pe: PathElement): { kind: string; body: string } {
  if (pe.length < 2 || pe[1] !== ':' || !(pe[0] in KIND_ORDER)) throw new TypedError(`invalid path element ${pe}`);
  return { kind: pe[0], body: pe.slice(2) };
}

export function comparePathElements(a: PathElement, b: PathElement): number {
  const pa = parseElement(a);
  const pb = parseElement(b);
  if (pa.kind !== pb.kind) return KIND_ORDER[pa.kind] - KIND_ORDER[pb.kind];
  switch (pa.kind) {
    case 'f':
      return cmp(pa.body, pb.body);
    case 'i':
      return Number(pa.body) - Number(pb.body);
    case 'k':
      return compareFieldLists(JSON.parse(pa.body), JSON.parse(pb.body));
    default:
      return compareValues(JSON.parse(pa.body), JSON.parse(pb.body));
  }
}

/** Go's %v rendering of a value inside a path string (strings quoted). */
function goToString(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(goToString).join(',')}]`;
  if (isObject(v))
    return Object.entries(v)
      .map(([k, x]) => `${k}=${goToString(x)}`)
      .join('');
  return String(v);
}

/** A path as Kubernetes prints it in conflicts: `.spec.containers[name="a"].image`. */
export function pathToString(path: FieldPath): string {
  return path
    .map((pe) => {
      const { kind, body } = parseElement(pe);
      if (kind === 'f') return `.${body}`;
      if (kind === 'i') return `[${body}]`;
      if (kind === 'v') return `[=${goToString(JSON.parse(body))}]`;
      const fields = JSON.parse(body) as Record<string, unknown>;
      return `[${Object.entries(fields)
        .map(([k, x]) => `${k}=${goToString(x)}`)
        .join(',')}]`;
    })
    .join('');
}

// ---- FieldsV1 ----

export type FieldsV1 = Record<string, unknown>;

export function toFieldsV1(set: FieldSet): FieldsV1 {
  const out: FieldsV1 = {};
  const pes = [...new Set([...set.members, ...set.children.keys()])].sort(comparePathElements);
  for (const pe of pes) {
    const child = set.children.get(pe);
    if (!child) {
      out[pe] = {};
      continue;
    }
    const inner = toFieldsV1(child);
    out[pe] = set.members.has(pe) && !isEmptyFieldSet(child) ? { '.': {}, ...inner } : inner;
  }
  return out;
}

/** Canonical spelling of a decoded element, so equal elements compare equal as strings. */
function canonicalElement(pe: string): PathElement {
  const { kind, body } = parseElement(pe);
  try {
    if (kind === 'f') return pe;
    if (kind === 'i') {
      if (!/^-?\d+$/.test(body)) throw new Error('bad index');
      return indexElement(Number(body));
    }
    const parsed = JSON.parse(body);
    if (kind === 'k') {
      if (!isObject(parsed)) throw new Error('key is not an object');
      return keyElement(parsed);
    }
    return valueElement(parsed);
  } catch (err) {
    throw new TypedError(`invalid path element ${pe}: ${(err as Error).message}`);
  }
}

export function fromFieldsV1(fields: unknown): FieldSet {
  if (!isObject(fields)) throw new TypedError('fieldsV1 must be an object');
  const set = emptyFieldSet();
  for (const [key, sub] of Object.entries(fields)) {
    if (key === '.') continue;
    const pe = canonicalElement(key);
    if (!isObject(sub)) throw new TypedError(`fieldsV1 value for ${key} must be an object`);
    const keys = Object.keys(sub);
    if (keys.length === 0 || keys.includes('.')) set.members.add(pe);
    const child = fromFieldsV1(sub);
    if (!isEmptyFieldSet(child)) set.children.set(pe, union(set.children.get(pe) ?? emptyFieldSet(), child));
  }
  return set;
}

// ---- the fields an object sets ----

export type ToFieldSetOptions = {
  schema: Schema | undefined;
  source?: SchemaSource;
  /** Reject list items without their key fields, and duplicate keys (applied configurations). */
  strict?: boolean;
};

/** The path element of a granular list's item. */
export function itemElement(
  shape: Extract<Shape, { kind: 'list' }>,
  item: unknown,
  index: number,
  opts: { source?: SchemaSource; strict?: boolean; path: FieldPath },
): PathElement {
  if (shape.keys.length === 0) {
    return isObject(item) || Array.isArray(item) ? indexElement(index) : valueElement(item);
  }
  if (!isObject(item)) {
    if (opts.strict) throw new TypedError(`${pathToString(opts.path)}: element ${index}: expected a map`);
    return indexElement(index);
  }
  const fields: Record<string, unknown> = {};
  for (const key of shape.keys) {
    const v = item[key] ?? keyDefault(shape.item, key, opts.source);
    if (v === undefined || v === null) {
      if (!opts.strict) return indexElement(index);
      throw new TypedError(
        `${pathToString(opts.path)}: element ${index}: associative list with keys has an element that omits key field "${key}"`,
      );
    }
    fields[key] = v;
  }
  return keyElement(fields);
}

/** Every field path `value` sets (structured-merge-diff's ToFieldSet). */
export function toFieldSet(value: unknown, opts: ToFieldSetOptions): FieldSet {
  const set = emptyFieldSet();
  const walk = (path: FieldPath, v: unknown, schema: Schema | undefined): void => {
    const shape = shapeOf(schema, v, opts.source);
    if (shape.kind === 'leaf') {
      insertPath(set, path);
    } else if (shape.kind === 'map') {
      for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
        if (child === undefined) continue;
        const childPath = [...path, fieldElement(k)];
        walk(childPath, child, shape.child(k));
        if (!shape.named(k)) insertPath(set, childPath);
      }
    } else {
      const seen = new Set<PathElement>();
      (v as unknown[]).forEach((item, i) => {
        const pe = itemElement(shape, item, i, { source: opts.source, strict: opts.strict, path });
        if (opts.strict && seen.has(pe)) {
          throw new TypedError(`${pathToString(path)}: duplicate entries for key ${pathToString([pe])}`);
        }
        seen.add(pe);
        walk([...path, pe], item, shape.item);
        insertPath(set, [...path, pe]);
      });
    }
  };
  walk([], value, opts.schema);
  return set;
}
