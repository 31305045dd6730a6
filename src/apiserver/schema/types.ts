// OpenAPI schemas as Kubernetes publishes them (swagger "definitions" style,
// with the x-kubernetes-* extensions that drive strategic merge patch,
// server-side apply, validation and `kubectl explain`). CRDs' openAPIV3Schema
// uses the same shape, inline instead of $ref.

export type Schema = {
  $ref?: string;
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  format?: string;
  description?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  default?: unknown;
  nullable?: boolean;
  allOf?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  not?: Schema;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  uniqueItems?: boolean;
  'x-kubernetes-group-version-kind'?: { group: string; version: string; kind: string }[];
  'x-kubernetes-patch-merge-key'?: string;
  /** "merge", "retainKeys", or "merge,retainKeys". */
  'x-kubernetes-patch-strategy'?: string;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  [extension: `x-${string}`]: unknown;
};

/** Looks schemas up by name and follows $ref. */
export interface SchemaSource {
  /** The schema of a kind's root object, if known. */
  root(group: string, version: string, kind: string): Schema | undefined;
  /** Follows $ref (and a single-element allOf wrapper) to the schema it names; otherwise returns schema. */
  resolve(schema: Schema): Schema;
}
