// The API server's HTTP entry: authentication, non-resource endpoints
// (version, health, discovery, OpenAPI) and dispatch to resource handlers.
// Every error becomes a Kubernetes Status here and nowhere else.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errors } from '../../api/errors.ts';
import type { UserInfo } from '../resources/context.ts';
import type { ApiDeps } from './deps.ts';
import {
  aggregatedDiscovery,
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  wantsAggregated,
} from './discovery.ts';
import { negotiateOpenApiV2, OPENAPI_V2_PROTOBUF, OPENAPI_V2_PROTOBUF_RESPONSE } from '../openapi/index.ts';
import { parseRequestInfo } from './request-info.ts';
import { handleResource } from './resource-handler.ts';
import { sendError, sendJson, sendText } from './respond.ts';

/** The Kubernetes version whose API skiff serves. kubectl's dispatcher picks its binary by the minor. */
export const KUBERNETES_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-skiff' };

export function versionInfo(): object {
  return {
    ...KUBERNETES_VERSION,
    gitCommit: 'skiff',
    gitTreeState: 'clean',
    buildDate: '2026-11-27T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'node',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

/** Paths anyone may read, as Kubernetes' system:public-info-viewer allows. */
const PUBLIC_PATHS = new Set(['/version', '/healthz', '/livez', '/readyz']);

export function createRequestHandler(deps: ApiDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    handle(deps, req, res).catch((err) => {
      if (!(err instanceof Error && 'code' in err && typeof err.code === 'number')) {
        deps.log.error('request failed', { method: req.method, url: req.url, err });
      }
      if (!res.headersSent) sendError(res, err);
      else res.destroy();
    });
  };
}

async function handle(deps: ApiDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://skiff');
  const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
  if (PUBLIC_PATHS.has(path)) return handlePublic(deps, path, res);
  const user = deps.authenticate(req);
  if (!user) throw errors.unauthorized();
  const info = parseRequestInfo(req.method ?? 'GET', path, url.searchParams);
  const decision = deps.authorize(user, info);
  if (!decision.allowed) {
    throw errors.forbidden(`User "${user.name}" cannot ${info.verb} resource "${info.resource}" in API group "${info.group}"${info.namespace ? ` in the namespace "${info.namespace}"` : ''}${decision.reason ? `: ${decision.reason}` : ''}`);
  }
  if (info.isResourceRequest) return handleResourceRequest(deps, req, res, info, url.searchParams, user);
  const extra = deps.nonResource.get(path);
  if (extra) return extra({ req, res, user });
  if (req.method !== 'GET' && req.method !== 'HEAD') throw errors.methodNotAllowed();
  return handleNonResource(deps, req, res, path);
}

function handlePublic(deps: ApiDeps, path: string, res: ServerResponse): void {
  if (path === '/version') sendJson(res, 200, versionInfo());
  else if (path === '/readyz' && !deps.isReady()) sendText(res, 500, '[-]skiff not ready\nreadyz check failed\n');
  else sendText(res, 200, 'ok');
}

async function handleResourceRequest(
  deps: ApiDeps,
  req: IncomingMessage,
  res: ServerResponse,
  info: ReturnType<typeof parseRequestInfo>,
  query: URLSearchParams,
  user: UserInfo,
): Promise<void> {
  const served = deps.registry.lookup(info.group, info.version, info.resource);
  if (!served) {
    throw errors.notFoundPath();
  }
  await handleResource({ req, res, info, query, user, deps }, served.def, served.version);
}

/** A document to send: JSON to serialise, or (OpenAPI) pre-serialised bytes with an etag. */
type Document = { json: object; contentType?: string } | { text: string | Buffer; etag: string; contentType?: string };

function handleNonResource(deps: ApiDeps, req: IncomingMessage, res: ServerResponse, path: string): void {
  const doc = nonResourceDocument(deps, req.headers.accept, path);
  if (!doc) throw errors.notFoundPath();
  if ('text' in doc) sendCached(req, res, doc);
  else sendJson(res, 200, doc.json, { contentType: doc.contentType });
}

function nonResourceDocument(deps: ApiDeps, accept: string | undefined, path: string): Document | undefined {
  const parts = path.split('/').filter(Boolean);
  const json = (body: object | undefined) => (body ? { json: body } : undefined);
  if (path === '/api' || path === '/apis') {
    const aggregated = wantsAggregated(accept);
    if (aggregated) return { json: aggregatedDiscovery(deps.registry, path === '/api', aggregated), contentType: aggregated };
    return json(path === '/api' ? apiVersions() : apiGroupList(deps.registry));
  }
  if (parts[0] === 'api' && parts.length === 2) return json(apiResourceList(deps.registry, '', parts[1]));
  if (parts[0] === 'apis' && parts.length === 2) return json(apiGroup(deps.registry, parts[1]));
  if (parts[0] === 'apis' && parts.length === 3) return json(apiResourceList(deps.registry, parts[1], parts[2]));
  if (path === '/openapi/v2' || path === '/swagger.json') {
    // kubectl asks for v2 only as protobuf (client-side validation, explain --output=plaintext-openapiv2).
    const format = negotiateOpenApiV2(accept);
    if (format === 'not-acceptable') {
      throw errors.notAcceptable(`only application/json and ${OPENAPI_V2_PROTOBUF} are available for /openapi/v2`);
    }
    if (format === 'protobuf') {
      const pb = deps.openapi.v2Protobuf();
      return { text: pb.body, etag: pb.etag, contentType: OPENAPI_V2_PROTOBUF_RESPONSE };
    }
    const doc = deps.openapi.v2();
    return { text: doc.body, etag: doc.etag };
  }
  if (path === '/openapi/v3') return json(deps.openapi.v3Index());
  if (parts[0] === 'openapi' && parts[1] === 'v3' && parts.length > 2) {
    const doc = deps.openapi.v3(parts.slice(2).join('/'));
    return doc ? { text: doc.body, etag: doc.etag } : undefined;
  }
  if (path === '/') return json({ paths: ['/api', '/api/v1', '/apis', '/healthz', '/livez', '/openapi/v2', '/openapi/v3', '/readyz', '/version'] });
  return undefined;
}

/** OpenAPI documents are large and change rarely: answer If-None-Match with 304. */
function sendCached(
  req: IncomingMessage,
  res: ServerResponse,
  { text: body, etag, contentType }: { text: string | Buffer; etag: string; contentType?: string },
): void {
  const quoted = `"${etag}"`;
  // /openapi/v2 answers JSON or protobuf by Accept: caches must keep them apart.
  const vary = { Vary: 'Accept' };
  if (req.headers['if-none-match'] === quoted) {
    res.writeHead(304, { ETag: quoted, ...vary });
    res.end();
    return;
  }
  res.writeHead(200, {
    'Content-Type': contentType ?? 'application/json',
    'Content-Length': Buffer.byteLength(body),
    ETag: quoted,
    'Cache-Control': 'public, immutable',
    ...vary,
  });
  res.end(body);
}
