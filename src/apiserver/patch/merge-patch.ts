// RFC 7386 JSON merge patch: objects merge member by member, null deletes,
// everything else (arrays included) replaces. Like the library Kubernetes
// uses (evanphx/json-patch.v4), nulls inside a value that is inserted whole
// are dropped too (members and array elements), so no null ever lands in the
// stored object.
import { errors } from '../../api/errors.ts';
import { assertDepth, cloneJson, getOwn, isObject, type JsonObject, setOwn } from './json-value.ts';

/** evanphx/json-patch's ErrBadJSONPatch text, which Kubernetes answers with 400. */
export const BAD_MERGE_PATCH_MESSAGE = 'Invalid JSON Patch';

/** RFC 7386 MergePatch(target, patch) on copies; neither input is changed. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return withoutNulls(patch);
  const result: JsonObject = isObject(target) ? cloneJson(target) : {};
  mergeInto(result, patch);
  return result;
}

function mergeInto(target: JsonObject, patch: JsonObject): void {
  for (const key of Object.keys(patch)) {
    const value = patch[key];
    if (value === null) {
      delete target[key];
      continue;
    }
    const current = getOwn(target, key);
    if (isObject(value) && isObject(current)) {
      mergeInto(current, value);
    } else {
      setOwn(target, key, withoutNulls(value));
    }
  }
}

/** A copy of `value` with null members and null array elements removed, at every level. */
export function withoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.filter((v) => v !== null).map(withoutNulls);
  if (isObject(value)) {
    const out: JsonObject = {};
    for (const key of Object.keys(value)) {
      if (value[key] !== null) setOwn(out, key, withoutNulls(value[key]));
    }
    return out;
  }
  return value;
}

/**
 * The merge patch as Kubernetes' PATCH handler applies it: the body must be a
 * JSON object or array (400 "Invalid JSON Patch" otherwise, null included);
 * an array body replaces the whole document.
 */
export function applyMergePatch(original: unknown, body: unknown): unknown {
  if (!isObject(body) && !Array.isArray(body)) throw errors.badRequest(BAD_MERGE_PATCH_MESSAGE);
  assertDepth(body, 'the patch');
  assertDepth(original, 'the object');
  return mergePatch(original, body);
}
