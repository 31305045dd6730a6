// Validates a custom object against its version's openAPIV3Schema with the
// semantics and wording of kube-openapi's validator as the apiextensions
// server reports it (field causes like `spec.replicas: Invalid value:
// "string": spec.replicas in body must be of type integer: "string"`).
// x-kubernetes-validations (CEL) rules are not evaluated.
import type { KubeObject, StatusCause } from '../../api/types.ts';
import { isObject } from '../../api/types.ts';
import type { Schema } from '../schema/types.ts';
import { fieldError as fe, goJson } from './field-errors.ts';
import { formatChecker } from './formats.ts';
import { validateListTypesAndEmbedded } from './list-type.ts';

export { applyDefaults, prune, pruneNulls } from './prune.ts';

const IN = 'body';
const INT32 = { min: -2147483648, max: 2147483647 };
// Kubernetes reports errors that carry no field (anyOf/oneOf/allOf/not and
// range-conversion failures) against a nil field path, which prints so.
export const NO_FIELD = '<nil>';

type Errs = StatusCause[];

const field = (p: string) => p.replace(/^\./, '') || NO_FIELD;
const typeName = (s: Schema) => (s['x-kubernetes-int-or-string'] ? ['integer', 'string'] : s.type ? [s.type] : []);

function kindOf(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  if (typeof v === 'object') return 'object';
  return typeof v; // string, boolean
}

