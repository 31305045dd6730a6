// Checks a CRD's openAPIV3Schema the way the apiextensions validation does:
// the OpenAPI subset Kubernetes accepts, plus the "structural schema" rules
// (every field typed, value validations only inside allOf/anyOf/oneOf/not).
// Field paths use Kubernetes' spelling: properties[spec].properties[replicas].
import type { StatusCause } from '../../api/types.ts';
import { isObject } from '../../api/types.ts';
import type { Schema } from '../schema/types.ts';
import { fieldError as fe, goJson, path } from './field-errors.ts';
import { pruneValue } from './prune.ts';
import { extensionRules } from './schema-extensions.ts';
import { NO_FIELD, validateValue } from './schema-validate.ts';

const OPENAPI_TYPES = ['array', 'boolean', 'integer', 'number', 'object', 'string'];
const META_FIELDS = new Set(['apiVersion', 'kind', 'metadata']);
// JSON names of the fields allowed at the root when the status subresource is
// on (Kubernetes lists them by Go field name in its message).
const ROOT_FIELDS_WITH_STATUS: Record<string, string> = {
  description: 'Description',
  type: 'Type',
  format: 'Format',
  title: 'Title',
  maximum: 'Maximum',
  exclusiveMaximum: 'ExclusiveMaximum',
  minimum: 'Minimum',
  exclusiveMinimum: 'ExclusiveMinimum',
  maxLength: 'MaxLength',
  minLength: 'MinLength',
  pattern: 'Pattern',
  maxItems: 'MaxItems',
  minItems: 'MinItems',
  uniqueItems: 'UniqueItems',
  multipleOf: 'MultipleOf',
  required: 'Required',
  items: 'Items',
  properties: 'Properties',
  externalDocs: 'ExternalDocs',
  example: 'Example',
  'x-kubernetes-preserve-unknown-fields': 'XPreserveUnknownFields',
  'x-kubernetes-validations': 'XValidations',
};
const NESTED_FORBIDDEN: [keyof Schema, string][] = [
  ['type', 'must be empty to be structural'],
  ['default', 'must be undefined to be structural'],
  ['title' as keyof Schema, 'must be empty to be structural'],
  ['description', 'must be empty to be structural'],
  ['nullable', 'must be false to be structural'],
  ['x-kubernetes-preserve-unknown-fields', 'must be false to be structural'],
  ['x-kubernetes-embedded-resource', 'must be false to be structural'],
  ['x-kubernetes-int-or-string', 'must be false to be structural'],
  ['x-kubernetes-list-map-keys', 'must be empty to be structural'],
  ['x-kubernetes-list-type', 'must be undefined to be structural'],
  ['x-kubernetes-map-type', 'must be undefined to be structural'],
  ['x-kubernetes-validations', 'must be empty to be structural'],
];

const sortedKeys = (o: Record<string, unknown> | undefined) => (isObject(o) ? Object.keys(o).sort() : []);
const causeText = (c: StatusCause) => `${c.field}: ${c.message}`;

/** All problems with one openAPIV3Schema; `at` is e.g. "spec.validation.openAPIV3Schema". */
export function validateCrdSchema(schema: Schema, at: string, opts: { statusEnabled: boolean }): StatusCause[] {
  const errs: StatusCause[] = [];
  if (!isObject(schema)) return [fe.invalid(at, schema ?? null, 'must be an object')];
  if (opts.statusEnabled) {
    if (schema.type !== undefined && schema.type !== 'object') {
      errs.push(
        fe.invalid(
          `${at}.type`,
          schema.type,
          'only "object" is allowed as the type at the root of the schema if the status subresource is enabled',
        ),
      );
    } else if (
      Object.keys(schema).some((k) => !(k in ROOT_FIELDS_WITH_STATUS) && !isEmpty(schema[k as keyof Schema]))
    ) {
      const allowed = Object.values(ROOT_FIELDS_WITH_STATUS).join(' ');
      errs.push(
        fe.invalid(
          at,
          schema,
          `only [${allowed}] fields are allowed at the root of the schema if the status subresource is enabled`,
        ),
      );
    }
  }
  if (schema.nullable) errs.push(fe.forbidden(`${at}.nullable`, 'nullable cannot be true at the root'));
  const structural = [...structuralInvariants(schema, 'root', at), ...completeness(schema, at)];
  structural.sort((a, b) => (causeText(a) < causeText(b) ? -1 : causeText(a) > causeText(b) ? 1 : 0));
  errs.push(...structural);
  if (structural.length === 0) errs.push(...validateDefaults(schema, at, true));
  errs.push(...openApiRules(schema, at, { root: true, insideMeta: false, defaultsForbidden: '' }));
  return errs;
}

