// Kubernetes' strategic merge patch (what `kubectl apply` and `kubectl patch`
// send by default), steered by the schema's x-kubernetes-patch-* metadata.
// Behaviour follows apimachinery's strategicpatch.StrategicMergeMapPatch:
//  - maps merge recursively, null deletes; fields without schema metadata
//    behave like a JSON merge patch;
//  - lists with strategy "merge" merge by merge key (lists of primitives are
//    unioned); other lists are replaced;
//  - directives: $patch (replace|delete on maps, replace|delete on list
//    elements), $retainKeys, $deleteFromPrimitiveList/<field>,
//    $setElementOrder/<field>.
// Values the patch inserts whole are themselves run through the patch logic
// (on an empty original), so directives and nulls never reach the stored
// object; Kubernetes leaves them to be dropped by its typed decoding.
import { errors } from '../../api/errors.ts';
import type { Schema, SchemaSource } from '../schema/types.ts';
import {
  assertDepth,
  cloneJson,
  getOwn,
  hasOwn,
  isObject,
  type JsonObject,
  jsonKindName,
  setOwn,
} from './json-value.ts';
import { noMergeKey, SMP_MESSAGES, shown, smpBadRequest, smpNoListOfLists } from './patch-errors.ts';
import { type FieldMeta, fieldMeta, itemSchema } from './strategic-schema.ts';
import { identityFor, orderElements } from './strategic-order.ts';

const DIRECTIVE = '$patch';
const RETAIN_KEYS = '$retainKeys';
const DELETE_FROM_PRIMITIVE_LIST = '$deleteFromPrimitiveList';
const SET_ELEMENT_ORDER = '$setElementOrder';

type Ctx = { source: SchemaSource | undefined };

/**
 * Applies a strategic merge patch to a copy of `original`. `schema` is the
 * kind's root schema (without one, the patch acts like a JSON merge patch
 * that understands the directives). A null patch changes nothing. Malformed
 * patches answer 400, lists of lists 422 (as Kubernetes does).
 */
export function strategicMergePatch(
  original: unknown,
  patch: unknown,
  schema: Schema | undefined,
  source?: SchemaSource,
): unknown {
  if (patch === null) return cloneJson(original);
  if (!isObject(patch)) {
    throw errors.badRequest(
      `json: cannot unmarshal ${jsonKindName(patch)} into Go value of type map[string]interface {}`,
    );
  }
  assertDepth(patch, 'the patch');
  assertDepth(original, 'the object');
  const work = isObject(original) ? cloneJson(original) : {};
  return mergeMap(work, patch, schema, { source });
}

/** Merges `patch` into `original` (a private copy, changed in place) and returns the result. */
function mergeMap(original: JsonObject, patch: JsonObject, schema: Schema | undefined, ctx: Ctx): JsonObject {
  if (hasOwn(patch, DIRECTIVE)) return mapDirective(patch, schema, ctx);
  applyRetainKeys(original, patch);
  const ordered = new Set<string>();
  for (const key of Object.keys(patch)) {
    if (key.startsWith(SET_ELEMENT_ORDER)) {
      const field = applySetElementOrder(original, patch, key, schema, ctx);
      if (field !== undefined) ordered.add(field);
    }
  }
  for (const key of Object.keys(patch)) {
    if (key === RETAIN_KEYS || key.startsWith(SET_ELEMENT_ORDER) || ordered.has(key)) continue;
    if (key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      deleteFromPrimitiveList(original, key, patch[key]);
      continue;
    }
    const value = patch[key];
    if (value === null) {
      delete original[key];
      continue;
    }
    const meta = fieldMeta(schema, key, ctx.source);
    setOwn(original, key, mergeValue(getOwn(original, key), value, meta, ctx));
  }
  return original;
}

/** `$patch` on a map: replace puts the rest of the patch in place of the map; delete empties it. */
function mapDirective(patch: JsonObject, schema: Schema | undefined, ctx: Ctx): JsonObject {
  const directive = patch[DIRECTIVE];
  if (directive === 'delete') return {};
  if (directive !== 'replace') throw smpBadRequest(`unknown patch type: ${shown(directive)} in map: ${shown(patch)}`);
  const rest: JsonObject = {};
  for (const key of Object.keys(patch)) if (key !== DIRECTIVE) setOwn(rest, key, patch[key]);
  return mergeMap({}, rest, schema, ctx);
}

/** One member: recurse into maps and merge lists when both sides have the same shape; otherwise the patch wins. */
function mergeValue(current: unknown, value: unknown, meta: FieldMeta, ctx: Ctx): unknown {
  if (isObject(value)) {
    if (isObject(current) && meta.strategy !== 'replace') return mergeMap(current, value, meta.schema, ctx);
    return mergeMap({}, value, meta.schema, ctx);
  }
  if (Array.isArray(value)) return mergeListField(Array.isArray(current) ? current : [], value, meta, ctx);
  return value;
}

