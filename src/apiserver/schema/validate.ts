// Field validation against a kind's schema, as the Kubernetes decoder does it:
// fields the schema does not know (reported per fieldValidation mode: Strict
// fails the request, Warn returns warnings, Ignore drops them) and values of
// the wrong JSON type (always a 400, like Go's json.Unmarshal failing).
import { type ApiError, errors } from '../../api/errors.ts';
import type { StatusCause } from '../../api/types.ts';
import type { Schema, SchemaSource } from './types.ts';

export type FieldValidationMode = 'Strict' | 'Warn' | 'Ignore';

export type FieldCheck = {
  /** Paths of fields the schema does not know, e.g. "spec.template.spec.containers[0].imagee". */
  unknown: string[];
  /** Paths of fields given twice in the raw JSON body (only when opts.raw was passed). */
  duplicates: string[];
  /** Values of the wrong type; message is Go's json wording, field the path. */
  invalid: StatusCause[];
};

const OBJECT_META = { $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta' };
/** Go's int32 range: Kubernetes rejects larger numbers for int32 fields while decoding. */
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** JSON type names as Go's decoder words them. */
function jsonTypeOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return 'number';
  return typeof v === 'string' ? 'string' : 'object';
}

function lastSegment(ref: string | undefined): string | undefined {
  return ref ? ref.slice(ref.lastIndexOf('/') + 1) : undefined;
}

/** Whether a (non-null) JSON value has the type a resolved schema asks for. */
function typeMatches(value: unknown, s: Schema): boolean {
  switch (s.type) {
    case 'string':
      return typeof value === 'string' || (s.format === 'quantity' && typeof value === 'number');
    case 'boolean':
      return typeof value === 'boolean';
    case 'number':
      return typeof value === 'number';
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return false;
      return s.format !== 'int32' || (value >= INT32_MIN && value <= INT32_MAX);
    case 'array':
      return Array.isArray(value);
    case 'object':
      return isPlainObject(value);
    default:
      return true;
  }
}

/** A schema's Go type name, approximately: int32, string, v1.PodSpec, []v1.Container, map[string]string. */
function goTypeOf(source: SchemaSource, schema: Schema): string {
  const name = lastSegment(schema.$ref);
  const s = source.resolve(schema);
  if (s['x-kubernetes-int-or-string']) return 'intstr.IntOrString';
  if (name) {
    const parts = name.split('.');
    if (s.type === 'object' || !s.type) return parts.length > 1 ? parts.slice(-2).join('.') : name;
  }
  switch (s.type) {
    case 'integer':
      return s.format === 'int32' ? 'int32' : 'int64';
    case 'number':
      return 'float64';
    case 'boolean':
      return 'bool';
    case 'string':
      return s.format === 'quantity' ? 'resource.Quantity' : 'string';
    case 'array':
      return `[]${s.items ? goTypeOf(source, s.items) : 'interface {}'}`;
    case 'object':
      if (s.additionalProperties && typeof s.additionalProperties === 'object')
        return `map[string]${goTypeOf(source, s.additionalProperties)}`;
      return 'map[string]interface {}';
    default:
      return 'interface {}';
  }
}

