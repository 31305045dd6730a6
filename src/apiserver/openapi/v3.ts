// OpenAPI v3, as kubectl 1.32 reads it: a root index at /openapi/v3 naming one
// document per group/version, each with paths (operations carrying
// x-kubernetes-group-version-kind, PATCH advertising fieldValidation and, for
// built-ins, strategic merge patch) and components.schemas.
import { createHash } from 'node:crypto';
import type { ResourceDef } from '../registry/types.ts';
import type { MutableSchemaSource } from '../schema/index.ts';
import type { Schema } from '../schema/types.ts';
import { groupVersionPath, type Operation, QUERY_PARAMS, resourcePaths } from './operations.ts';
import { collectSchemas, namesKey } from './schemas.ts';

export type OpenApiDocument = {
  /** JSON-serialisable document. */
  doc: Record<string, unknown>;
  /** Its serialisation, from which etag was computed. */
  json: string;
  /** Content hash: the `hash` query parameter of serverRelativeURL and the ETag. */
  etag: string;
};

/** Reported in info.version; kubectl does not read it. */
const INFO = { title: 'Kubernetes', version: 'v1.32.0' };
const JSON_TYPES = ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf'];
const PATCH_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml'];
const SMP = 'application/strategic-merge-patch+json';

/**
 * v3 publishes IntOrString and Quantity as oneOf their JSON types, without a type of their own (as Kubernetes'
 * OpenAPIV3OneOfTypes does); kubectl explain then names them <IntOrString> and <Quantity> instead of <string>.
 */
const V3_ONE_OF: Record<string, Schema[]> = {
  'io.k8s.apimachinery.pkg.util.intstr.IntOrString': [{ type: 'integer' }, { type: 'string' }],
  'io.k8s.apimachinery.pkg.api.resource.Quantity': [{ type: 'string' }, { type: 'number' }],
};

export function documentOf(doc: Record<string, unknown>): OpenApiDocument {
  const json = JSON.stringify(doc);
  return { doc, json, etag: createHash('sha512').update(json).digest('hex').toUpperCase() };
}

/**
 * Rewrites v2 refs to components refs. A $ref with sibling keys (description, x-kubernetes-patch-*) becomes
 * allOf:[{$ref}] plus the siblings, as Kubernetes publishes v3.
 */
export function toV3Schema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toV3Schema);
  if (!schema || typeof schema !== 'object') return schema;
  const out: Record<string, unknown> = {};
  let ref: string | undefined;
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$ref' && typeof value === 'string') ref = value.replace('#/definitions/', '#/components/schemas/');
    else out[key] = key === 'enum' || key === 'default' || key === 'example' ? value : toV3Schema(value);
  }
  if (ref === undefined) return out;
  return Object.keys(out).length === 0 ? { $ref: ref } : { allOf: [{ $ref: ref }], ...out };
}

const schemaRef = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function parameter(name: string, where: 'path' | 'query') {
  if (where === 'path')
    return {
      name,
      in: 'path',
      required: true,
      description: `${name} of the resource`,
      schema: { type: 'string', uniqueItems: true },
    };
  const p = QUERY_PARAMS[name];
  return { name, in: 'query', description: p.description, schema: { type: p.type, uniqueItems: true } };
}

function operation(op: Operation, strategicMerge: boolean): Record<string, unknown> {
  const content = (types: string[], name: string) =>
    Object.fromEntries(types.map((t) => [t, { schema: schemaRef(name) }]));
  const responses: Record<string, unknown> = {
    '200': { description: 'OK', content: content(JSON_TYPES, op.response) },
  };
  for (const code of op.also ?? [])
    responses[String(code)] = {
      description: code === 201 ? 'Created' : 'Accepted',
      content: content(JSON_TYPES, op.response),
    };
  responses['401'] = { description: 'Unauthorized' };
  const out: Record<string, unknown> = {
    tags: [op.gvk.group ? `${op.gvk.group}_${op.gvk.version}` : `core_${op.gvk.version}`],
    description: op.description,
    operationId: op.operationId,
    parameters: op.query.map((q) => parameter(q, 'query')),
    responses,
    'x-kubernetes-action': op.action,
    'x-kubernetes-group-version-kind': op.gvk,
  };
  if (op.body) {
    const types =
      op.method === 'patch'
        ? strategicMerge
          ? [...PATCH_TYPES.slice(0, 2), SMP, PATCH_TYPES[2]]
          : PATCH_TYPES
        : JSON_TYPES.slice(0, 2);
    out.requestBody = { content: content(types, op.body), required: op.method !== 'delete' };
  }
  return out;
}

/** The v3 document of one group/version: every given resource that serves this version. */
export function buildOpenApiV3GroupVersion(
  group: string,
  version: string,
  resources: ResourceDef[],
  source: MutableSchemaSource,
): OpenApiDocument {
  const served = resources.filter((r) => r.group === group && r.versions.includes(version));
  const { definitions, names } = collectSchemas(
    source,
    served.map((def) => ({ def, version })),
  );
  const paths: Record<string, unknown> = {};
  for (const def of served) {
    const n = names.get(namesKey(def, version))!;
    for (const item of resourcePaths(def, version, n)) {
      const pathItem: Record<string, unknown> = {
        parameters: [...item.pathParams.map((p) => parameter(p, 'path')), parameter('pretty', 'query')],
      };
      // The scale subresource serves autoscaling/v1 Scale, a built-in: strategic merge applies there too.
      for (const op of item.operations)
        pathItem[op.method] = operation(op, n.strategicMerge || op.gvk.kind === 'Scale');
      paths[item.path] = pathItem;
    }
  }
  const schemas: Record<string, unknown> = {};
  for (const name of Object.keys(definitions).sort()) {
    const v3 = toV3Schema(definitions[name]) as Schema;
    if (V3_ONE_OF[name]) {
      delete v3.type;
      delete v3.format;
      v3.oneOf = V3_ONE_OF[name];
    }
    schemas[name] = v3;
  }
  return documentOf({
    openapi: '3.0.0',
    info: INFO,
    paths,
    components: {
      schemas,
      securitySchemes: {
        BearerToken: {
          type: 'apiKey',
          description: 'Bearer Token authentication',
          name: 'authorization',
          in: 'header',
        },
      },
    },
    security: [{ BearerToken: [] }],
  });
}

export type OpenApiV3Set = {
  /** The /openapi/v3 root index. */
  index: OpenApiDocument;
  /** Documents by path after /openapi/v3/, e.g. "api/v1", "apis/apps/v1". */
  groupVersions: Map<string, OpenApiDocument>;
};

/** Every group/version document plus the root index pointing at them by content hash. */
export function buildOpenApiV3(resources: ResourceDef[], source: MutableSchemaSource): OpenApiV3Set {
  const groupVersions = new Map<string, OpenApiDocument>();
  const seen = new Set<string>();
  for (const r of resources) {
    for (const v of r.versions) {
      const key = groupVersionPath(r.group, v);
      if (seen.has(key)) continue;
      seen.add(key);
      groupVersions.set(key, buildOpenApiV3GroupVersion(r.group, v, resources, source));
    }
  }
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const key of [...groupVersions.keys()].sort())
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${groupVersions.get(key)!.etag}` };
  return { index: documentOf({ paths }), groupVersions };
}