/** A list member: merged when its strategy is "merge", replaced otherwise. */
function mergeListField(current: unknown[], patch: unknown[], meta: FieldMeta, ctx: Ctx): unknown[] {
  const items = itemSchema(meta.schema, ctx.source);
  if (meta.strategy !== 'merge') {
    const itemMeta: FieldMeta = { schema: items, strategy: '', retainKeys: false, mergeKey: '' };
    return patch.filter((v) => v !== null).map((v) => mergeValue(undefined, v, itemMeta, ctx));
  }
  return mergeList(current, patch, meta.mergeKey, items, ctx);
}

type ElementKind = 'none' | 'object' | 'scalar';

/** Kubernetes' sliceElementType: every element of every list must have the same JSON type; no lists of lists. */
function elementKind(...lists: unknown[][]): ElementKind {
  let first: string | undefined;
  for (const list of lists) {
    for (const item of list) {
      const kind = jsonKindName(item);
      if (first === undefined) {
        if (kind === 'array') throw smpNoListOfLists();
        first = kind;
      } else if (kind !== first) {
        throw smpBadRequest(`list element types are not identical: ${shown(lists)}`);
      }
    }
  }
  if (first === undefined) return 'none';
  return first === 'object' ? 'object' : 'scalar';
}

function mergeList(
  current: unknown[],
  patch: unknown[],
  mergeKey: string,
  items: Schema | undefined,
  ctx: Ctx,
): unknown[] {
  const kind = elementKind(current, patch);
  if (kind === 'none') return [];
  if (kind === 'scalar') {
    const merged = [...new Set([...current, ...patch])];
    return orderElements(merged, patch, current, identityFor(''));
  }
  if (!mergeKey) throw smpBadRequest('cannot merge lists without merge key for type struct');
  const id = identityFor(mergeKey);
  const additions: JsonObject[] = [];
  const doomed = new Set<unknown>();
  let replace = false;
  for (const raw of patch) {
    const element = raw as JsonObject;
    if (!hasOwn(element, DIRECTIVE)) {
      additions.push(element);
      continue;
    }
    const directive = element[DIRECTIVE];
    if (directive === 'delete') {
      if (!hasOwn(element, mergeKey)) throw noMergeKey(element, mergeKey);
      doomed.add(element[mergeKey]);
    } else if (directive === 'replace') {
      replace = true;
    } else if (directive === 'merge') {
      throw smpBadRequest('merging lists cannot yet be specified in the patch');
    } else {
      throw smpBadRequest(`unknown patch type: ${shown(directive)} in map: ${shown(element)}`);
    }
  }
  const itemMeta: FieldMeta = { schema: items, strategy: '', retainKeys: false, mergeKey: '' };
  if (replace) return additions.map((element) => mergeMap({}, element, items, ctx));

  // Deletions come first, then each addition merges into the first element with its key or is appended.
  const live = doomed.size > 0 ? current.filter((item) => !doomed.has(id(item))) : current;
  const merged = [...live];
  const at = new Map<unknown, number>();
  merged.forEach((item, i) => {
    if (isObject(item) && hasOwn(item, mergeKey) && !at.has(item[mergeKey])) at.set(item[mergeKey], i);
  });
  for (const element of additions) {
    if (!hasOwn(element, mergeKey)) throw noMergeKey(element, mergeKey);
    const i = at.get(element[mergeKey]);
    if (i !== undefined) {
      merged[i] = mergeMap(merged[i] as JsonObject, element, items, ctx);
    } else {
      at.set(element[mergeKey], merged.length);
      merged.push(mergeValue(undefined, element, itemMeta, ctx));
    }
  }
  return orderElements(merged, additions, live, id);
}

/** `$retainKeys`: members of the original not listed are cleared; the patch may only set listed members. */
function applyRetainKeys(original: JsonObject, patch: JsonObject): void {
  if (!hasOwn(patch, RETAIN_KEYS)) return;
  const list = patch[RETAIN_KEYS];
  if (!Array.isArray(list)) throw smpBadRequest(SMP_MESSAGES.badRetainKeys);
  const keep = new Set(list);
  for (const key of Object.keys(patch)) {
    if (key === RETAIN_KEYS || patch[key] === null) continue;
    if (key.startsWith(DELETE_FROM_PRIMITIVE_LIST) || key.startsWith(SET_ELEMENT_ORDER)) continue;
    if (!keep.has(key)) throw smpBadRequest(SMP_MESSAGES.badRetainKeys);
  }
  for (const key of Object.keys(original)) if (!keep.has(key)) delete original[key];
}