function isEmpty(v: unknown): boolean {
  return (
    v === undefined ||
    v === false ||
    v === '' ||
    (Array.isArray(v) && v.length === 0) ||
    (isObject(v) && Object.keys(v).length === 0)
  );
}

type Level = 'root' | 'item' | 'field';

function structuralInvariants(s: Schema, lvl: Level, at: string): StatusCause[] {
  if (!isObject(s)) return [];
  const errs: StatusCause[] = [];
  if (s.type === 'array' && s.items === undefined) errs.push(fe.required(`${at}.items`, 'must be specified'));
  if (isObject(s.items)) errs.push(...structuralInvariants(s.items, 'item', `${at}.items`));
  for (const k of sortedKeys(s.properties)) {
    errs.push(...structuralInvariants(s.properties![k], 'field', path.key(`${at}.properties`, k)));
  }
  if (s.additionalProperties !== undefined) {
    if (lvl === 'root') errs.push(fe.forbidden(`${at}.additionalProperties`, 'must not be used at the root'));
    if (isObject(s.additionalProperties)) {
      errs.push(...structuralInvariants(s.additionalProperties, 'field', `${at}.additionalProperties`));
    }
  }
  const intOrString = s['x-kubernetes-int-or-string'] === true;
  const preserve = s['x-kubernetes-preserve-unknown-fields'] === true;
  const embedded = s['x-kubernetes-embedded-resource'] === true;
  if (intOrString && preserve) {
    errs.push(
      fe.invalid(
        `${at}.x-kubernetes-preserve-unknown-fields`,
        true,
        'must be false if x-kubernetes-int-or-string is true',
      ),
    );
  }
  if (intOrString && embedded) {
    errs.push(
      fe.invalid(`${at}.x-kubernetes-embedded-resource`, true, 'must be false if x-kubernetes-int-or-string is true'),
    );
  }
  errs.push(
    ...valueValidations(s, at, {
      skipAnyOf: isIntOrStringAnyOf(s.anyOf),
      skipFirstAllOfAnyOf: isIntOrStringAnyOf(s.allOf?.[0]?.anyOf),
    }),
  );
  if (embedded && s.type !== 'object') {
    errs.push(
      s.type === undefined
        ? fe.required(`${at}.type`, 'must be object if x-kubernetes-embedded-resource is true')
        : fe.invalid(`${at}.type`, s.type, 'must be object if x-kubernetes-embedded-resource is true'),
    );
  } else if (s.type === undefined && !intOrString && !preserve) {
    const detail = {
      root: 'must not be empty at the root',
      item: 'must not be empty for specified array items',
      field: 'must not be empty for specified object fields',
    }[lvl];
    errs.push(fe.required(`${at}.type`, detail));
  }
  if (embedded && s.additionalProperties !== undefined) {
    errs.push(fe.forbidden(`${at}.additionalProperties`, 'must not be used if x-kubernetes-embedded-resource is set'));
  }
  if (lvl === 'root' && s.type !== undefined && s.type !== 'object') {
    errs.push(fe.invalid(`${at}.type`, s.type, 'must be object at the root'));
  }
  const checkMeta = lvl === 'root' || embedded;
  for (const name of ['kind', 'apiVersion'] as const) {
    const p = s.properties?.[name];
    if (checkMeta && isObject(p) && p.type !== 'string') {
      errs.push(fe.invalid(`${path.key(`${at}.properties`, name)}.type`, p.type ?? '', 'must be string'));
    }
  }
  const meta = s.properties?.metadata;
  if (isObject(meta)) {
    const metaAt = path.key(`${at}.properties`, 'metadata');
    if (checkMeta && meta.type !== 'object') errs.push(fe.invalid(`${metaAt}.type`, meta.type ?? '', 'must be object'));
    if (lvl === 'root' && !rootMetadataIsPlain(meta)) {
      errs.push(
        fe.forbidden(
          metaAt,
          'must not specify anything other than name and generateName, but metadata is implicitly specified',
        ),
      );
    }
  }
  if (embedded && !preserve && sortedKeys(s.properties).length === 0) {
    errs.push(
      fe.required(
        `${at}.properties`,
        'must not be empty if x-kubernetes-embedded-resource is true without x-kubernetes-preserve-unknown-fields',
      ),
    );
  }
  return errs;
}

