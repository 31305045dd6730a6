// Plain-JSON helpers shared by the three patch types. Every read of an object
// member goes through `getOwn` and every write through `setOwn`, so keys such
// as "__proto__" or "constructor" are ordinary data and never reach a
// prototype.
import { errors } from '../../api/errors.ts';

export type JsonObject = { [key: string]: unknown };

/**
 * Deepest nesting a patch or a patched object may have. Kubernetes objects
 * rarely pass 30 levels; 1000 keeps every recursive walk here far below
 * Node's stack limit (about 10k frames) while allowing odd custom resources.
 */
export const MAX_NESTING_DEPTH = 1000;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function hasOwn(obj: JsonObject, key: string): boolean {
  return Object.hasOwn(obj, key);
}

export function getOwn(obj: JsonObject, key: string): unknown {
  return Object.hasOwn(obj, key) ? obj[key] : undefined;
}

export function setOwn(obj: JsonObject, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    obj[key] = value;
  }
}

/** Deep copy of a JSON value (depth must already be checked). */
export function cloneJson<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => cloneJson(v)) as T;
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const key of Object.keys(value)) setOwn(out, key, cloneJson(value[key]));
    return out as T;
  }
  return value;
}

/** Structural equality of JSON values; member order does not matter. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    return a.every((v, i) => jsonEqual(v, b[i]));
  }
  if (isObject(a)) {
    if (!isObject(b)) return false;
    const keys = Object.keys(a);
    if (keys.length !== Object.keys(b).length) return false;
    return keys.every((k) => hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/** Nesting depth of a JSON value, measured without recursion; stops early past `limit`. */
export function jsonDepth(value: unknown, limit = MAX_NESTING_DEPTH): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > max) max = depth;
    if (max > limit) return max;
    const children = Array.isArray(v) ? v : Object.values(v);
    for (const child of children) stack.push([child, depth + 1]);
  }
  return max;
}

/** Rejects documents nested deeper than MAX_NESTING_DEPTH (400, like a body the decoder refuses). */
export function assertDepth(value: unknown, what: string): void {
  if (jsonDepth(value) > MAX_NESTING_DEPTH) {
    throw errors.badRequest(`${what} exceeds the maximum nesting depth of ${MAX_NESTING_DEPTH}`);
  }
}

/** The name Go's encoding/json gives a JSON value's type in "cannot unmarshal X" messages. */
export function jsonKindName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return 'object';
  return typeof value; // string, number, boolean
}

/** Go's %v rendering of decoded JSON, used where Kubernetes' messages embed values. */
export function goFormat(value: unknown): string {
  if (value === null || value === undefined) return '<nil>';
  if (Array.isArray(value)) return `[${value.map(goFormat).join(' ')}]`;
  if (isObject(value)) {
    const keys = Object.keys(value).sort();
    return `map[${keys.map((k) => `${k}:${goFormat(value[k])}`).join(' ')}]`;
  }
  return String(value);
}