/** Go's %v for a float64 (strconv 'g' with shortest precision). */
export function goFloat(n: number): string {
  if (n === 0 || !Number.isFinite(n)) return String(n);
  const [mant, exp] = n.toExponential().split('e');
  const e = Number(exp);
  if (e < -4 || e >= 21) return `${mant}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  return String(n);
}

function typeError(p: string, expected: string, actual: string): StatusCause {
  return fe.typeInvalid(field(p), actual, `${p} in ${IN} must be of type ${expected}: ${JSON.stringify(actual)}`);
}

/** Problems with `value` at object path `p` (e.g. "spec.replicas"; "" for the root). */
export function validateValue(value: unknown, s: Schema, p: string): Errs {
  if (!isObject(s)) return [];
  const errs: Errs = [];
  const types = typeName(s);
  if (value === null || value === undefined) {
    if (types.length > 0 && !s.nullable) errs.push(typeError(p, types.join(','), 'null'));
    if (Array.isArray(s.enum) && s.enum.length > 0) errs.push(enumError(p, null, s.enum));
    return errs;
  }
  const kind = kindOf(value);
  const format = effectiveFormat(s, types);
  errs.push(...checkType(value, kind, types, format, p));
  errs.push(...combinators(value, s, p));
  if (typeof value === 'string') {
    errs.push(...checkString(value, s, p));
    const check = format ? formatChecker(format) : undefined;
    if (check && !check(value)) {
      errs.push(fe.typeInvalid(field(p), value, `${p} in ${IN} must be of type ${format}: ${JSON.stringify(value)}`));
    }
  }
  if (typeof value === 'number') errs.push(...checkNumber(value, s, types, format, p));
  if (Array.isArray(value)) errs.push(...checkArray(value, s, p));
  if (Array.isArray(s.enum) && s.enum.length > 0 && !s.enum.some((e) => sameJson(e, value))) {
    errs.push(enumError(p, value, s.enum));
  }
  if (isObject(value)) errs.push(...checkObject(value, s, p));
  return errs;
}

/** Formats Kubernetes keeps for a type; everything else it strips before validating. */
function effectiveFormat(s: Schema, types: string[]): string | undefined {
  const f = s.format;
  if (!f) return undefined;
  const t = types.length === 1 ? types[0] : '';
  if (t === '' || t === 'string') return formatChecker(f) ? f : undefined;
  if (t === 'integer') return f === 'int32' || f === 'int64' ? f : undefined;
  if (t === 'number') return f === 'float' || f === 'double' ? f : undefined;
  return undefined;
}

function checkType(value: unknown, kind: string, types: string[], format: string | undefined, p: string): Errs {
  if (types.length === 0) return [];
  const numeric = types.includes('number') || types.includes('integer');
  if (format && !numeric && (kind === 'string' || kind === 'array')) return [];
  const intFloat = kind === 'integer' && types.includes('number');
  if (types.includes(kind) || intFloat) return [];
  if (format && kind !== 'string' && kind !== 'array') {
    const dataFormat = kind === 'integer' ? 'int64' : kind === 'number' ? 'float64' : '';
    if (dataFormat !== format) return [typeError(p, format, dataFormat)];
  }
  void value;
  return [typeError(p, types.join(','), kind)];
}

function enumError(p: string, value: unknown, values: unknown[]): StatusCause {
  const shown = values.map((v) => (typeof v === 'string' ? v : goJson(v)));
  return fe.notSupported(field(p), value, shown);
}

function sameJson(a: unknown, b: unknown): boolean {
  return goJson(a) === goJson(b);
}

function checkString(value: string, s: Schema, p: string): Errs {
  const len = [...value].length;
  if (typeof s.maxLength === 'number' && len > s.maxLength) return [fe.tooLong(field(p), s.maxLength)];
  if (typeof s.minLength === 'number' && len < s.minLength) {
    return [fe.invalid(field(p), value, `${p} in ${IN} should be at least ${s.minLength} chars long`)];
  }
  if (typeof s.pattern === 'string') {
    let re: RegExp | undefined;
    try {
      re = new RegExp(s.pattern, 'u');
    } catch (err) {
      return [
        fe.invalid(
          field(p),
          value,
          `${p} in ${IN} should match '${s.pattern}, but pattern is invalid: ${(err as Error).message}'`,
        ),
      ];
    }
    if (!re.test(value)) return [fe.invalid(field(p), value, `${p} in ${IN} should match '${s.pattern}'`)];
  }
  return [];
}

function checkNumber(value: number, s: Schema, types: string[], format: string | undefined, p: string): Errs {
  const errs: Errs = [];
  const isInt = Number.isInteger(value);
  const show = (n: number) => (isInt && Number.isInteger(n) ? String(n) : goFloat(n));
  if (types.length === 1 && types[0] === 'integer' && format === 'int32' && (value < INT32.min || value > INT32.max)) {
    errs.push(
      fe.invalid(NO_FIELD, '', `strconv.ParseInt: parsing ${JSON.stringify(String(value))}: value out of range`),
    );
  }
  const multipleOf = (s as { multipleOf?: number }).multipleOf;
  if (typeof multipleOf === 'number' && multipleOf > 0 && !Number.isInteger(value / multipleOf)) {
    errs.push(fe.invalid(field(p), value, `${p} in ${IN} should be a multiple of ${show(multipleOf)}`));
  }
  if (typeof s.minimum === 'number') {
    const bad = s.exclusiveMinimum ? value <= s.minimum : value < s.minimum;
    const word = s.exclusiveMinimum ? 'greater than' : 'greater than or equal to';
    if (bad) errs.push(fe.invalid(field(p), value, `${p} in ${IN} should be ${word} ${show(s.minimum)}`));
  }
  if (typeof s.maximum === 'number') {
    const bad = s.exclusiveMaximum ? value >= s.maximum : value > s.maximum;
    const word = s.exclusiveMaximum ? 'less than' : 'less than or equal to';
    if (bad) errs.push(fe.invalid(field(p), value, `${p} in ${IN} should be ${word} ${show(s.maximum)}`));
  }
  return errs;
}

function checkArray(value: unknown[], s: Schema, p: string): Errs {
  const errs: Errs = [];
  if (isObject(s.items))
    value.forEach((v, i) => {
      errs.push(...validateValue(v, s.items!, `${p}[${i}]`));
    });
  if (typeof s.minItems === 'number' && value.length < s.minItems) {
    errs.push(fe.invalid(field(p), value.length, `${p} in ${IN} should have at least ${s.minItems} items`));
  }
  if (typeof s.maxItems === 'number' && value.length > s.maxItems)
    errs.push(fe.tooMany(field(p), value.length, s.maxItems));
  if (s.uniqueItems && new Set(value.map(goJson)).size !== value.length) {
    errs.push(fe.invalid(field(p), '', `${p} in ${IN} shouldn't contain duplicates`));
  }
  return errs;
}

