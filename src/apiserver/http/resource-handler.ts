// REST verbs on resources: get, list, create, update, patch, delete,
// deletecollection, watch; status and scale subresources; others delegated.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors, isNotFound } from '../../api/errors.ts';
import type { KubeObject } from '../../api/types.ts';
import { IMMORTAL_NAMESPACES } from '../admission.ts';
import type { ResourceDef } from '../registry/types.ts';
import type { FieldValidation, RequestContext, UserInfo } from '../resources/context.ts';
import { type DeleteOptions, deleteObject } from '../resources/deletion.ts';
import { listObjects } from '../resources/list.ts';
import { decodeBody, decodeObject, mediaType, readBody } from './body.ts';
import type { ApiDeps, PatchType } from './deps.ts';
import { negotiate } from './negotiate.ts';
import { bindPod, evictPod } from './pod-subresources.ts';
import { createToken } from './token-request.ts';
import { type RequestInfo, isTrue } from './request-info.ts';
import { sendJson } from './respond.ts';
import { scaleHandler } from './scale.ts';
import { type IncludeObject, partialMetadata, toTable } from './table.ts';
import { serveWatch } from './watch-stream.ts';

const TABLE_CONTENT_TYPE = 'application/json;as=Table;v=v1;g=meta.k8s.io';
const FIELD_VALIDATIONS: FieldValidation[] = ['Strict', 'Warn', 'Ignore'];
const PATCH_TYPES: Record<string, PatchType | 'apply'> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
  'application/apply-patch+cbor': 'apply',
};

export type Call = {
  req: IncomingMessage;
  res: ServerResponse;
  info: RequestInfo;
  query: URLSearchParams;
  user: UserInfo;
  deps: ApiDeps;
};

function requestContext(call: Call): RequestContext {
  const { query, req } = call;
  const dryRun = query.getAll('dryRun');
  for (const value of dryRun) {
    if (value !== 'All') throw errors.badRequest(`dryRun: Unsupported value: "${value}": supported values: "All"`);
  }
  const validation = (query.get('fieldValidation') ?? 'Warn') as FieldValidation;
  if (!FIELD_VALIDATIONS.includes(validation)) {
    throw errors.badRequest(
      `fieldValidation: Unsupported value: "${validation}": supported values: "Ignore", "Strict", "Warn"`,
    );
  }
  const manager = query.get('fieldManager') ?? (req.headers['user-agent'] ?? 'unknown').split('/')[0];
  if (manager.length > 128) throw errors.badRequest('fieldManager: Too long: may not be more than 128 bytes');
  return { user: call.user, dryRun: dryRun.length > 0, fieldManager: manager, fieldValidation: validation, warnings: [] };
}

/** Writes one object (or list) in the representation the client asked for. */
function respondObject(call: Call, def: ResourceDef, code: number, obj: KubeObject, warnings?: string[]): void {
  const representation = negotiate(call.req.headers.accept);
  if (representation === 'table' && obj.kind !== 'Status') {
    const table = toTable(def, [obj], { resourceVersion: obj.metadata.resourceVersion }, {
      includeObject: includeObjectOf(call.query),
      now: call.deps.objects.now(),
    });
    sendJson(call.res, code, table, { contentType: TABLE_CONTENT_TYPE, warnings });
  } else if (representation === 'metadata') {
    sendJson(call.res, code, partialMetadata(obj), { warnings });
  } else {
    sendJson(call.res, code, obj, { warnings });
  }
}

function includeObjectOf(query: URLSearchParams): IncludeObject {
  const value = query.get('includeObject') ?? 'Metadata';
  if (value !== 'None' && value !== 'Metadata' && value !== 'Object') {
    throw errors.badRequest(`includeObject: Unsupported value: "${value}"`);
  }
  return value;
}

function requireNamespace(def: ResourceDef, info: RequestInfo): void {
  if (def.namespaced && !info.namespace) {
    throw errors.notFound({ group: def.group, resource: def.plural }, info.name || '');
  }
}

export async function handleResource(call: Call, def: ResourceDef, version: string): Promise<void> {
  const { info } = call;
  if (!def.namespaced && info.namespace) throw errors.notFound({ group: '', resource: 'namespaces' }, info.namespace);
  // A resource served by a handler rather than the store (metrics.k8s.io, as an aggregated API would be).
  const served = call.deps.subresources.get(`${def.group}/${def.plural}`);
  if (served && !info.subresource) return served({ req: call.req, res: call.res, info, def, query: call.query });
  if (info.subresource) return handleSubresource(call, def, version);
  switch (info.verb) {
    case 'get':
      requireNamespace(def, info);
      return respondObject(call, def, 200, await call.deps.objects.get(def, version, info.namespace, info.name));
    case 'list':
      return handleList(call, def, version);
    case 'watch':
      return serveWatch(call, def, version, TABLE_CONTENT_TYPE);
    case 'create':
      return handleCreate(call, def, version);
    case 'update':
      return handleUpdate(call, def, version, '');
    case 'patch':
      return handlePatch(call, def, version, '');
    case 'delete':
      return handleDelete(call, def, version);
    case 'deletecollection':
      return handleDeleteCollection(call, def, version);
    default:
      throw errors.methodNotAllowed();
  }
}

