// The swagger 2.0 document as gnostic's `openapi.v2.Document` protobuf
// message: what kubectl asks /openapi/v2 for. Mirrors kube-openapi, which
// parses the JSON with gnostic and marshals the result: maps become ordered
// (name, value) pairs, `$ref` becomes `_ref`, `x-*` keys become NamedAny with
// the value as YAML text, proto3 zero values are left out, and keys gnostic
// does not know are dropped. Field numbers are those of gnostic's
// openapiv2/OpenAPIv2.proto.
import YAML from 'yaml';
import { ProtoWriter } from './proto-writer.ts';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * YAML for Any values. kubectl reads it with go-yaml v2 (YAML 1.1), so strings such as "on" or "yes" must be
 * quoted as 1.1 requires; no line folding, so long descriptions stay one scalar.
 */
const YAML_OPTIONS = { version: '1.1', lineWidth: 0 } as const;

type Encoder = {
  w: ProtoWriter;
  /** Writes an `Any { yaml = 2 }` message as field `num`. */
  any(num: number, value: unknown): void;
  /** Writes the inside of an Any (for NamedAny values). */
  anyBody(value: unknown): void;
  /** Writes every `x-*` key of `o` as a repeated NamedAny field. */
  extensions(num: number, o: Obj): void;
  /** Writes a `Named*` pair { name = 1; value = 2 }. */
  named(num: number, name: string, value: () => void): void;
};

/** Encodes a swagger 2.0 document (as produced by buildOpenApiV2) as gnostic's openapi.v2.Document. */
export function encodeOpenApiV2Protobuf(doc: Obj): Buffer {
  const w = new ProtoWriter();
  // The same few extension values (actions, GVKs, list types) repeat thousands of times.
  const yamlOf = new Map<string, string>();
  const e: Encoder = {
    w,
    any(num, value) {
      w.message(num, () => e.anyBody(value));
    },
    anyBody(value) {
      const key = JSON.stringify(value) ?? 'null';
      let text = yamlOf.get(key);
      if (text === undefined) {
        text = YAML.stringify(value ?? null, YAML_OPTIONS);
        yamlOf.set(key, text);
      }
      w.string(2, text);
    },
    extensions(num, o) {
      for (const [name, value] of Object.entries(o))
        if (name.startsWith('x-')) e.named(num, name, () => e.anyBody(value));
    },
    named(num, name, value) {
      w.message(num, () => {
        w.stringIf(1, name);
        w.message(2, value);
      });
    },
  };
  document(e, doc);
  return w.finish();
}

function document(e: Encoder, d: Obj): void {
  const { w } = e;
  w.stringIf(1, d.swagger);
  if (isObj(d.info)) w.message(2, () => info(e, d.info as Obj));
  w.stringIf(3, d.host).stringIf(4, d.basePath).strings(5, d.schemes).strings(6, d.consumes).strings(7, d.produces);
  if (isObj(d.paths)) w.message(8, () => paths(e, d.paths as Obj));
  if (isObj(d.definitions)) w.message(9, () => namedSchemas(e, d.definitions as Obj));
  if (isObj(d.parameters))
    w.message(10, () => {
      for (const [name, p] of Object.entries(d.parameters as Obj))
        if (isObj(p)) e.named(1, name, () => parameter(e, p));
    });
  if (isObj(d.responses))
    w.message(11, () => {
      for (const [name, r] of Object.entries(d.responses as Obj)) if (isObj(r)) e.named(1, name, () => response(e, r));
    });
  for (const s of list(d.security)) if (isObj(s)) w.message(12, () => securityRequirement(e, s));
  if (isObj(d.securityDefinitions))
    w.message(13, () => {
      for (const [name, s] of Object.entries(d.securityDefinitions as Obj))
        if (isObj(s)) e.named(1, name, () => securityScheme(e, s));
    });
  for (const t of list(d.tags)) if (isObj(t)) w.message(14, () => tag(e, t));
  externalDocs(e, 15, d.externalDocs);
  e.extensions(16, d);
}

