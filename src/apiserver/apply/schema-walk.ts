// How a value at some point of an object is shaped for field management, as
// structured-merge-diff sees it: a leaf (scalar, atomic list, atomic map), a
// map (struct fields and/or free-form keys) or a granular list (keyed by
// fields, or a set of scalars). With no schema, maps are granular and lists
// atomic, like SMD's "deduced" type.
import { isObject } from '../../api/types.ts';
import type { Schema, SchemaSource } from '../schema/types.ts';

export type Shape =
  | { kind: 'leaf' }
  | {
      kind: 'map';
      /** The schema of a key's value; undefined means untyped. */
      child: (name: string) => Schema | undefined;
      /** Declared struct field (not a free-form map key). */
      named: (name: string) => boolean;
      /** The schema declares properties: a struct, not a free-form map. */
      struct: boolean;
    }
  | {
      kind: 'list';
      /** Key fields of an associative list; empty for a set of scalars. */
      keys: string[];
      item: Schema | undefined;
    };

export const LEAF: Shape = { kind: 'leaf' };

const UNTYPED_MAP: Shape = { kind: 'map', child: () => undefined, named: () => false, struct: false };

/** Thrown for an object the schema cannot place (missing list keys, duplicates). */
export class TypedError extends Error {}

export function resolveSchema(schema: Schema | undefined, source: SchemaSource | undefined): Schema | undefined {
  if (!schema) return undefined;
  let s = source ? source.resolve(schema) : schema;
  // A lone allOf wrapper is how $refs with a description are published.
  if (!s.properties && !s.type && s.allOf?.length === 1) s = source ? source.resolve(s.allOf[0]) : s.allOf[0];
  return s;
}

function isListSchema(s: Schema): boolean {
  return s.type === 'array' || s.items !== undefined;
}

function isMapSchema(s: Schema): boolean {
  return s.type === 'object' || s.properties !== undefined || s.additionalProperties !== undefined;
}

function listShape(s: Schema): Shape {
  const listType = s['x-kubernetes-list-type'];
  if (listType === 'atomic') return LEAF;
  if (listType === 'map') return { kind: 'list', keys: s['x-kubernetes-list-map-keys'] ?? [], item: s.items };
  if (listType === 'set') return { kind: 'list', keys: [], item: s.items };
  // Built-in types only carry strategic-merge-patch hints; Kubernetes turns
  // them into list types the same way.
  const mergeKey = s['x-kubernetes-patch-merge-key'];
  if (mergeKey) return { kind: 'list', keys: [mergeKey], item: s.items };
  const strategy = s['x-kubernetes-patch-strategy'] ?? '';
  if (strategy.split(',').includes('merge')) return { kind: 'list', keys: [], item: s.items };
  return LEAF;
}

function mapShape(s: Schema): Shape {
  if (s['x-kubernetes-map-type'] === 'atomic') return LEAF;
  const props = s.properties ?? {};
  const extra = isObject(s.additionalProperties) ? (s.additionalProperties as Schema) : undefined;
  return {
    kind: 'map',
    child: (name) => (Object.hasOwn(props, name) ? props[name] : extra),
    named: (name) => Object.hasOwn(props, name),
    struct: s.properties !== undefined,
  };
}

/** The shape of `value` under `schema` (value decides when the schema is silent or disagrees). */
export function shapeOf(schema: Schema | undefined, value: unknown, source: SchemaSource | undefined): Shape {
  const s = resolveSchema(schema, source);
  if (Array.isArray(value)) return s && isListSchema(s) ? listShape(s) : LEAF;
  if (!isObject(value)) return LEAF;
  if (!s || s['x-kubernetes-int-or-string']) return s ? LEAF : UNTYPED_MAP;
  if (isMapSchema(s)) return mapShape(s);
  // No structural information (e.g. preserve-unknown-fields alone): deduce.
  return s.type === undefined ? UNTYPED_MAP : LEAF;
}

/** The schema of a child reached by a path element, for walks over field sets. */
export function childSchema(
  schema: Schema | undefined,
  pe: string,
  source: SchemaSource | undefined,
): Schema | undefined {
  const s = resolveSchema(schema, source);
  if (!s) return undefined;
  if (pe.startsWith('f:')) {
    const name = pe.slice(2);
    if (s.properties && Object.hasOwn(s.properties, name)) return s.properties[name];
    return isObject(s.additionalProperties) ? (s.additionalProperties as Schema) : undefined;
  }
  return s.items;
}

/** True when `pe` names a declared struct field of `schema`. */
export function isNamedField(schema: Schema | undefined, pe: string, source: SchemaSource | undefined): boolean {
  if (!pe.startsWith('f:')) return false;
  const s = resolveSchema(schema, source);
  return !!s?.properties && Object.hasOwn(s.properties, pe.slice(2));
}

/** The default a key field takes when an item omits it (e.g. ports[].protocol "TCP"). */
export function keyDefault(item: Schema | undefined, key: string, source: SchemaSource | undefined): unknown {
  const s = resolveSchema(item, source);
  const prop = s?.properties?.[key];
  return prop ? resolveSchema(prop, source)?.default : undefined;
}