async function handleSubresource(call: Call, def: ResourceDef, version: string): Promise<void> {
  const { info, deps } = call;
  requireNamespace(def, info);
  const sub = info.subresource;
  if (sub === 'status' && def.subresources.status) {
    if (info.verb === 'get') return respondObject(call, def, 200, await deps.objects.get(def, version, info.namespace, info.name));
    if (info.verb === 'update') return handleUpdate(call, def, version, 'status');
    if (info.verb === 'patch') return handlePatch(call, def, version, 'status');
    throw errors.methodNotAllowed();
  }
  if (sub === 'finalize' && def.group === '' && def.kind === 'Namespace') {
    if (info.verb === 'update') return handleUpdate(call, def, version, 'finalize');
    throw errors.methodNotAllowed();
  }
  if (def.group === '' && def.kind === 'Pod' && sub === 'binding') return bindPod(call, def, version, requestContext(call));
  if (def.group === '' && def.kind === 'Pod' && sub === 'eviction') return evictPod(call, def, version, requestContext(call));
  if (def.group === '' && def.kind === 'ServiceAccount' && sub === 'token') return createToken(call, def, version, requestContext(call));
  if (sub === 'scale' && def.subresources.scale) return scaleHandler(call, def, version, requestContext);
  const handler = deps.subresources.get(`${def.group}/${def.plural}/${sub}`);
  if (handler && (def.subresources.other ?? []).includes(sub)) {
    return handler({ req: call.req, res: call.res, info, def, query: call.query });
  }
  throw errors.notFound({ group: def.group, resource: `${def.plural}/${sub}` }, info.name);
}

async function handleList(call: Call, def: ResourceDef, version: string): Promise<void> {
  const { query, deps, info } = call;
  const filter = deps.buildFilter(def, query.get('labelSelector') ?? '', query.get('fieldSelector') ?? '');
  const limitText = query.get('limit');
  const limit = limitText ? Number(limitText) : undefined;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 0)) throw errors.badRequest(`invalid limit: "${limitText}"`);
  const page = await listObjects(deps.store, def, version, info.namespace, {
    filter,
    filtered: filter !== undefined,
    limit,
    continueToken: query.get('continue') ?? undefined,
    resourceVersion: query.get('resourceVersion') ?? undefined,
    resourceVersionMatch: query.get('resourceVersionMatch') ?? undefined,
  });
  const representation = negotiate(call.req.headers.accept);
  if (representation === 'table') {
    const table = toTable(def, page.items, page.metadata, { includeObject: includeObjectOf(query), now: deps.objects.now() });
    return sendJson(call.res, 200, table, { contentType: TABLE_CONTENT_TYPE });
  }
  if (representation === 'metadata') {
    return sendJson(call.res, 200, {
      kind: 'PartialObjectMetadataList',
      apiVersion: 'meta.k8s.io/v1',
      metadata: page.metadata,
      items: page.items.map(partialMetadata),
    });
  }
  sendJson(call.res, 200, {
    apiVersion: version && def.group ? `${def.group}/${version}` : version,
    kind: def.listKind,
    metadata: page.metadata,
    items: page.items,
  });
}

async function readObjectBody(call: Call): Promise<KubeObject> {
  const type = mediaType(call.req.headers['content-type']);
  const body = decodeObject(await readBody(call.req), type === '' ? 'application/json' : type);
  return body as KubeObject;
}

async function handleCreate(call: Call, def: ResourceDef, version: string): Promise<void> {
  const { info, deps } = call;
  if (info.name) throw errors.methodNotAllowed();
  if (def.namespaced && !info.namespace) throw errors.methodNotAllowed('the server does not allow this method on the requested resource (post all namespaces)');
  const ctx = requestContext(call);
  const created = await deps.objects.create(def, version, info.namespace, await readObjectBody(call), ctx);
  respondObject(call, def, 201, created, ctx.warnings);
}

async function handleUpdate(call: Call, def: ResourceDef, version: string, subresource: string): Promise<void> {
  const { info, deps } = call;
  requireNamespace(def, info);
  const ctx = requestContext(call);
  const body = await readObjectBody(call);
  const updated = await deps.objects.update(def, version, info.namespace, info.name, body, ctx, subresource);
  respondObject(call, def, 200, updated, ctx.warnings);
}