function info(e: Encoder, i: Obj): void {
  const { w } = e;
  w.stringIf(1, i.title).stringIf(2, i.version).stringIf(3, i.description).stringIf(4, i.termsOfService);
  const contact = i.contact;
  if (isObj(contact))
    w.message(5, () => {
      w.stringIf(1, contact.name).stringIf(2, contact.url).stringIf(3, contact.email);
      e.extensions(4, contact);
    });
  const license = i.license;
  if (isObj(license))
    w.message(6, () => {
      w.stringIf(1, license.name).stringIf(2, license.url);
      e.extensions(3, license);
    });
  e.extensions(7, i);
}

function paths(e: Encoder, p: Obj): void {
  e.extensions(1, p);
  for (const [name, item] of Object.entries(p))
    if (name.startsWith('/') && isObj(item)) e.named(2, name, () => pathItem(e, item));
}

/** PathItem's operations, by field number. */
const OPERATION_FIELDS = [
  ['get', 2],
  ['put', 3],
  ['post', 4],
  ['delete', 5],
  ['options', 6],
  ['head', 7],
  ['patch', 8],
] as const;

function pathItem(e: Encoder, item: Obj): void {
  e.w.stringIf(1, item.$ref);
  for (const [method, num] of OPERATION_FIELDS) {
    const op = item[method];
    if (isObj(op)) e.w.message(num, () => operation(e, op));
  }
  for (const p of list(item.parameters)) if (isObj(p)) e.w.message(9, () => parametersItem(e, p));
  e.extensions(10, item);
}

function operation(e: Encoder, op: Obj): void {
  const { w } = e;
  w.strings(1, op.tags).stringIf(2, op.summary).stringIf(3, op.description);
  externalDocs(e, 4, op.externalDocs);
  w.stringIf(5, op.operationId).strings(6, op.produces).strings(7, op.consumes);
  for (const p of list(op.parameters)) if (isObj(p)) w.message(8, () => parametersItem(e, p));
  const responses = op.responses;
  if (isObj(responses))
    w.message(9, () => {
      for (const [code, r] of Object.entries(responses))
        if (!code.startsWith('x-') && isObj(r)) e.named(1, code, () => responseValue(e, r));
      e.extensions(2, responses);
    });
  w.strings(10, op.schemes).boolIf(11, op.deprecated);
  for (const s of list(op.security)) if (isObj(s)) w.message(12, () => securityRequirement(e, s));
  e.extensions(13, op);
}

/** ParametersItem: a JsonReference (2) or a Parameter (1). */
function parametersItem(e: Encoder, p: Obj): void {
  if (typeof p.$ref === 'string') e.w.message(2, () => jsonReference(e, p));
  else e.w.message(1, () => parameter(e, p));
}

function jsonReference(e: Encoder, r: Obj): void {
  e.w.stringIf(1, r.$ref).stringIf(2, r.description);
}

/** Non-body parameters: which NonBodyParameter field carries each `in`, and where its type fields start. */
const NON_BODY = {
  header: { field: 1, simpleBase: 5, allowEmpty: false, extensions: 22 },
  formData: { field: 2, simpleBase: 6, allowEmpty: true, extensions: 23 },
  query: { field: 3, simpleBase: 6, allowEmpty: true, extensions: 23 },
  path: { field: 4, simpleBase: 5, allowEmpty: false, extensions: 22 },
} as const;

/** Parameter: BodyParameter (1) or NonBodyParameter (2), as gnostic picks by `in`. */
function parameter(e: Encoder, p: Obj): void {
  const { w } = e;
  if (p.in === 'body') {
    w.message(1, () => {
      w.stringIf(1, p.description).stringIf(2, p.name).stringIf(3, p.in).boolIf(4, p.required);
      if (isObj(p.schema)) w.message(5, () => schema(e, p.schema as Obj));
      e.extensions(6, p);
    });
    return;
  }
  const layout = NON_BODY[p.in as keyof typeof NON_BODY];
  if (!layout) return;
  w.message(2, () =>
    w.message(layout.field, () => {
      w.boolIf(1, p.required).stringIf(2, p.in).stringIf(3, p.description).stringIf(4, p.name);
      if (layout.allowEmpty) w.boolIf(5, p.allowEmptyValue);
      simpleSchema(e, p, layout.simpleBase);
      e.extensions(layout.extensions, p);
    }),
  );
}

