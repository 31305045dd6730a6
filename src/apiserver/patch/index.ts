// The PATCH request's three body formats (server-side apply lives in ../apply).
// Every function here is pure: inputs are never changed, results share no
// structure with them, and failures throw ApiError as Kubernetes answers them.
import { ApiError, errors } from '../../api/errors.ts';
import type { Schema, SchemaSource } from '../schema/types.ts';
import { applyJsonPatch } from './json-patch.ts';
import { goFormat, isObject, jsonKindName } from './json-value.ts';
import { applyMergePatch } from './merge-patch.ts';
import { strategicMergePatch } from './strategic-merge.ts';

export { applyJsonPatch, MAX_JSON_PATCH_COPY_BYTES, MAX_JSON_PATCH_OPERATIONS } from './json-patch.ts';
export { MAX_NESTING_DEPTH } from './json-value.ts';
export { applyMergePatch, mergePatch } from './merge-patch.ts';
export { GENERIC_INVALID_MESSAGE } from './patch-errors.ts';
export { strategicMergePatch } from './strategic-merge.ts';

export type PatchKind = 'json' | 'merge' | 'strategic';

/** The Content-Type of each patch kind, as kubectl and client-go send them. */
export const PATCH_CONTENT_TYPES: Readonly<Record<PatchKind, string>> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

/** The patch kind a Content-Type names (parameters such as charset ignored), or undefined. */
export function patchTypeOf(contentType: string): PatchKind | undefined {
  const media = contentType.split(';')[0].trim().toLowerCase();
  for (const kind of Object.keys(PATCH_CONTENT_TYPES) as PatchKind[]) {
    if (PATCH_CONTENT_TYPES[kind] === media) return kind;
  }
  return undefined;
}

/** Kubernetes' 415 for a PATCH whose Content-Type is not one the resource accepts. */
export function unsupportedPatchMediaType(accepted: readonly string[]): ApiError {
  return new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
  );
}

export type ApplyPatchOptions = {
  /** The kind's root schema; strategic merge patch reads its patch strategies and merge keys. */
  schema?: Schema;
  /** Resolves $ref inside `schema`. */
  source?: SchemaSource;
};

/**
 * Longest rendering of the patched document in the 422 for a non-object
 * result; Kubernetes prints all of it, which can be the whole object.
 */
const MAX_RESULT_IN_MESSAGE = 256;

/**
 * Applies a patch body (already parsed JSON) of the given kind to a copy of
 * `original` (a Kubernetes object) and returns the patched object.
 */
export function applyPatch(
  kind: PatchKind,
  original: unknown,
  patchBody: unknown,
  opts: ApplyPatchOptions = {},
): unknown {
  let result: unknown;
  switch (kind) {
    case 'json':
      result = applyJsonPatch(original, patchBody);
      break;
    case 'merge':
      result = applyMergePatch(original, patchBody);
      break;
    case 'strategic':
      result = strategicMergePatch(original, patchBody, opts.schema, opts.source);
      break;
    default:
      throw errors.internal(`unimplemented patch type: ${String(kind)}`);
  }
  if (!isObject(result)) {
    // Kubernetes fails to decode the patched document into the kind and answers 422 on field "patch".
    let shownResult = JSON.stringify(result) ?? goFormat(result);
    if (shownResult.length > MAX_RESULT_IN_MESSAGE) shownResult = `${shownResult.slice(0, MAX_RESULT_IN_MESSAGE)}...`;
    throw errors.invalid('', '', '', [
      {
        reason: 'FieldValueInvalid',
        field: 'patch',
        message: `Invalid value: ${JSON.stringify(shownResult)}: json: cannot unmarshal ${jsonKindName(result)} into Go value of type map[string]interface {}`,
      },
    ]);
  }
  return result;
}