/** At the root, metadata may only say type: object and constrain name/generateName. */
function rootMetadataIsPlain(meta: Schema): boolean {
  const props = sortedKeys(meta.properties);
  const onlyNames = props.every((k) => k === 'name' || k === 'generateName');
  return Object.keys(meta).every((k) => {
    if (k === 'type' || k === 'default' || k === 'description') return true;
    if (k === 'properties') return onlyNames;
    return isEmpty(meta[k as keyof Schema]);
  });
}

function isIntOrStringAnyOf(anyOf: Schema[] | undefined): boolean {
  return (
    Array.isArray(anyOf) &&
    anyOf.length === 2 &&
    goJson(anyOf[0]) === '{"type":"integer"}' &&
    goJson(anyOf[1]) === '{"type":"string"}'
  );
}

function valueValidations(
  s: Schema,
  at: string,
  o: { skipAnyOf: boolean; skipFirstAllOfAnyOf: boolean },
): StatusCause[] {
  const errs: StatusCause[] = [];
  if (!o.skipAnyOf)
    s.anyOf?.forEach((n, i) => {
      errs.push(...nested(n, `${at}.anyOf[${i}]`, false));
    });
  s.allOf?.forEach((n, i) => {
    errs.push(...nested(n, `${at}.allOf[${i}]`, o.skipFirstAllOfAnyOf && i === 0));
  });
  s.oneOf?.forEach((n, i) => {
    errs.push(...nested(n, `${at}.oneOf[${i}]`, false));
  });
  if (s.not !== undefined) errs.push(...nested(s.not, `${at}.not`, false));
  if (typeof s.pattern === 'string') {
    try {
      new RegExp(s.pattern, 'u');
    } catch (err) {
      errs.push(
        fe.invalid(
          `${at}.pattern`,
          s.pattern,
          `must be a valid regular expression, but isn't: ${(err as Error).message}`,
        ),
      );
    }
  }
  return errs;
}

function nested(v: Schema, at: string, skipAnyOf: boolean): StatusCause[] {
  if (!isObject(v)) return [];
  const errs = valueValidations(v, at, { skipAnyOf, skipFirstAllOfAnyOf: false });
  if (isObject(v.items)) errs.push(...nested(v.items, `${at}.items`, false));
  for (const k of sortedKeys(v.properties))
    errs.push(...nested(v.properties![k], path.key(`${at}.properties`, k), false));
  for (const [key, detail] of NESTED_FORBIDDEN) {
    if (!isEmpty(v[key])) errs.push(fe.forbidden(`${at}.${key}`, detail));
  }
  if (v.additionalProperties !== undefined)
    errs.push(fe.forbidden(`${at}.additionalProperties`, 'must be undefined to be structural'));
  if (v.properties?.metadata !== undefined) {
    errs.push(fe.forbidden(path.key(`${at}.properties`, 'metadata'), 'must not be specified in a nested context'));
  }
  return errs;
}

/** Properties named inside the root's allOf/anyOf/oneOf/not must also exist in the structural part. */
function completeness(s: Schema, at: string): StatusCause[] {
  const errs: StatusCause[] = [];
  const branches = (v: Schema, st: Schema, sAt: string, vAt: string) => {
    if (v.not !== undefined) nestedC(v.not, st, sAt, `${vAt}.not`);
    for (const key of ['allOf', 'anyOf', 'oneOf'] as const) {
      v[key]?.forEach((n, i) => {
        nestedC(n, st, sAt, `${vAt}.${key}[${i}]`);
      });
    }
  };
  const nestedC = (n: Schema, st: Schema | undefined, sAt: string, nAt: string) => {
    if (!isObject(n)) return;
    if (!isObject(st)) {
      errs.push(fe.required(sAt, `because it is defined in ${nAt}`));
      return;
    }
    branches(n, st, sAt, nAt);
    if (n.items !== undefined) nestedC(n.items, st.items, `${sAt}.items`, `${nAt}.items`);
    for (const k of sortedKeys(n.properties)) {
      const subAt = path.key(`${sAt}.properties`, k);
      const subN = path.key(`${nAt}.properties`, k);
      const sub = st.properties?.[k];
      if (!sub) errs.push(fe.required(subAt, `because it is defined in ${subN}`));
      else nestedC(n.properties![k], sub, subAt, subN);
    }
  };
  branches(s, s, at, at);
  return errs;
}

/**
 * Each default must be pruned and valid against the schema it sits in.
 * Kubernetes validates it as a document of its own, so messages name paths
 * relative to the default (" in body must be of type integer").
 */
