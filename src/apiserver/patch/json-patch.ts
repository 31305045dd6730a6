// RFC 6902 JSON patch, with the leniencies of the library Kubernetes uses
// (gopkg.in/evanphx/json-patch.v4), because clients are written against them:
//  - "replace" of a missing object member adds it;
//  - negative array indices count from the end (-1 is the last element; for
//    "add", -1 appends);
//  - a member whose value is null reads as missing, so "test" with value null
//    (or no value) passes for a missing member;
//  - an operation without "value" carries null.
// One deliberate difference: "copy" from a missing member fails (the library
// would silently write null).
import { errors } from '../../api/errors.ts';
import { genericInvalid } from './patch-errors.ts';
import {
  assertDepth,
  cloneJson,
  getOwn,
  hasOwn,
  isObject,
  type JsonObject,
  jsonEqual,
  jsonKindName,
  setOwn,
} from './json-value.ts';

/** Kubernetes' maxJSONPatchOperations: more operations than this answer 413. */
export const MAX_JSON_PATCH_OPERATIONS = 10000;

/**
 * Kubernetes' default JSONPatchMaxCopyBytes (3 MiB): the total size "copy"
 * operations may add, so a few copies cannot blow an object up exponentially.
 */
export const MAX_JSON_PATCH_COPY_BYTES = 3 * 1024 * 1024;

type Container = JsonObject | unknown[];
type Location = { container: Container; key: string };

class PatchFailure extends Error {}

function fail(message: string): never {
  throw new PatchFailure(message);
}

/** Checks the body's shape the way Go decodes it into []map[string]RawMessage (400 on mismatch). */
export function decodeJsonPatch(body: unknown): (JsonObject | null)[] {
  if (body === null) return [];
  if (!Array.isArray(body)) {
    throw errors.badRequest(`json: cannot unmarshal ${jsonKindName(body)} into Go value of type jsonpatch.Patch`);
  }
  for (const op of body) {
    if (op !== null && !isObject(op)) {
      throw errors.badRequest(`json: cannot unmarshal ${jsonKindName(op)} into Go value of type jsonpatch.Operation`);
    }
  }
  if (body.length > MAX_JSON_PATCH_OPERATIONS) {
    throw errors.tooLarge(
      `The allowed maximum operations in a JSON patch is ${MAX_JSON_PATCH_OPERATIONS}, got ${body.length}`,
    );
  }
  return body as (JsonObject | null)[];
}

/**
 * Applies an RFC 6902 patch to a copy of `original`. Malformed bodies answer
 * 400 (413 past MAX_JSON_PATCH_OPERATIONS); an operation that cannot apply
 * answers Kubernetes' generic 422 Invalid, with the reason on `cause`.
 */
export function applyJsonPatch(original: unknown, body: unknown): unknown {
  const ops = decodeJsonPatch(body);
  assertDepth(body, 'the patch');
  assertDepth(original, 'the object');
  let doc = cloneJson(original);
  const copied = { bytes: 0 };
  try {
    for (const op of ops) doc = applyOperation(doc, op ?? {}, copied);
  } catch (err) {
    if (err instanceof PatchFailure) throw genericInvalid(err.message);
    throw err;
  }
  return doc;
}

function applyOperation(doc: unknown, op: JsonObject, copied: { bytes: number }): unknown {
  const kind = typeof op.op === 'string' ? op.op : 'unknown';
  switch (kind) {
    case 'add':
      addAt(doc, pathOf(op, 'path', kind), opValue(op));
      return doc;
    case 'remove':
      removeAt(doc, pathOf(op, 'path', kind));
      return doc;
    case 'replace':
      return replaceAt(doc, pathOf(op, 'path', kind), opValue(op));
    case 'move': {
      const from = pathOf(op, 'from', kind);
      const value = readAt(doc, from, kind);
      removeAt(doc, from);
      addAt(doc, pathOf(op, 'path', kind), value);
      return doc;
    }
    case 'copy': {
      const from = pathOf(op, 'from', kind);
      const value = readAt(doc, from, kind);
      if (value === undefined) fail(`copy operation does not apply: doc is missing from path: ${from}`);
      copied.bytes += JSON.stringify(value).length;
      if (copied.bytes > MAX_JSON_PATCH_COPY_BYTES) {
        fail(
          `Unable to complete the copy, the accumulated size increase of copy is ${copied.bytes}, exceeding the limit ${MAX_JSON_PATCH_COPY_BYTES}`,
        );
      }
      addAt(doc, pathOf(op, 'path', kind), cloneJson(value));
      return doc;
    }
    case 'test':
      testAt(doc, pathOf(op, 'path', kind), op);
      return doc;
    default:
      fail(`Unexpected kind: ${kind}`);
  }
}

function pathOf(op: JsonObject, field: 'path' | 'from', kind: string): string {
  const value = getOwn(op, field);
  if (typeof value !== 'string') fail(`${kind} operation failed to decode ${field}: missing value`);
  return value;
}

