// OpenAPI v2 (swagger 2.0) at /openapi/v2, as JSON; v2-protobuf.ts encodes
// the same document as the protobuf kubectl asks for (see negotiateOpenApiV2).
import type { ResourceDef } from '../registry/types.ts';
import type { MutableSchemaSource } from '../schema/index.ts';
import { type Operation, QUERY_PARAMS, resourcePaths } from './operations.ts';
import { collectSchemas, namesKey } from './schemas.ts';
import { documentOf, type OpenApiDocument } from './v3.ts';

const JSON_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];
const SMP = 'application/strategic-merge-patch+json';
/** The media type kubectl asks /openapi/v2 for: gnostic's openapi.v2.Document protobuf. */
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
/**
 * The Content-Type to answer it with (also accepted in Accept). '@' is not allowed in a media type, so kubectl's
 * mime.ParseMediaType rejects the name it asks for; Kubernetes answers with this dotted spelling.
 */
export const OPENAPI_V2_PROTOBUF_RESPONSE = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';

const ref = (name: string) => ({ $ref: `#/definitions/${name}` });

function parameter(name: string, where: 'path' | 'query') {
  if (where === 'path')
    return {
      name,
      in: 'path',
      required: true,
      type: 'string',
      uniqueItems: true,
      description: `${name} of the resource`,
    };
  const p = QUERY_PARAMS[name];
  return { name, in: 'query', type: p.type, uniqueItems: true, description: p.description };
}

function operation(op: Operation, strategicMerge: boolean): Record<string, unknown> {
  const responses: Record<string, unknown> = { '200': { description: 'OK', schema: ref(op.response) } };
  for (const code of op.also ?? [])
    responses[String(code)] = { description: code === 201 ? 'Created' : 'Accepted', schema: ref(op.response) };
  responses['401'] = { description: 'Unauthorized' };
  const parameters: unknown[] = [];
  if (op.body) parameters.push({ name: 'body', in: 'body', required: op.method !== 'delete', schema: ref(op.body) });
  parameters.push(...op.query.map((q) => parameter(q, 'query')));
  const consumes =
    op.method === 'patch'
      ? strategicMerge
        ? [...PATCH_TYPES.slice(0, 2), SMP, PATCH_TYPES[2]]
        : PATCH_TYPES
      : ['*/*'];
  return {
    tags: [op.gvk.group ? `${op.gvk.group}_${op.gvk.version}` : `core_${op.gvk.version}`],
    description: op.description,
    operationId: op.operationId,
    consumes,
    produces: JSON_TYPES,
    schemes: ['https'],
    parameters,
    responses,
    'x-kubernetes-action': op.action,
    'x-kubernetes-group-version-kind': op.gvk,
  };
}

/** The whole API in one swagger 2.0 document (every resource, every served version). */
export function buildOpenApiV2(resources: ResourceDef[], source: MutableSchemaSource): OpenApiDocument {
  const entries = resources.flatMap((def) => def.versions.map((version) => ({ def, version })));
  const { definitions, names } = collectSchemas(source, entries);
  const paths: Record<string, unknown> = {};
  for (const { def, version } of entries) {
    const n = names.get(namesKey(def, version))!;
    for (const item of resourcePaths(def, version, n)) {
      const pathItem: Record<string, unknown> = {
        parameters: [...item.pathParams.map((p) => parameter(p, 'path')), parameter('pretty', 'query')],
      };
      for (const op of item.operations)
        pathItem[op.method] = operation(op, n.strategicMerge || op.gvk.kind === 'Scale');
      paths[item.path] = pathItem;
    }
  }
  const sorted: Record<string, unknown> = {};
  for (const name of Object.keys(definitions).sort()) sorted[name] = definitions[name];
  return documentOf({
    swagger: '2.0',
    info: { title: 'Kubernetes', version: 'v1.32.0' },
    paths,
    definitions: sorted,
    securityDefinitions: {
      BearerToken: { type: 'apiKey', description: 'Bearer Token authentication', name: 'authorization', in: 'header' },
    },
    security: [{ BearerToken: [] }],
  });
}

/**
 * What to answer an /openapi/v2 request with, by its Accept header: the first listed type skiff can produce
 * (JSON for application/json or a wildcard, gnostic protobuf for either protobuf spelling); JSON without an Accept;
 * 'not-acceptable' (406) otherwise. kubectl asks for protobuf only.
 */
export function negotiateOpenApiV2(accept: string | undefined): 'json' | 'protobuf' | 'not-acceptable' {
  if (!accept) return 'json';
  for (const range of accept.split(',')) {
    const [type, ...params] = range.split(';').map((t) => t.trim().toLowerCase());
    // q=0 means "not this one".
    if (params.some((p) => /^q=0(\.0*)?$/.test(p))) continue;
    if (type === OPENAPI_V2_PROTOBUF || type === OPENAPI_V2_PROTOBUF_RESPONSE) return 'protobuf';
    if (type === 'application/json' || type === '*/*' || type === 'application/*') return 'json';
  }
  return 'not-acceptable';
}