/** The field name after "<prefix>/", or undefined when the key is not exactly of that form. */
function directiveField(key: string, prefix: string): string | undefined {
  const slash = key.indexOf('/');
  if (slash < 0 || key.slice(0, slash) !== prefix) return undefined;
  return key.slice(slash + 1);
}

/** `$deleteFromPrimitiveList/<field>`: drops the listed values from the list. */
function deleteFromPrimitiveList(original: JsonObject, key: string, value: unknown): void {
  const field = directiveField(key, DELETE_FROM_PRIMITIVE_LIST);
  if (field === undefined || !Array.isArray(value)) throw smpBadRequest(SMP_MESSAGES.badPrimitiveList);
  const current = getOwn(original, field);
  if (!Array.isArray(current)) return; // nothing to delete from
  const doomed = new Set(value);
  setOwn(
    original,
    field,
    current.filter((item) => !doomed.has(item)),
  );
}

function expectedList(actual: unknown): never {
  throw smpBadRequest(`expected a []interface {}, but received a ${goTypeName(actual)}`);
}

function goTypeName(value: unknown): string {
  if (isObject(value)) return 'map[string]interface {}';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int64' : 'float64';
  if (typeof value === 'boolean') return 'bool';
  if (value === null) return '%!s(<nil>)';
  return typeof value;
}

/**
 * `$setElementOrder/<field>`: merges the field's list (if the patch has one)
 * and puts the named elements in the given order, the others after or between
 * them by their live positions. Returns the field name once handled.
 */
function applySetElementOrder(
  original: JsonObject,
  patch: JsonObject,
  key: string,
  schema: Schema | undefined,
  ctx: Ctx,
): string | undefined {
  const order = patch[key];
  const field = directiveField(key, SET_ELEMENT_ORDER);
  if (field === undefined) throw smpBadRequest(SMP_MESSAGES.badSetElementOrder);
  if (!Array.isArray(order)) expectedList(order);
  const liveValue = getOwn(original, field);
  const patchValue = getOwn(patch, field);
  if (patchValue === null) return undefined; // the list is being deleted; the main pass does it
  const live = liveValue === undefined || liveValue === null ? undefined : liveValue;
  if (live !== undefined && !Array.isArray(live)) expectedList(live);
  if (patchValue !== undefined && !Array.isArray(patchValue)) expectedList(patchValue);
  if (live === undefined && patchValue === undefined) return undefined;

  const meta = fieldMeta(schema, field, ctx.source);
  const mergeKey = meta.strategy === 'merge' ? meta.mergeKey : '';
  validateOrder(patchValue ?? [], order, mergeKey);
  let merged: unknown[];
  if (patchValue === undefined) merged = live!;
  else merged = mergeListField(live ?? [], patchValue, meta, ctx);

  if (meta.strategy === 'merge' && merged.length > 0) {
    const kind = elementKind(merged);
    if (kind === 'object' && !mergeKey) throw smpBadRequest('cannot merge lists without merge key for type struct');
    merged = orderElements(merged, order, live ?? [], identityFor(mergeKey));
  }
  setOwn(original, field, merged);
  return field;
}

/**
 * Kubernetes' validatePatchWithSetOrderList: each order entry must name its
 * element (by merge key for maps), and the patch list's elements (deletions
 * aside) must appear in the order list, in the same relative order.
 */
function validateOrder(patchList: unknown[], order: unknown[], mergeKey: string): void {
  if (mergeKey) {
    for (const entry of order) {
      if (!isObject(entry))
        throw smpBadRequest(`expected a map[string]interface {}, but received a ${goTypeName(entry)}`);
      if (!hasOwn(entry, mergeKey)) throw noMergeKey(entry, mergeKey);
    }
  }
  if (order.length === 0 || patchList.length === 0) return;
  const pending = mergeKey ? patchList.filter((item) => !(isObject(item) && item[DIRECTIVE] === 'delete')) : patchList;
  const id = identityFor(mergeKey);
  let p = 0;
  let o = 0;
  while (p < pending.length && o < order.length) {
    const item = pending[p];
    if (isObject(item) && hasOwn(item, DIRECTIVE)) {
      p++;
      continue;
    }
    if (mergeKey && !(isObject(item) && hasOwn(item, mergeKey))) throw noMergeKey(item as JsonObject, mergeKey);
    if (id(item) === id(order[o])) p++;
    o++;
  }
  if (p < pending.length) {
    throw smpBadRequest(
      `The order in patch list:\n${shown(patchList)}\n doesn't match ${SET_ELEMENT_ORDER} list:\n${shown(order)}\n`,
    );
  }
}