function opValue(op: JsonObject): unknown {
  return cloneJson(getOwn(op, 'value') ?? null);
}

function unescapeToken(token: string): string {
  return token.replaceAll('~1', '/').replaceAll('~0', '~');
}

/** strconv.Atoi's grammar: optional sign, decimal digits. */
function parseIndex(key: string): number | undefined {
  if (!/^[+-]?\d+$/.test(key)) return undefined;
  const n = Number(key);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** An existing element's index, with negative indices counted from the end. */
function existingIndex(arr: unknown[], key: string): number | undefined {
  const idx = parseIndex(key);
  if (idx === undefined || idx >= arr.length || idx < -arr.length) return undefined;
  return idx < 0 ? idx + arr.length : idx;
}

/** The container holding the last token of `path`, or undefined when any step is missing. */
function locate(doc: unknown, path: string): Location | undefined {
  const tokens = path.split('/');
  if (tokens.length < 2 || (!isObject(doc) && !Array.isArray(doc))) return undefined;
  let current: Container = doc;
  for (const raw of tokens.slice(1, -1)) {
    const key = unescapeToken(raw);
    let next: unknown;
    if (Array.isArray(current)) {
      const idx = existingIndex(current, key);
      next = idx === undefined ? undefined : current[idx];
    } else {
      next = getOwn(current, key);
    }
    if (!isObject(next) && !Array.isArray(next)) return undefined;
    current = next;
  }
  return { container: current, key: unescapeToken(tokens[tokens.length - 1]) };
}

function readAt(doc: unknown, path: string, kind: string): unknown {
  const loc = locate(doc, path);
  if (!loc) fail(`${kind} operation does not apply: doc is missing from path: ${path}`);
  if (Array.isArray(loc.container)) {
    const idx = existingIndex(loc.container, loc.key);
    if (idx === undefined) fail(`error in ${kind} for path: '${loc.key}': Unable to access invalid index: ${loc.key}`);
    return loc.container[idx];
  }
  return getOwn(loc.container, loc.key);
}

function addAt(doc: unknown, path: string, value: unknown): void {
  const loc = locate(doc, path);
  if (!loc) fail(`add operation does not apply: doc is missing path: "${path}"`);
  const { container, key } = loc;
  if (!Array.isArray(container)) {
    setOwn(container, key, value);
    return;
  }
  if (key === '-') {
    container.push(value);
    return;
  }
  let idx = parseIndex(key);
  if (idx === undefined) fail(`error in add for path: '${path}': value was not a proper array index: '${key}'`);
  const size = container.length + 1;
  if (idx >= size || idx < -size) fail(`error in add for path: '${path}': Unable to access invalid index: ${idx}`);
  if (idx < 0) idx += size;
  container.splice(idx, 0, value);
}

function removeAt(doc: unknown, path: string): void {
  const loc = locate(doc, path);
  if (!loc) fail(`remove operation does not apply: doc is missing path: "${path}"`);
  const { container, key } = loc;
  if (Array.isArray(container)) {
    const idx = existingIndex(container, key);
    if (idx === undefined) fail(`error in remove for path: '${path}': Unable to access invalid index: ${key}`);
    container.splice(idx, 1);
    return;
  }
  if (!hasOwn(container, key)) fail(`error in remove for path: '${path}': Unable to remove nonexistent key: ${key}`);
  delete container[key];
}

function replaceAt(doc: unknown, path: string, value: unknown): unknown {
  if (path === '') {
    if (!isObject(value) && !Array.isArray(value)) fail('replace operation value must be object or array');
    return value;
  }
  const loc = locate(doc, path);
  if (!loc) fail(`replace operation does not apply: doc is missing path: ${path}`);
  const { container, key } = loc;
  if (Array.isArray(container)) {
    const idx = existingIndex(container, key);
    if (idx === undefined) fail(`replace operation does not apply: doc is missing key: ${path}`);
    container[idx] = value;
  } else {
    setOwn(container, key, value);
  }
  return doc;
}

function testAt(doc: unknown, path: string, op: JsonObject): void {
  const expected = getOwn(op, 'value') ?? null;
  if (path === '') {
    if (!jsonEqual(doc, expected)) fail(`testing value ${path} failed: test failed`);
    return;
  }
  const loc = locate(doc, path);
  if (!loc) fail(`test operation does not apply: is missing path: ${path}`);
  let actual: unknown;
  if (Array.isArray(loc.container)) {
    const idx = existingIndex(loc.container, loc.key);
    if (idx === undefined) fail(`error in test for path: '${path}': Unable to access invalid index: ${loc.key}`);
    actual = loc.container[idx];
  } else {
    actual = getOwn(loc.container, loc.key);
  }
  if (!jsonEqual(actual ?? null, expected)) fail(`testing value ${path} failed: test failed`);
}
