// Schema-aware operations on plain JSON objects, after structured-merge-diff:
// compare (which paths were added, modified, removed), merge (an applied
// configuration into a live object), remove (drop owned paths) and the
// "named fields are members" widening that pruning relies on.
import { isDeepStrictEqual } from 'node:util';
import { isObject } from '../../api/types.ts';
import type { Schema, SchemaSource } from '../schema/types.ts';
import {
  emptyFieldSet,
  type FieldPath,
  type FieldSet,
  fieldElement,
  insertPath,
  itemElement,
  type PathElement,
} from './fieldset.ts';
import { childSchema, isNamedField, LEAF, type Shape, shapeOf } from './schema-walk.ts';

export type TypeContext = {
  schema: Schema | undefined;
  source?: SchemaSource;
  /**
   * Own a newly added struct (an object with declared properties) as a whole,
   * as Kubernetes does for custom resources. Built-in kinds are Go structs
   * that always exist, so Kubernetes never records them as added.
   */
  unstructured?: boolean;
};

export type Comparison = { added: FieldSet; modified: FieldSet; removed: FieldSet };

const isEmptyContainer = (v: unknown): boolean =>
  v === undefined || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.keys(v).length === 0);

/** The shape both sides share; disagreeing or empty containers compare as leaves. */
function commonShape(l: unknown, r: unknown, schema: Schema | undefined, ctx: TypeContext): Shape {
  const shape = shapeOf(schema, r !== undefined ? r : l, ctx.source);
  if (shape.kind === 'leaf') return shape;
  if (l !== undefined && r !== undefined && shapeOf(schema, l, ctx.source).kind !== shape.kind) return LEAF;
  // Both empty: keep the empty/absent distinction as a leaf (as SMD does).
  if (isEmptyContainer(l) && isEmptyContainer(r)) return LEAF;
  return shape;
}

type Items = { order: PathElement[]; byElement: Map<PathElement, unknown> };

/** Items of a granular list by path element; later duplicates are ignored. */
function indexItems(list: unknown, shape: Extract<Shape, { kind: 'list' }>, ctx: TypeContext, path: FieldPath): Items {
  const order: PathElement[] = [];
  const byElement = new Map<PathElement, unknown>();
  if (!Array.isArray(list)) return { order, byElement };
  list.forEach((item, i) => {
    const pe = itemElement(shape, item, i, { source: ctx.source, path });
    if (byElement.has(pe)) return;
    byElement.set(pe, item);
    order.push(pe);
  });
  return { order, byElement };
}

/** Which paths differ between `lhs` (before) and `rhs` (after). */
export function compare(lhs: unknown, rhs: unknown, ctx: TypeContext): Comparison {
  const result: Comparison = { added: emptyFieldSet(), modified: emptyFieldSet(), removed: emptyFieldSet() };
  const walk = (path: FieldPath, l: unknown, r: unknown, schema: Schema | undefined): void => {
    // Equal subtrees add nothing to any of the three sets; most writes change a small part of a large object
    // (a status update leaves spec and metadata alone), and one deep comparison is far cheaper than the walk.
    if (l !== undefined && r !== undefined && (l === r || isDeepStrictEqual(l, r))) return;
    const shape = commonShape(l, r, schema, ctx);
    if (shape.kind === 'leaf') {
      if (l === undefined) insertPath(result.added, path);
      else if (r === undefined) insertPath(result.removed, path);
      else if (!isDeepStrictEqual(l, r)) insertPath(result.modified, path);
      return;
    }
    if (shape.kind === 'map') {
      const lm = (isObject(l) ? l : {}) as Record<string, unknown>;
      const rm = (isObject(r) ? r : {}) as Record<string, unknown>;
      for (const k of new Set([...Object.keys(lm), ...Object.keys(rm)])) {
        if (lm[k] === undefined && rm[k] === undefined) continue;
        walk([...path, fieldElement(k)], lm[k], rm[k], shape.child(k));
      }
    } else {
      const li = indexItems(l, shape, ctx, path);
      const ri = indexItems(r, shape, ctx, path);
      for (const pe of new Set([...li.order, ...ri.order])) {
        walk([...path, pe], li.byElement.get(pe), ri.byElement.get(pe), shape.item);
      }
    }
    if (path.length === 0) return;
    const isField = path[path.length - 1].startsWith('f:');
    const wholeStruct = isField && shape.kind === 'map' && shape.struct && !ctx.unstructured;
    if (l === undefined && !wholeStruct) insertPath(result.added, path);
    else if (r === undefined) insertPath(result.removed, path);
  };
  walk([], lhs, rhs, ctx.schema);
  return result;
}