function checkObject(value: Record<string, unknown>, s: Schema, p: string): Errs {
  const errs: Errs = [];
  const n = Object.keys(value).length;
  if (typeof s.minProperties === 'number' && n < s.minProperties) {
    errs.push(fe.invalid(field(p), n, `${p} in ${IN} should have at least ${s.minProperties} properties`));
  }
  if (typeof s.maxProperties === 'number' && n > s.maxProperties) errs.push(fe.tooMany(field(p), n, s.maxProperties));
  const props = isObject(s.properties) ? s.properties : {};
  if (s.additionalProperties === false) {
    for (const k of Object.keys(value).sort()) {
      if (!(k in props)) errs.push(fe.invalid(field(p), k, `${p}.${k} in ${IN} is a forbidden property`));
    }
  } else if (isObject(s.additionalProperties)) {
    for (const k of Object.keys(value).sort()) {
      if (!(k in props)) errs.push(...validateValue(value[k], s.additionalProperties, `${p}.${k}`));
    }
  }
  for (const k of Object.keys(props).sort()) {
    if (k in value) errs.push(...validateValue(value[k], props[k], p ? `${p}.${k}` : k));
  }
  for (const k of Array.isArray(s.required) ? s.required : []) {
    if (!(k in value)) errs.push(fe.required(field(`${p}.${k}`)));
  }
  return errs;
}

function combinators(value: unknown, s: Schema, p: string): Errs {
  const errs: Errs = [];
  const quoted = JSON.stringify(p);
  const composite = (message: string) => fe.invalid(NO_FIELD, '', message);
  if (Array.isArray(s.anyOf) && s.anyOf.length > 0) {
    const results = s.anyOf.map((b) => validateValue(value, b, p));
    if (!results.some((r) => r.length === 0)) {
      errs.push(composite(`${quoted} must validate at least one schema (anyOf)`));
      errs.push(...closest(results));
    }
  }
  if (Array.isArray(s.oneOf) && s.oneOf.length > 0) {
    const results = s.oneOf.map((b) => validateValue(value, b, p));
    const valid = results.filter((r) => r.length === 0).length;
    if (valid !== 1) {
      const more = valid === 0 ? 'Found none valid' : `Found ${valid} valid alternatives`;
      errs.push(composite(`${quoted} must validate one and only one schema (oneOf). ${more}`));
      if (valid === 0) errs.push(...closest(results));
    }
  }
  if (Array.isArray(s.allOf) && s.allOf.length > 0) {
    const results = s.allOf.map((b) => validateValue(value, b, p));
    for (const r of results) errs.push(...r);
    const valid = results.filter((r) => r.length === 0).length;
    if (valid !== results.length) {
      errs.push(composite(`${quoted} must validate all the schemas (allOf)${valid === 0 ? '. None validated' : ''}`));
    }
  }
  if (isObject(s.not) && validateValue(value, s.not, p).length === 0) {
    errs.push(composite(`${quoted} must not validate the schema (not)`));
  }
  return errs;
}

/** The failing branch nearest to passing (fewest errors), whose errors explain the failure. */
function closest(results: Errs[]): Errs {
  return results.reduce((best, r) => (r.length < best.length ? r : best));
}

const ROOT_META = new Set(['apiVersion', 'kind', 'metadata']);

/**
 * All schema problems with a custom object. apiVersion, kind and metadata at
 * the root are left to the server's generic type and ObjectMeta checks.
 */
export function validateObject(obj: KubeObject | Record<string, unknown>, schema: Schema | undefined): StatusCause[] {
  if (!isObject(schema)) return [];
  const root: Schema = { ...schema };
  if (isObject(schema.properties)) {
    root.properties = Object.fromEntries(Object.entries(schema.properties).filter(([k]) => !ROOT_META.has(k)));
  }
  if (Array.isArray(schema.required)) root.required = schema.required.filter((k) => !ROOT_META.has(k));
  const body = Object.fromEntries(Object.entries(obj).filter(([k]) => !ROOT_META.has(k)));
  return [...validateValue(body, root, ''), ...validateListTypesAndEmbedded(obj, schema)];
}
