// StatusCause builders that word messages the way Kubernetes' field.Error does
// (ErrorBody: "<type>: <value>: <detail>"), so kubectl users see familiar text.
import type { StatusCause } from '../../api/types.ts';

/** JSON with sorted object keys, like Go's encoding/json for maps. */
export function goJson(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.keys(v)
            .sort()
            .map((k) => [k, v[k]]),
        )
      : v,
  );
}

/** How field.Error renders a bad value: numbers/bools plain, strings quoted, the rest as JSON. */
export function renderValue(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  return goJson(value ?? null);
}

function make(reason: string, label: string, field: string, value: { v: unknown } | undefined, detail: string) {
  let message = value ? `${label}: ${renderValue(value.v)}` : label;
  if (detail) message += `: ${detail}`;
  return { reason, message, field };
}

export const fieldError = {
  required: (field: string, detail = ''): StatusCause =>
    make('FieldValueRequired', 'Required value', field, undefined, detail),
  forbidden: (field: string, detail: string): StatusCause =>
    make('FieldValueForbidden', 'Forbidden', field, undefined, detail),
  invalid: (field: string, value: unknown, detail: string): StatusCause =>
    make('FieldValueInvalid', 'Invalid value', field, { v: value }, detail),
  typeInvalid: (field: string, value: unknown, detail: string): StatusCause =>
    make('FieldValueTypeInvalid', 'Invalid value', field, { v: value }, detail),
  notSupported: (field: string, value: unknown, supported: string[]): StatusCause =>
    make(
      'FieldValueNotSupported',
      'Unsupported value',
      field,
      { v: value },
      supported.length ? `supported values: ${supported.map((s) => JSON.stringify(s)).join(', ')}` : '',
    ),
  duplicate: (field: string, value: unknown): StatusCause =>
    make('FieldValueDuplicate', 'Duplicate value', field, { v: value }, ''),
  tooLong: (field: string, max: number): StatusCause =>
    make(
      'FieldValueTooLong',
      'Too long',
      field,
      undefined,
      `may not be more than ${max} ${max === 1 ? 'byte' : 'bytes'}`,
    ),
  tooMany: (field: string, actual: number, max: number): StatusCause =>
    make(
      'FieldValueTooMany',
      'Too many',
      field,
      actual >= 0 ? { v: actual } : undefined,
      `must have at most ${max} ${max === 1 ? 'item' : 'items'}`,
    ),
};

/** field.Path helpers: child "a.b", index "a[0]", key "a[k]". */
export const path = {
  child: (p: string, name: string) => (p ? `${p}.${name}` : name),
  index: (p: string, i: number) => `${p}[${i}]`,
  key: (p: string, k: string) => `${p}[${k}]`,
};
