// Reads the strategic-merge metadata (x-kubernetes-patch-strategy and
// x-kubernetes-patch-merge-key) of a field from OpenAPI schemas, the way
// Kubernetes reads the patchStrategy/patchMergeKey struct tags.
import type { Schema, SchemaSource } from '../schema/types.ts';

export type FieldMeta = {
  /** The field's schema, $ref already followed; undefined when unknown. */
  schema: Schema | undefined;
  /** "merge" merges lists (by mergeKey for lists of maps); "replace" replaces maps; "" is the default. */
  strategy: string;
  /** The field carries the retainKeys strategy (only clients act on it; the server obeys $retainKeys). */
  retainKeys: boolean;
  mergeKey: string;
};

const NO_META: FieldMeta = { schema: undefined, strategy: '', retainKeys: false, mergeKey: '' };

/** Follows $ref when a source is given; without one a schema is taken as it is. */
export function resolveSchema(schema: Schema | undefined, source: SchemaSource | undefined): Schema | undefined {
  if (!schema) return undefined;
  return source ? source.resolve(schema) : schema;
}

function ownProperty(schema: Schema, key: string): Schema | undefined {
  const props = schema.properties;
  if (props && Object.hasOwn(props, key)) return props[key];
  const extra = schema.additionalProperties;
  return typeof extra === 'object' ? extra : undefined;
}

/** Splits "merge,retainKeys" like Kubernetes' extractRetainKeysPatchStrategy; unknown combinations count as none. */
function parseStrategy(raw: unknown): { strategy: string; retainKeys: boolean } {
  if (typeof raw !== 'string' || raw === '') return { strategy: '', retainKeys: false };
  const parts = raw.split(',').map((s) => s.trim());
  if (parts.length === 1) {
    return parts[0] === 'retainKeys' ? { strategy: '', retainKeys: true } : { strategy: parts[0], retainKeys: false };
  }
  if (parts.length === 2 && parts.includes('retainKeys')) {
    return { strategy: parts[0] === 'retainKeys' ? parts[1] : parts[0], retainKeys: true };
  }
  return { strategy: '', retainKeys: false };
}

/** Metadata of member `key` of an object whose schema is `parent`. */
export function fieldMeta(parent: Schema | undefined, key: string, source: SchemaSource | undefined): FieldMeta {
  const resolvedParent = resolveSchema(parent, source);
  if (!resolvedParent) return NO_META;
  const declared = ownProperty(resolvedParent, key);
  if (!declared) return NO_META;
  const resolved = resolveSchema(declared, source);
  const { strategy, retainKeys } = parseStrategy(
    declared['x-kubernetes-patch-strategy'] ?? resolved?.['x-kubernetes-patch-strategy'],
  );
  const mergeKey = declared['x-kubernetes-patch-merge-key'] ?? resolved?.['x-kubernetes-patch-merge-key'];
  return { schema: resolved, strategy, retainKeys, mergeKey: typeof mergeKey === 'string' ? mergeKey : '' };
}

/** Schema of the elements of a list whose schema is `list`. */
export function itemSchema(list: Schema | undefined, source: SchemaSource | undefined): Schema | undefined {
  return resolveSchema(resolveSchema(list, source)?.items, source);
}
