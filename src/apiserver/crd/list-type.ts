// Checks that walk the structural schema beside the object: uniqueness in
// x-kubernetes-list-type set/map lists ("Duplicate value") and the
// apiVersion/kind of nested x-kubernetes-embedded-resource objects.
import type { StatusCause } from '../../api/types.ts';
import { isObject } from '../../api/types.ts';
import type { Schema } from '../schema/types.ts';
import { isDNS1035Label as isDns1035Label } from '../../api/names.ts';
import { fieldError as fe, goJson, path } from './field-errors.ts';

/** Problems found below the root (the root's own apiVersion/kind are the server's). */
export function validateListTypesAndEmbedded(obj: unknown, schema: Schema): StatusCause[] {
  const errs: StatusCause[] = [];
  walk(obj, schema, '', errs, true);
  return errs;
}

function walk(x: unknown, s: Schema | undefined, p: string, errs: StatusCause[], root: boolean): void {
  if (!isObject(s)) return;
  if (Array.isArray(x)) {
    if (s['x-kubernetes-list-type'] === 'set') setDuplicates(x, p, errs);
    if (s['x-kubernetes-list-type'] === 'map') mapDuplicates(x, s['x-kubernetes-list-map-keys'] ?? [], p, errs);
    x.forEach((v, i) => {
      walk(v, s.items, path.index(p, i), errs, false);
    });
    return;
  }
  if (!isObject(x)) return;
  if (s['x-kubernetes-embedded-resource'] && !root) embedded(x, p, errs);
  for (const k of Object.keys(x).sort()) {
    if (root && (k === 'apiVersion' || k === 'kind' || k === 'metadata')) continue;
    const prop = s.properties?.[k];
    if (prop) walk(x[k], prop, path.child(p, k), errs, false);
    else if (isObject(s.additionalProperties)) walk(x[k], s.additionalProperties, path.key(p, k), errs, false);
  }
}

/** Reports the second occurrence of each repeated value, as Kubernetes does. */
function repeats(keys: string[]): number[] {
  const count = new Map<string, number>();
  const out: number[] = [];
  keys.forEach((k, i) => {
    const n = (count.get(k) ?? 0) + 1;
    count.set(k, n);
    if (n === 2) out.push(i);
  });
  return out;
}

function setDuplicates(list: unknown[], p: string, errs: StatusCause[]): void {
  for (const i of repeats(list.map((v) => goJson(v)))) errs.push(fe.duplicate(path.index(p, i), list[i]));
}

function mapDuplicates(list: unknown[], keys: string[], p: string, errs: StatusCause[]): void {
  for (const [i, x] of list.entries()) {
    if (x !== null && !isObject(x)) {
      errs.push(fe.invalid(path.index(p, i), x, 'must be an object for an array of list-type map'));
      return;
    }
  }
  if (list.length <= 1) return;
  const keyOf = (x: unknown) => {
    const key: Record<string, unknown> = {};
    for (const k of keys) if (isObject(x) && k in x) key[k] = x[k];
    return key;
  };
  const listKeys = list.map(keyOf);
  for (const i of repeats(listKeys.map((k) => goJson(k)))) errs.push(fe.duplicate(path.index(p, i), listKeys[i]));
}

function embedded(x: Record<string, unknown>, p: string, errs: StatusCause[]): void {
  if (!('apiVersion' in x)) errs.push(fe.required(path.child(p, 'apiVersion')));
  if (!('kind' in x)) errs.push(fe.required(path.child(p, 'kind')));
  const { apiVersion, kind } = x;
  if ('apiVersion' in x) {
    if (typeof apiVersion !== 'string')
      errs.push(fe.invalid(path.child(p, 'apiVersion'), apiVersion, 'must be a string'));
    else if (apiVersion === '') errs.push(fe.invalid(path.child(p, 'apiVersion'), apiVersion, 'must not be empty'));
    else if (apiVersion.split('/').length > 2) {
      errs.push(fe.invalid(path.child(p, 'apiVersion'), apiVersion, `unexpected GroupVersion string: ${apiVersion}`));
    }
  }
  if ('kind' in x) {
    if (typeof kind !== 'string') errs.push(fe.invalid(path.child(p, 'kind'), kind, 'must be a string'));
    else if (kind === '') errs.push(fe.invalid(path.child(p, 'kind'), kind, 'must not be empty'));
    else {
      const bad = isDns1035Label(kind.toLowerCase());
      if (bad.length)
        errs.push(
          fe.invalid(path.child(p, 'kind'), kind, `may have mixed case, but should otherwise match: ${bad.join(',')}`),
        );
    }
  }
}
