// Pruning of unknown fields, dropping of meaningless nulls and defaulting, all
// driven by the structural part of a schema (properties, items,
// additionalProperties; never allOf/anyOf/oneOf/not), like apiextensions'
// pruning and defaulting packages.
import { isObject } from '../../api/types.ts';
import type { Schema } from '../schema/types.ts';

const META = new Set(['apiVersion', 'kind', 'metadata']);

type Ctx = { unknown: string[] };

const child = (p: string, k: string) => (p ? `${p}.${k}` : k);
const preserves = (s: Schema | undefined) => isObject(s) && s['x-kubernetes-preserve-unknown-fields'] === true;
const embedded = (s: Schema | undefined) => isObject(s) && s['x-kubernetes-embedded-resource'] === true;
/** `additionalProperties: true` (or `{}`) has no structural schema: values below it are pruned like unknowns. */
const additional = (s: Schema): Schema | undefined | false =>
  s.additionalProperties === undefined || s.additionalProperties === false
    ? false
    : isObject(s.additionalProperties)
      ? s.additionalProperties
      : undefined;

/**
 * Removes fields the schema does not declare (unless
 * x-kubernetes-preserve-unknown-fields), in place. The root keeps apiVersion,
 * kind and metadata. Returns the removed paths, sorted, e.g. ["spec.foo"].
 */
export function prune(obj: Record<string, unknown>, schema: Schema | undefined): string[] {
  const ctx: Ctx = { unknown: [] };
  const root: Schema = { ...(isObject(schema) ? schema : {}), 'x-kubernetes-embedded-resource': true };
  pruneAt(obj, root, '', ctx);
  return ctx.unknown.sort();
}

/** Prunes a value that is not a resource root (e.g. a schema's default); returns the removed paths. */
export function pruneValue(x: unknown, s: Schema | undefined): string[] {
  const ctx: Ctx = { unknown: [] };
  pruneAt(x, s, '', ctx);
  return ctx.unknown.sort();
}

function pruneAt(x: unknown, s: Schema | undefined, p: string, ctx: Ctx): void {
  if (preserves(s)) {
    skipPrune(x, s!, p, ctx);
    return;
  }
  if (Array.isArray(x)) {
    x.forEach((v, i) => {
      pruneAt(v, isObject(s) ? s.items : undefined, `${p}[${i}]`, ctx);
    });
    return;
  }
  if (!isObject(x)) return;
  for (const k of Object.keys(x)) {
    if (!isObject(s)) {
      ctx.unknown.push(child(p, k));
      delete x[k];
      continue;
    }
    if (embedded(s) && META.has(k)) continue;
    const prop = s.properties?.[k];
    const ap = additional(s);
    if (prop) pruneAt(x[k], prop, child(p, k), ctx);
    else if (ap !== false) pruneAt(x[k], ap, child(p, k), ctx);
    else {
      if (!META.has(k) || p !== '') ctx.unknown.push(child(p, k));
      delete x[k];
    }
  }
}

/** Below preserve-unknown-fields, unknown keys stay but declared ones are still pruned inside. */
function skipPrune(x: unknown, s: Schema, p: string, ctx: Ctx): void {
  if (Array.isArray(x)) {
    x.forEach((v, i) => {
      if (isObject(s.items)) skipPrune(v, s.items, `${p}[${i}]`, ctx);
    });
    return;
  }
  if (!isObject(x)) return;
  for (const k of Object.keys(x)) {
    if (embedded(s) && META.has(k)) continue;
    const prop = s.properties?.[k];
    const ap = additional(s);
    if (prop) pruneAt(x[k], prop, child(p, k), ctx);
    else if (ap !== false) pruneAt(x[k], ap, child(p, k), ctx);
  }
}

function schemaFor(k: string, s: Schema | undefined): Schema | undefined {
  if (!isObject(s)) return undefined;
  return s.properties?.[k] ?? (isObject(s.additionalProperties) ? s.additionalProperties : undefined);
}

/** Drops nulls where the schema neither allows null nor has a default (Kubernetes does this before defaulting). */
export function pruneNulls(x: unknown, s: Schema | undefined): void {
  if (Array.isArray(x)) {
    for (const v of x) pruneNulls(v, isObject(s) ? s.items : undefined);
    return;
  }
  if (!isObject(x)) return;
  for (const k of Object.keys(x)) {
    const sub = schemaFor(k, s);
    if (x[k] === null && isObject(sub) && !sub.nullable && sub.default === undefined) delete x[k];
    else pruneNulls(x[k], sub);
  }
}

const nonNullableNull = (v: unknown, s: Schema | undefined) => v === null && isObject(s) && !s.nullable;

/** Fills `default:` values in place: for missing fields and for nulls the schema does not allow. */
export function applyDefaults(x: unknown, s: Schema | undefined): void {
  if (!isObject(s)) return;
  if (Array.isArray(x)) {
    const items = s.items;
    x.forEach((v, i) => {
      if (nonNullableNull(v, items) && items?.default !== undefined) x[i] = structuredClone(items.default);
      applyDefaults(x[i], items);
    });
    return;
  }
  if (!isObject(x)) return;
  for (const [k, prop] of Object.entries(s.properties ?? {})) {
    if (!isObject(prop) || prop.default === undefined) continue;
    if (!(k in x) || nonNullableNull(x[k], prop)) x[k] = structuredClone(prop.default);
  }
  for (const k of Object.keys(x)) {
    const prop = s.properties?.[k];
    if (prop) applyDefaults(x[k], prop);
    else if (isObject(s.additionalProperties)) {
      const ap = s.additionalProperties;
      if (nonNullableNull(x[k], ap) && ap.default !== undefined) x[k] = structuredClone(ap.default);
      applyDefaults(x[k], ap);
    }
  }
}