async function handlePatch(call: Call, def: ResourceDef, version: string, subresource: string): Promise<void> {
  const { info, deps, query } = call;
  requireNamespace(def, info);
  const contentType = mediaType(call.req.headers['content-type']);
  const type = PATCH_TYPES[contentType];
  if (!type) throw errors.unsupportedMediaType(contentType);
  if (type === 'strategic' && def.custom) {
    // Custom resources have no patch strategies to merge by, so Kubernetes refuses strategic merge for them.
    throw errors.unsupportedMediaType(contentType);
  }
  const ctx = requestContext(call);
  const patch = decodeBody(await readBody(call.req), contentType === 'application/apply-patch+cbor' ? 'application/yaml' : contentType);
  const schema = deps.schemas.root(def.group, version, def.kind);
  if (type === 'apply') {
    const force = isTrue(query.get('force'));
    if (!query.get('fieldManager')) throw errors.badRequest('PATCH, application/apply-patch+yaml requires fieldManager to be set');
    const applied = patch as KubeObject;
    if (typeof applied !== 'object' || applied === null || Array.isArray(applied)) {
      throw errors.badRequest('the body of an apply patch must be an object');
    }
    const { created, obj } = await applyPatch(call, def, version, subresource, applied, force, ctx);
    return respondObject(call, def, created ? 201 : 200, obj, ctx.warnings);
  }
  const updated = await deps.objects.mutate(def, version, info.namespace, info.name, ctx, subresource, (current) => {
    const next = deps.applyPatch(type, current, patch, schema);
    deps.objects.checkFields(def, version, next, ctx);
    return next;
  });
  respondObject(call, def, 200, updated, ctx.warnings);
}

async function applyPatch(
  call: Call,
  def: ResourceDef,
  version: string,
  subresource: string,
  applied: KubeObject,
  force: boolean,
  ctx: RequestContext,
): Promise<{ created: boolean; obj: KubeObject }> {
  const { info, deps } = call;
  ctx.applying = true;
  const run = (live: KubeObject | undefined) =>
    deps.serverSideApply({ def, version, live, applied, manager: ctx.fieldManager, force, subresource, now: deps.objects.now() });
  try {
    const obj = await deps.objects.mutate(def, version, info.namespace, info.name, ctx, subresource, (current) => {
      const next = run(current);
      deps.objects.checkFields(def, version, next, ctx);
      return next;
    });
    return { created: false, obj };
  } catch (err) {
    if (!isNotFound(err) || subresource) throw err;
  }
  const fresh = run(undefined);
  fresh.metadata = { ...fresh.metadata, name: info.name };
  return { created: true, obj: await deps.objects.create(def, version, info.namespace, fresh, ctx) };
}

async function deleteOptionsOf(call: Call): Promise<DeleteOptions> {
  const { query, req } = call;
  let options: DeleteOptions = {};
  const raw = await readBody(req);
  if (raw.length > 0 && raw.toString().trim() !== '') {
    options = decodeObject(raw, req.headers['content-type'] ?? 'application/json') as DeleteOptions;
  }
  const grace = query.get('gracePeriodSeconds');
  if (grace !== null) {
    if (!/^-?\d+$/.test(grace)) throw errors.badRequest(`invalid gracePeriodSeconds: "${grace}"`);
    options.gracePeriodSeconds = Number(grace);
  }
  const policy = query.get('propagationPolicy');
  if (policy !== null) options.propagationPolicy = policy as DeleteOptions['propagationPolicy'];
  const orphan = query.get('orphanDependents');
  if (orphan !== null) options.orphanDependents = isTrue(orphan);
  return options;
}

async function handleDelete(call: Call, def: ResourceDef, version: string): Promise<void> {
  const { info, deps } = call;
  requireNamespace(def, info);
  if (def.group === '' && def.plural === 'namespaces' && IMMORTAL_NAMESPACES.includes(info.name)) {
    throw errors.forbidden(`namespaces "${info.name}" is forbidden: this namespace may not be deleted`);
  }
  const options = await deleteOptionsOf(call);
  const ctx = requestContext(call);
  const result = await deleteObject({ objects: deps.objects, def, version, namespace: info.namespace, name: info.name, options, ctx });
  respondObject(call, def, result.deleted ? 200 : 202, result.obj, ctx.warnings);
}

async function handleDeleteCollection(call: Call, def: ResourceDef, version: string): Promise<void> {
  const { query, deps, info } = call;
  const options = await deleteOptionsOf(call);
  const ctx = requestContext(call);
  const filter = deps.buildFilter(def, query.get('labelSelector') ?? '', query.get('fieldSelector') ?? '');
  const page = await listObjects(deps.store, def, version, info.namespace, { filter, filtered: filter !== undefined });
  const items: KubeObject[] = [];
  for (const obj of page.items) {
    try {
      const namespace = obj.metadata.namespace ?? '';
      const name = obj.metadata.name ?? '';
      items.push((await deleteObject({ objects: deps.objects, def, version, namespace, name, options, ctx })).obj);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
  sendJson(call.res, 200, {
    apiVersion: def.group ? `${def.group}/${version}` : version,
    kind: def.listKind,
    metadata: { resourceVersion: page.metadata.resourceVersion },
    items,
  });
}
