// Parses an API path into what the request is about, as Kubernetes'
// RequestInfoFactory does: /api/v1/namespaces/ns/pods/name/status →
// {group "", version v1, namespace ns, resource pods, name, subresource status}.

export type RequestInfo = {
  /** False for /version, /healthz, discovery roots, openapi, …; those are routed separately. */
  isResourceRequest: boolean;
  /** "get", "list", "watch", "create", "update", "patch", "delete", "deletecollection". */
  verb: string;
  apiPrefix: 'api' | 'apis' | '';
  group: string;
  version: string;
  namespace: string;
  resource: string;
  name: string;
  subresource: string;
  /** Path segments after the subresource (pods/x/proxy/some/path). */
  rest: string[];
  path: string;
};

const METHOD_VERBS: Record<string, string> = {
  POST: 'create',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
  GET: 'get',
  HEAD: 'get',
};

const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

export function parseRequestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  const info: RequestInfo = {
    isResourceRequest: false,
    verb: (METHOD_VERBS[method] ?? method).toLowerCase(),
    apiPrefix: '',
    group: '',
    version: '',
    namespace: '',
    resource: '',
    name: '',
    subresource: '',
    rest: [],
    path,
  };
  let parts = path.split('/').filter((p) => p !== '').map(decodeURIComponent);
  if (parts[0] !== 'api' && parts[0] !== 'apis') return info;
  info.apiPrefix = parts[0] as 'api' | 'apis';
  parts = parts.slice(1);
  if (info.apiPrefix === 'apis') {
    if (parts.length < 2) return info; // /apis or /apis/group: discovery
    info.group = parts[0];
    parts = parts.slice(1);
  }
  if (parts.length < 2) {
    info.version = parts[0] ?? '';
    return info; // /api, /api/v1, /apis/g/v: discovery
  }
  info.version = parts[0];
  parts = parts.slice(1);
  info.isResourceRequest = true;

  // Legacy /watch/ prefix: /api/v1/watch/namespaces/ns/pods.
  let legacyWatch = false;
  if (parts[0] === 'watch') {
    legacyWatch = true;
    parts = parts.slice(1);
  }
  // namespaces/<ns>/<resource>… is namespaced; namespaces/<ns>/status|finalize is the namespace's own subresource.
  if (parts[0] === 'namespaces' && parts.length >= 3 && !NAMESPACE_SUBRESOURCES.has(parts[2])) {
    info.namespace = parts[1];
    parts = parts.slice(2);
  }
  info.resource = parts[0] ?? '';
  info.name = parts[1] ?? '';
  info.subresource = parts[2] ?? '';
  info.rest = parts.slice(3);

  const watching = legacyWatch || isTrue(query.get('watch'));
  if (info.verb === 'get' && !info.name) info.verb = watching ? 'watch' : 'list';
  else if (info.verb === 'get' && watching) info.verb = 'watch';
  if (info.verb === 'delete' && !info.name) info.verb = 'deletecollection';
  return info;
}

export function isTrue(value: string | null): boolean {
  return value === 'true' || value === '1';
}