function validateDefaults(s: Schema, at: string, root: boolean): StatusCause[] {
  if (!isObject(s)) return [];
  const errs: StatusCause[] = [];
  if (s.default !== undefined && !root) {
    const dAt = `${at}.default`;
    const copy = structuredClone(s.default);
    if (pruneValue(copy, s).length > 0) errs.push(fe.invalid(dAt, s.default, 'must not have unknown fields'));
    else {
      for (const c of validateValue(s.default, s, '')) {
        errs.push({ ...c, field: c.field === NO_FIELD ? dAt : `${dAt}.${c.field}` });
      }
    }
  }
  for (const k of sortedKeys(s.properties))
    errs.push(...validateDefaults(s.properties![k], path.key(`${at}.properties`, k), false));
  if (isObject(s.items)) errs.push(...validateDefaults(s.items, `${at}.items`, false));
  if (isObject(s.additionalProperties))
    errs.push(...validateDefaults(s.additionalProperties, `${at}.additionalProperties`, false));
  return errs;
}

type RuleCtx = { root: boolean; insideMeta: boolean; defaultsForbidden: string };

function openApiRules(s: Schema, at: string, ctx: RuleCtx): StatusCause[] {
  if (!isObject(s)) return [];
  const errs: StatusCause[] = [];
  const raw = s as Record<string, unknown>;
  if (s.type !== undefined && !OPENAPI_TYPES.includes(s.type)) {
    if ((s.type as string) === 'null')
      errs.push(fe.forbidden(`${at}.type`, 'type cannot be set to null, use nullable as an alternative'));
    else errs.push(fe.notSupported(`${at}.type`, s.type, OPENAPI_TYPES));
  }
  if (s.default !== undefined && ctx.defaultsForbidden) {
    errs.push(fe.forbidden(`${at}.default`, `must not be set ${ctx.defaultsForbidden}`));
  }
  for (const [key, what] of [
    ['id', 'id is not supported'],
    ['additionalItems', 'additionalItems is not supported'],
    ['patternProperties', 'patternProperties is not supported'],
    ['definitions', 'definitions is not supported'],
    ['dependencies', 'dependencies is not supported'],
    ['$ref', '$ref is not supported'],
  ]) {
    if (raw[key] !== undefined) errs.push(fe.forbidden(`${at}.${key}`, what));
  }
  if (Array.isArray(s.items)) errs.push(fe.forbidden(`${at}.items`, 'items must be a schema object and not an array'));
  if (ctx.insideMeta && s['x-kubernetes-embedded-resource']) {
    errs.push(fe.forbidden(`${at}.x-kubernetes-embedded-resource`, 'must not be used inside of resource meta'));
  }
  if (s.uniqueItems) {
    errs.push(
      fe.forbidden(
        `${at}.uniqueItems`,
        'uniqueItems cannot be set to true since the runtime complexity becomes quadratic',
      ),
    );
  }
  const sub = { root: false, insideMeta: ctx.insideMeta, defaultsForbidden: ctx.defaultsForbidden };
  if (s.additionalProperties !== undefined) {
    if (sortedKeys(s.properties).length > 0 && (s.additionalProperties === false || isObject(s.additionalProperties))) {
      errs.push(fe.forbidden(`${at}.additionalProperties`, 'additionalProperties and properties are mutual exclusive'));
    }
    if (isObject(s.additionalProperties)) {
      const apCtx = ctx.insideMeta
        ? { ...sub, defaultsForbidden: 'inside additionalProperties applying to object metadata' }
        : sub;
      errs.push(...openApiRules(s.additionalProperties, `${at}.additionalProperties`, apCtx));
    }
  }
  for (const k of sortedKeys(s.properties)) {
    let pCtx = sub;
    if ((ctx.root || s['x-kubernetes-embedded-resource']) && META_FIELDS.has(k)) {
      pCtx = { ...sub, insideMeta: true, defaultsForbidden: ctx.root ? `in top-level ${k}` : sub.defaultsForbidden };
    }
    errs.push(...openApiRules(s.properties![k], path.key(`${at}.properties`, k), pCtx));
  }
  if (s.not !== undefined) errs.push(...openApiRules(s.not, `${at}.not`, sub));
  for (const key of ['allOf', 'oneOf', 'anyOf'] as const) {
    s[key]?.forEach((n, i) => {
      errs.push(...openApiRules(n, `${at}.${key}[${i}]`, sub));
    });
  }
  if (isObject(s.items)) errs.push(...openApiRules(s.items, `${at}.items`, sub));
  errs.push(...extensionRules(s, at));
  return errs;
}