/**
 * The type and validation fields that parameters, headers and PrimitivesItems share, numbered consecutively
 * from `base` in the same order in every message.
 */
function simpleSchema(e: Encoder, o: Obj, base: number): void {
  const { w } = e;
  w.stringIf(base, o.type).stringIf(base + 1, o.format);
  if (isObj(o.items)) w.message(base + 2, () => primitivesItems(e, o.items as Obj));
  w.stringIf(base + 3, o.collectionFormat);
  if ('default' in o) e.any(base + 4, o.default);
  w.doubleIf(base + 5, o.maximum).boolIf(base + 6, o.exclusiveMaximum);
  w.doubleIf(base + 7, o.minimum).boolIf(base + 8, o.exclusiveMinimum);
  w.int64If(base + 9, o.maxLength)
    .int64If(base + 10, o.minLength)
    .stringIf(base + 11, o.pattern);
  w.int64If(base + 12, o.maxItems)
    .int64If(base + 13, o.minItems)
    .boolIf(base + 14, o.uniqueItems);
  for (const v of list(o.enum)) e.any(base + 15, v);
  w.doubleIf(base + 16, o.multipleOf);
}

function primitivesItems(e: Encoder, o: Obj): void {
  simpleSchema(e, o, 1);
  e.extensions(18, o);
}

/** ResponseValue: a JsonReference (2) or a Response (1). */
function responseValue(e: Encoder, r: Obj): void {
  if (typeof r.$ref === 'string') e.w.message(2, () => jsonReference(e, r));
  else e.w.message(1, () => response(e, r));
}

function response(e: Encoder, r: Obj): void {
  const { w } = e;
  w.stringIf(1, r.description);
  const s = r.schema;
  // SchemaItem: FileSchema (2) for `type: file`, else Schema (1).
  if (isObj(s) && s.type === 'file') w.message(2, () => w.message(2, () => fileSchema(e, s)));
  else if (isObj(s)) w.message(2, () => w.message(1, () => schema(e, s)));
  const headers = r.headers;
  if (isObj(headers))
    w.message(3, () => {
      for (const [name, h] of Object.entries(headers))
        if (isObj(h))
          e.named(1, name, () => {
            simpleSchema(e, h, 1);
            w.stringIf(18, h.description);
            e.extensions(19, h);
          });
    });
  const examples = r.examples;
  if (isObj(examples))
    w.message(4, () => {
      for (const [k, v] of Object.entries(examples)) e.named(1, k, () => e.anyBody(v));
    });
  e.extensions(5, r);
}

function fileSchema(e: Encoder, s: Obj): void {
  const { w } = e;
  w.stringIf(1, s.format).stringIf(2, s.title).stringIf(3, s.description);
  if ('default' in s) e.any(4, s.default);
  w.strings(5, s.required).stringIf(6, s.type).boolIf(7, s.readOnly);
  externalDocs(e, 8, s.externalDocs);
  if ('example' in s) e.any(9, s.example);
  e.extensions(10, s);
}

function namedSchemas(e: Encoder, schemas: Obj): void {
  for (const [name, s] of Object.entries(schemas)) if (isObj(s)) e.named(1, name, () => schema(e, s));
}