/** `rhs` merged into `lhs`: maps by key, granular lists by item, everything else replaced. */
export function merge(lhs: unknown, rhs: unknown, ctx: TypeContext): unknown {
  const walk = (path: FieldPath, l: unknown, r: unknown, schema: Schema | undefined): unknown => {
    if (r === undefined) return l;
    if (l === undefined) return r;
    const shape = commonShape(l, r, schema, ctx);
    if (shape.kind === 'leaf') return r;
    if (shape.kind === 'map') {
      const lm = l as Record<string, unknown>;
      const rm = r as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const k of new Set([...Object.keys(lm), ...Object.keys(rm)])) {
        const v = walk([...path, fieldElement(k)], lm[k], rm[k], shape.child(k));
        if (v !== undefined) out[k] = v;
      }
      return out;
    }
    return mergeList(path, l as unknown[], r as unknown[], shape, (pe, a, b) => walk([...path, pe], a, b, shape.item));
  };
  return walk([], lhs, rhs, ctx.schema);

  // Order: live items keep their place; applied items come in applied order,
  // with items shared by both ordered as the applied configuration says.
  function mergeList(
    path: FieldPath,
    l: unknown[],
    r: unknown[],
    shape: Extract<Shape, { kind: 'list' }>,
    mergeItem: (pe: PathElement, a: unknown, b: unknown) => unknown,
  ): unknown[] {
    const li = indexItems(l, shape, ctx, path);
    const ri = indexItems(r, shape, ctx, path);
    const lPEs = l.map((item, i) => itemElement(shape, item, i, { source: ctx.source, path }));
    const rPEs = ri.order;
    const shared = rPEs.filter((pe) => li.byElement.has(pe));
    let nextShared = shared.shift();
    const mergedR = new Set<PathElement>();
    const out: unknown[] = [];
    const push = (v: unknown) => {
      if (v !== undefined) out.push(v);
    };
    let lI = 0;
    let rI = 0;
    while (lI < lPEs.length || rI < rPEs.length) {
      if (lI < lPEs.length && rI < rPEs.length) {
        const pe = lPEs[lI];
        if (pe === rPEs[rI]) {
          mergedR.add(pe);
          push(mergeItem(pe, li.byElement.get(pe), ri.byElement.get(pe)));
          lI++;
          rI++;
          nextShared = shared.shift();
          continue;
        }
        if (ri.byElement.has(pe) && nextShared !== undefined && nextShared !== pe) {
          lI++;
          continue;
        }
      }
      if (lI < lPEs.length) {
        const pe = lPEs[lI];
        if (!ri.byElement.has(pe)) {
          push(mergeItem(pe, l[lI], undefined));
          lI++;
          continue;
        }
        if (mergedR.has(pe)) lI++;
      }
      if (rI < rPEs.length) {
        const pe = rPEs[rI];
        mergedR.add(pe);
        push(mergeItem(pe, li.byElement.get(pe), ri.byElement.get(pe)));
        rI++;
        if (nextShared === pe) nextShared = shared.shift();
      }
    }
    return out;
  }
}

/** `value` without the paths in `set` (a member drops its whole subtree); emptied containers vanish. */
export function removePaths(value: unknown, set: FieldSet, ctx: TypeContext): unknown {
  const walk = (path: FieldPath, v: unknown, s: FieldSet, schema: Schema | undefined): unknown => {
    const shape = shapeOf(schema, v, ctx.source);
    if (shape.kind === 'leaf') return v;
    if (isEmptyContainer(v)) return undefined;
    if (shape.kind === 'map') {
      const out: Record<string, unknown> = {};
      for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
        const pe = fieldElement(k);
        if (s.members.has(pe)) continue;
        const sub = s.children.get(pe);
        const kept = sub ? walk([...path, pe], child, sub, shape.child(k)) : child;
        if (kept !== undefined) out[k] = kept;
      }
      return Object.keys(out).length > 0 ? out : undefined;
    }
    const out: unknown[] = [];
    (v as unknown[]).forEach((item, i) => {
      const pe = itemElement(shape, item, i, { source: ctx.source, path });
      if (s.members.has(pe)) return;
      const sub = s.children.get(pe);
      const kept = sub ? walk([...path, pe], item, sub, shape.item) : item;
      if (kept !== undefined) out.push(kept);
    });
    return out.length > 0 ? out : undefined;
  };
  return walk([], value, set, ctx.schema);
}

/** `set` plus, as members, every declared struct field it has paths below. */
export function ensureNamedFieldsAreMembers(set: FieldSet, ctx: TypeContext): FieldSet {
  const walk = (s: FieldSet, schema: Schema | undefined): FieldSet => {
    const out: FieldSet = { members: new Set(s.members), children: new Map() };
    for (const [pe, child] of s.children) {
      if (isNamedField(schema, pe, ctx.source)) out.members.add(pe);
      out.children.set(pe, walk(child, childSchema(schema, pe, ctx.source)));
    }
    return out;
  };
  return walk(set, ctx.schema);
}
