// The errors Kubernetes' patch handler answers with, built from the shared
// ApiError so the HTTP edge renders them like every other failure.
import { ApiError, errors } from '../../api/errors.ts';
import { goFormat } from './json-value.ts';

/**
 * Kubernetes answers a JSON patch that fails to apply (test failed, path
 * missing, bad index, ...) and a strategic merge patch with a list of lists
 * with errors.NewGenericServerResponse(422): reason Invalid, this fixed
 * message and empty details; the specific reason is not shown to the client.
 * We keep it on `cause` for logs and tests.
 */
export const GENERIC_INVALID_MESSAGE = 'the server rejected our request due to an error in our request';

export function genericInvalid(why: string): ApiError {
  const err = new ApiError(422, 'Invalid', GENERIC_INVALID_MESSAGE, {});
  err.cause = new Error(why);
  return err;
}

/** Messages of k8s.io/apimachinery/pkg/util/mergepatch, which the handler maps to 400 or 422. */
export const SMP_MESSAGES = {
  badJSONDoc: 'invalid JSON document',
  noListOfLists: 'lists of lists are not supported',
  badPrimitiveList: 'invalid patch format of primitive list',
  badRetainKeys: 'invalid patch format of retainKeys',
  badSetElementOrder: 'invalid patch format of setElementOrder list',
} as const;

/**
 * Longest rendering of a value inside an error message. Kubernetes prints whole
 * maps; a hostile patch could make that megabytes, so we cut it.
 */
const MAX_VALUE_IN_MESSAGE = 512;

export function shown(value: unknown): string {
  const text = goFormat(value);
  return text.length > MAX_VALUE_IN_MESSAGE ? `${text.slice(0, MAX_VALUE_IN_MESSAGE)}...` : text;
}

/**
 * A malformed strategic merge patch. Kubernetes answers 400 for the mergepatch
 * format errors and 500 (reason Unknown) for the rest, such as a missing merge
 * key; skiff answers 400 for all of those because they are the client's fault.
 */
export function smpBadRequest(message: string): ApiError {
  return errors.badRequest(message);
}

export function smpNoListOfLists(): ApiError {
  return genericInvalid(SMP_MESSAGES.noListOfLists);
}

export function noMergeKey(element: unknown, mergeKey: string): ApiError {
  return smpBadRequest(`map: ${shown(element)} does not contain declared merge key: ${mergeKey}`);
}