function schema(e: Encoder, s: Obj): void {
  const { w } = e;
  w.stringIf(1, s.$ref).stringIf(2, s.format).stringIf(3, s.title).stringIf(4, s.description);
  if ('default' in s) e.any(5, s.default);
  w.doubleIf(6, s.multipleOf).doubleIf(7, s.maximum).boolIf(8, s.exclusiveMaximum);
  w.doubleIf(9, s.minimum).boolIf(10, s.exclusiveMinimum);
  w.int64If(11, s.maxLength).int64If(12, s.minLength).stringIf(13, s.pattern);
  w.int64If(14, s.maxItems).int64If(15, s.minItems).boolIf(16, s.uniqueItems);
  w.int64If(17, s.maxProperties).int64If(18, s.minProperties).strings(19, s.required);
  for (const v of list(s.enum)) e.any(20, v);
  const additional = s.additionalProperties;
  // A oneof member is written even when false: `additionalProperties: false` must survive.
  if (typeof additional === 'boolean') w.message(21, () => w.bool(2, additional));
  else if (isObj(additional)) w.message(21, () => w.message(1, () => schema(e, additional)));
  const type = typeof s.type === 'string' ? [s.type] : s.type;
  if (Array.isArray(type)) w.message(22, () => w.strings(1, type));
  const items = s.items;
  if (isObj(items)) w.message(23, () => w.message(1, () => schema(e, items)));
  else if (Array.isArray(items))
    w.message(23, () => {
      for (const i of items) if (isObj(i)) w.message(1, () => schema(e, i));
    });
  for (const a of list(s.allOf)) if (isObj(a)) w.message(24, () => schema(e, a));
  if (isObj(s.properties)) w.message(25, () => namedSchemas(e, s.properties as Obj));
  w.stringIf(26, s.discriminator).boolIf(27, s.readOnly);
  const xml = s.xml;
  if (isObj(xml))
    w.message(28, () => {
      w.stringIf(1, xml.name).stringIf(2, xml.namespace).stringIf(3, xml.prefix);
      w.boolIf(4, xml.attribute).boolIf(5, xml.wrapped);
      e.extensions(6, xml);
    });
  externalDocs(e, 29, s.externalDocs);
  if ('example' in s) e.any(30, s.example);
  e.extensions(31, s);
}

function externalDocs(e: Encoder, num: number, d: unknown): void {
  if (!isObj(d)) return;
  e.w.message(num, () => {
    e.w.stringIf(1, d.description).stringIf(2, d.url);
    e.extensions(3, d);
  });
}

function tag(e: Encoder, t: Obj): void {
  e.w.stringIf(1, t.name).stringIf(2, t.description);
  externalDocs(e, 3, t.externalDocs);
  e.extensions(4, t);
}

/** SecurityRequirement: { name: [scopes] } as NamedStringArray pairs. */
function securityRequirement(e: Encoder, s: Obj): void {
  for (const [name, scopes] of Object.entries(s)) e.named(1, name, () => e.w.strings(1, scopes));
}

/** SecurityDefinitionsItem's oneof, by type (and flow, for oauth2). */
const OAUTH2_FIELDS = { implicit: 3, password: 4, application: 5, accessCode: 6 } as const;

function securityScheme(e: Encoder, s: Obj): void {
  const { w } = e;
  if (s.type === 'basic') {
    w.message(1, () => {
      w.stringIf(1, s.type).stringIf(2, s.description);
      e.extensions(3, s);
    });
  } else if (s.type === 'apiKey') {
    w.message(2, () => {
      w.stringIf(1, s.type).stringIf(2, s.name).stringIf(3, s.in).stringIf(4, s.description);
      e.extensions(5, s);
    });
  } else if (s.type === 'oauth2' && typeof s.flow === 'string' && s.flow in OAUTH2_FIELDS) {
    const flow = s.flow as keyof typeof OAUTH2_FIELDS;
    w.message(OAUTH2_FIELDS[flow], () => {
      w.stringIf(1, s.type).stringIf(2, s.flow);
      const scopes = s.scopes;
      if (isObj(scopes))
        w.message(3, () => {
          // NamedString: the value is a plain string, not a message.
          for (const [name, text] of Object.entries(scopes)) w.message(1, () => w.stringIf(1, name).stringIf(2, text));
        });
      // The remaining fields differ by flow: URLs first, then description, then extensions.
      const urls =
        flow === 'implicit'
          ? [s.authorizationUrl]
          : flow === 'accessCode'
            ? [s.authorizationUrl, s.tokenUrl]
            : [s.tokenUrl];
      for (const [i, u] of urls.entries()) w.stringIf(4 + i, u);
      w.stringIf(4 + urls.length, s.description);
      e.extensions(5 + urls.length, s);
    });
  }
}
