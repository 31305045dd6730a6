// Field errors shaped like Kubernetes' field.Error, as StatusCauses. The
// message is the error body without the field path (the path is `field`),
// so errors.invalid() can render "spec.replicas: Invalid value: -1: ...".
import type { StatusCause } from './types.ts';

/** A value printed verbatim, for Go literals such as map[string]string{"a":"b"}. */
export type GoLiteral = { goLiteral: string };
export type BadValue = string | number | boolean | GoLiteral | null | undefined;

/** Go's %q for the strings that occur in API objects. */
export function goQuote(s: string): string {
  return JSON.stringify(s).replace(/\\u00([0-9a-f]{2})/g, '\\x$1');
}

export function formatBadValue(value: BadValue): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return goQuote(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return value.goLiteral;
}

/** Go's %#v of a map[string]string (keys sorted, as fmt prints maps). */
export function goStringMap(map: Record<string, string> | undefined | null): GoLiteral {
  if (!map) return { goLiteral: 'map[string]string(nil)' };
  const body = Object.keys(map)
    .sort()
    .map((k) => `${goQuote(k)}:${goQuote(String(map[k]))}`)
    .join(', ');
  return { goLiteral: `map[string]string{${body}}` };
}

/** Go's %#v of a []string. */
export function goStringSlice(list: string[] | undefined | null): GoLiteral {
  if (!list) return { goLiteral: '[]string(nil)' };
  return { goLiteral: `[]string{${list.map(goQuote).join(', ')}}` };
}

/** Go's %#v of a metav1.LabelSelector. */
export function goLabelSelector(sel: unknown): GoLiteral {
  const s = (sel ?? {}) as { matchLabels?: Record<string, string>; matchExpressions?: LabelSelectorReqLike[] };
  const labels = s.matchLabels ? goStringMap(s.matchLabels).goLiteral : 'map[string]string(nil)';
  const exprs = s.matchExpressions
    ? `[]v1.LabelSelectorRequirement{${s.matchExpressions
        .map(
          (e) =>
            `v1.LabelSelectorRequirement{Key:${goQuote(e.key ?? '')}, Operator:${goQuote(e.operator ?? '')}, Values:${goStringSlice(e.values).goLiteral}}`,
        )
        .join(', ')}}`
    : '[]v1.LabelSelectorRequirement(nil)';
  return { goLiteral: `v1.LabelSelector{MatchLabels:${labels}, MatchExpressions:${exprs}}` };
}
type LabelSelectorReqLike = { key?: string; operator?: string; values?: string[] };

function withDetail(head: string, detail?: string): string {
  return detail ? `${head}: ${detail}` : head;
}

export const fieldErrors = {
  required: (field: string, detail?: string): StatusCause => ({
    reason: 'FieldValueRequired',
    message: withDetail('Required value', detail),
    field,
  }),
  invalid: (field: string, value: BadValue, detail?: string): StatusCause => ({
    reason: 'FieldValueInvalid',
    message: withDetail(`Invalid value: ${formatBadValue(value)}`, detail),
    field,
  }),
  notSupported: (field: string, value: BadValue, supported: readonly string[]): StatusCause => ({
    reason: 'FieldValueNotSupported',
    message: withDetail(
      `Unsupported value: ${formatBadValue(value)}`,
      supported.length ? `supported values: ${supported.map(goQuote).join(', ')}` : undefined,
    ),
    field,
  }),
  duplicate: (field: string, value: BadValue): StatusCause => ({
    reason: 'FieldValueDuplicate',
    message: `Duplicate value: ${formatBadValue(value)}`,
    field,
  }),
  forbidden: (field: string, detail?: string): StatusCause => ({
    reason: 'FieldValueForbidden',
    message: withDetail('Forbidden', detail),
    field,
  }),
  tooLong: (field: string, maxBytes: number): StatusCause => ({
    reason: 'FieldValueTooLong',
    message: `Too long: must have at most ${maxBytes} bytes`,
    field,
  }),
  tooMany: (field: string, actual: number, max: number): StatusCause => ({
    reason: 'FieldValueTooMany',
    message: `Too many: ${actual}: must have at most ${max} items`,
    field,
  }),
};

/** Path helpers in Kubernetes' field.Path spelling. */
export function child(path: string, name: string): string {
  return path ? `${path}.${name}` : name;
}
export function index(path: string, i: number): string {
  return `${path}[${i}]`;
}
export function key(path: string, k: string): string {
  return `${path}[${k}]`;
}

/** Common numeric checks with Kubernetes' wording. */
export function validateNonnegative(value: unknown, field: string): StatusCause[] {
  if (typeof value === 'number' && value < 0) return [fieldErrors.invalid(field, value, 'must be greater than or equal to 0')];
  return [];
}

export function validateImmutable(newValue: unknown, oldValue: unknown, field: string, shown: BadValue): StatusCause[] {
  return deepEqual(newValue, oldValue) ? [] : [fieldErrors.invalid(field, shown, 'field is immutable')];
}

/** Structural equality of JSON values; undefined and absent are the same. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => deepEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const keys = new Set([...Object.keys(ao), ...Object.keys(bo)]);
  for (const k of keys) if (!deepEqual(ao[k], bo[k])) return false;
  return true;
}

export function notFound(field: string, value: BadValue): StatusCause {
  return { reason: 'FieldValueNotFound', message: `Not found: ${formatBadValue(value)}`, field };
}