/** Checks obj against root: unknown fields, duplicate fields (from opts.raw) and type mismatches. */
export function checkFields(source: SchemaSource, root: Schema, obj: unknown, opts: { raw?: string } = {}): FieldCheck {
  const out: FieldCheck = { unknown: [], duplicates: opts.raw ? duplicateFields(opts.raw) : [], invalid: [] };
  const rootName = structName(root) ?? kindOf(root) ?? 'Object';
  const mismatch = (value: unknown, schema: Schema, path: string, struct: string) => {
    const shown = typeof value === 'number' && !Number.isInteger(value) ? `number ${value}` : jsonTypeOf(value);
    // Go's decoder names the innermost struct and the field path without list indexes.
    const where = path ? `Go struct field ${struct}.${path.replace(/\[\d+\]/g, '')}` : 'Go value';
    out.invalid.push({
      reason: 'FieldValueInvalid',
      field: path,
      message: `json: cannot unmarshal ${shown} into ${where} of type ${goTypeOf(source, schema)}`,
    });
  };
  const join = (path: string, key: string) => (path ? `${path}.${key}` : key);

  const walk = (value: unknown, schema: Schema, path: string, struct: string, isRoot: boolean): void => {
    if (value === null || value === undefined) return;
    const s = source.resolve(schema);
    if (s['x-kubernetes-int-or-string']) {
      if (!(typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value))))
        mismatch(value, schema, path, struct);
      return;
    }
    if (!typeMatches(value, s)) {
      mismatch(value, schema, path, struct);
    } else if (s.type === 'array' && s.items && Array.isArray(value)) {
      for (const [i, item] of value.entries()) walk(item, s.items, `${path}[${i}]`, struct, false);
    } else if (isPlainObject(value) && (s.type === 'object' || s.properties)) {
      // Untyped schemas (JSON, RawExtension, anyOf/oneOf) only have their named properties checked.
      walkObject(value, s, path, structName(schema) ?? struct, isRoot);
    }
  };

  const walkObject = (value: Record<string, unknown>, s: Schema, path: string, struct: string, isRoot: boolean) => {
    const embedded = isRoot || s['x-kubernetes-embedded-resource'] === true;
    const extra = s.additionalProperties;
    const preserve = s['x-kubernetes-preserve-unknown-fields'] === true || extra === true;
    for (const [key, child] of Object.entries(value)) {
      const prop = s.properties?.[key];
      const childPath = join(path, key);
      if (prop) walk(child, prop, childPath, struct, false);
      else if (embedded && (key === 'apiVersion' || key === 'kind'))
        walk(child, { type: 'string' }, childPath, struct, false);
      else if (embedded && key === 'metadata') walkMetadata(child, childPath, struct);
      else if (extra && typeof extra === 'object') walk(child, extra, childPath, struct, false);
      else if (!preserve) out.unknown.push(childPath);
    }
  };

  // Metadata of roots and embedded resources is ObjectMeta even when a CRD schema leaves it out.
  const walkMetadata = (value: unknown, path: string, struct: string) => {
    const meta = source.resolve(OBJECT_META);
    if (meta !== OBJECT_META) walk(value, OBJECT_META, path, struct, false);
  };

  walk(obj, root, '', rootName, true);
  return out;
}

function structName(schema: Schema): string | undefined {
  return lastSegment(schema.$ref)?.split('.').pop();
}

function kindOf(schema: Schema): string | undefined {
  return schema['x-kubernetes-group-version-kind']?.[0]?.kind;
}

/**
 * What a request gets for a FieldCheck: type mismatches always fail (400); unknown and duplicate fields fail
 * in Strict mode, become warnings in Warn mode, and are dropped silently in Ignore mode.
 */
export function fieldValidationOutcome(
  check: FieldCheck,
  opts: { kind: string; version: string; mode: FieldValidationMode },
): { error?: ApiError; warnings: string[] } {
  const prefix = `${opts.kind} in version "${opts.version}" cannot be handled as a ${opts.kind}`;
  if (check.invalid.length > 0)
    return { error: errors.badRequest(`${prefix}: ${check.invalid[0].message}`), warnings: [] };
  const problems = [
    ...check.duplicates.map((p) => `duplicate field "${p}"`),
    ...check.unknown.map((p) => `unknown field "${p}"`),
  ];
  if (problems.length === 0 || opts.mode === 'Ignore') return { warnings: [] };
  if (opts.mode === 'Warn') return { warnings: problems };
  return { error: errors.badRequest(`${prefix}: strict decoding error: ${problems.join(', ')}`), warnings: [] };
}

/** Paths of keys that appear twice in one object of a JSON text (JSON.parse keeps only the last). */
export function duplicateFields(text: string): string[] {
  const found: string[] = [];
  let i = 0;
  const skipWs = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const readString = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string): void => {
    skipWs();
    const c = text[i];
    if (c === '{') {
      i++;
      const seen = new Set<string>();
      for (skipWs(); i < text.length && text[i] !== '}'; skipWs()) {
        if (text[i] === ',') {
          i++;
          skipWs();
        }
        if (text[i] !== '"') break;
        const key = readString();
        const child = path ? `${path}.${key}` : key;
        if (seen.has(key)) found.push(child);
        seen.add(key);
        skipWs();
        i++; // ':'
        value(child);
      }
      i++;
    } else if (c === '[') {
      i++;
      for (let n = 0; ; n++) {
        skipWs();
        if (i >= text.length || text[i] === ']') break;
        if (text[i] === ',') i++;
        value(`${path}[${n}]`);
      }
      i++;
    } else if (c === '"') {
      readString();
    } else {
      while (i < text.length && !',}] \t\n\r'.includes(text[i])) i++;
    }
  };
  try {
    value('');
  } catch {
    // Malformed JSON is reported by the parser, not here.
  }
  return found;
}
