// The REST operations of a resource, independent of OpenAPI version: which
// paths exist, with which verbs, parameters, bodies and kinds. v2.ts and
// v3.ts render them.
import type { ResourceDef } from '../registry/types.ts';

export type Gvk = { group: string; version: string; kind: string };

export type Action = 'list' | 'post' | 'deletecollection' | 'get' | 'put' | 'patch' | 'delete' | 'watchlist';

export type Operation = {
  method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  action: Action;
  operationId: string;
  description: string;
  gvk: Gvk;
  /** Query parameter names (see QUERY_PARAMS). */
  query: string[];
  /** Definition name of the request body; PATCH bodies are meta.v1.Patch. */
  body?: string;
  /** Definition name of the 200 response. */
  response: string;
  /** Extra success codes (201 for create, 202 for delete). */
  also?: number[];
};

export type PathItem = { path: string; pathParams: string[]; operations: Operation[] };

export const STATUS = 'io.k8s.apimachinery.pkg.apis.meta.v1.Status';
export const DELETE_OPTIONS = 'io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions';
export const PATCH = 'io.k8s.apimachinery.pkg.apis.meta.v1.Patch';
export const SCALE = 'io.k8s.api.autoscaling.v1.Scale';

type Param = { description: string; type: 'string' | 'integer' | 'boolean' };

/** Query parameters the apiserver understands, described as Kubernetes describes them (shortened). */
export const QUERY_PARAMS: Record<string, Param> = {
  allowWatchBookmarks: {
    type: 'boolean',
    description: 'allowWatchBookmarks requests watch events with type "BOOKMARK".',
  },
  continue: {
    type: 'string',
    description: 'The continue option should be set when retrieving more results from the server.',
  },
  dryRun: {
    type: 'string',
    description: 'When present, indicates that modifications should not be persisted. Valid value: All.',
  },
  fieldManager: {
    type: 'string',
    description: 'fieldManager is a name associated with the actor or entity that is making these changes.',
  },
  fieldSelector: {
    type: 'string',
    description: 'A selector to restrict the list of returned objects by their fields.',
  },
  fieldValidation: {
    type: 'string',
    description:
      'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields. Valid values are: Ignore, Warn (the default) and Strict.',
  },
  force: {
    type: 'boolean',
    description: 'Force is going to "force" Apply requests. It must be unset for non-apply patch requests.',
  },
  gracePeriodSeconds: { type: 'integer', description: 'The duration in seconds before the object should be deleted.' },
  labelSelector: {
    type: 'string',
    description: 'A selector to restrict the list of returned objects by their labels.',
  },
  limit: { type: 'integer', description: 'limit is a maximum number of responses to return for a list call.' },
  orphanDependents: { type: 'boolean', description: 'Deprecated: please use the PropagationPolicy.' },
  pretty: { type: 'string', description: "If 'true', then the output is pretty printed." },
  propagationPolicy: {
    type: 'string',
    description: "Whether and how garbage collection will be performed: 'Orphan', 'Background' or 'Foreground'.",
  },
  resourceVersion: {
    type: 'string',
    description: 'resourceVersion sets a constraint on what resource versions a request may be served from.',
  },
  resourceVersionMatch: {
    type: 'string',
    description: 'resourceVersionMatch determines how resourceVersion is applied to list calls.',
  },
  sendInitialEvents: { type: 'boolean', description: 'sendInitialEvents=true may be set together with watch=true.' },
  timeoutSeconds: { type: 'integer', description: 'Timeout for the list/watch call.' },
  watch: {
    type: 'boolean',
    description:
      'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.',
  },
};

const LIST_QUERY = [
  'allowWatchBookmarks',
  'continue',
  'fieldSelector',
  'labelSelector',
  'limit',
  'resourceVersion',
  'resourceVersionMatch',
  'sendInitialEvents',
  'timeoutSeconds',
  'watch',
];
const WRITE_QUERY = ['dryRun', 'fieldManager', 'fieldValidation'];
const DELETE_QUERY = ['dryRun', 'gracePeriodSeconds', 'orphanDependents', 'propagationPolicy'];

/** "apps" -> "Apps", "rbac.authorization.k8s.io" -> "RbacAuthorization", "" -> "Core" (as Kubernetes' operation IDs). */
function groupWord(group: string): string {
  if (!group) return 'Core';
  const words = group.replace(/\.k8s\.io$/, '').split('.');
  return words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('');
}

export function groupVersionPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

/** The paths and operations of one resource in one version; rootName and listName are definition names. */
export function resourcePaths(def: ResourceDef, version: string, names: { root: string; list: string }): PathItem[] {
  const gvk: Gvk = { group: def.group, version, kind: def.kind };
  const allowed = (verb: string) => !def.verbs || def.verbs.includes(verb);
  const id = (action: string, opts: { namespaced?: boolean; sub?: string; all?: boolean } = {}) =>
    `${action}${groupWord(def.group)}${version.charAt(0).toUpperCase()}${version.slice(1)}` +
    `${opts.namespaced ? 'Namespaced' : ''}${def.kind}${opts.sub ?? ''}${opts.all ? 'ForAllNamespaces' : ''}`;
  const base = `/${groupVersionPath(def.group, version)}`;
  const ns = def.namespaced ? '/namespaces/{namespace}' : '';
  const nsParams = def.namespaced ? ['namespace'] : [];
  const namespaced = def.namespaced;
  const items: PathItem[] = [];

  const collection: Operation[] = [];
  if (allowed('list'))
    collection.push({
      method: 'get',
      action: 'list',
      operationId: id('list', { namespaced }),
      description: `list or watch objects of kind ${def.kind}`,
      gvk,
      query: LIST_QUERY,
      response: names.list,
    });
  if (allowed('create'))
    collection.push({
      method: 'post',
      action: 'post',
      operationId: id('create', { namespaced }),
      description: `create a ${def.kind}`,
      gvk,
      query: WRITE_QUERY,
      body: names.root,
      response: names.root,
      also: [201, 202],
    });
  if (allowed('deletecollection'))
    collection.push({
      method: 'delete',
      action: 'deletecollection',
      operationId: id('deleteCollection', { namespaced }),
      description: `delete collection of ${def.kind}`,
      gvk,
      query: [...DELETE_QUERY, ...LIST_QUERY.filter((q) => q !== 'watch' && q !== 'allowWatchBookmarks')],
      body: DELETE_OPTIONS,
      response: STATUS,
    });
  if (collection.length > 0)
    items.push({ path: `${base}${ns}/${def.plural}`, pathParams: nsParams, operations: collection });

  const item = (sub: string | undefined, kindGvk: Gvk, root: string, patchable: boolean): Operation[] => {
    const suffix = sub ? sub.charAt(0).toUpperCase() + sub.slice(1) : '';
    const ops: Operation[] = [];
    const what = sub ? `${sub} of the specified ${def.kind}` : `the specified ${def.kind}`;
    if (allowed('get'))
      ops.push({
        method: 'get',
        action: 'get',
        operationId: id('read', { namespaced, sub: suffix }),
        description: `read ${what}`,
        gvk: kindGvk,
        query: [],
        response: root,
      });
    if (allowed('update'))
      ops.push({
        method: 'put',
        action: 'put',
        operationId: id('replace', { namespaced, sub: suffix }),
        description: `replace ${what}`,
        gvk: kindGvk,
        query: WRITE_QUERY,
        body: root,
        response: root,
        also: [201],
      });
    if (allowed('patch') && patchable)
      ops.push({
        method: 'patch',
        action: 'patch',
        operationId: id('patch', { namespaced, sub: suffix }),
        description: `partially update ${what}`,
        gvk: kindGvk,
        query: [...WRITE_QUERY, 'force'],
        body: PATCH,
        response: root,
        also: [201],
      });
    if (!sub && allowed('delete'))
      ops.push({
        method: 'delete',
        action: 'delete',
        operationId: id('delete', { namespaced }),
        description: `delete a ${def.kind}`,
        gvk: kindGvk,
        query: DELETE_QUERY,
        body: DELETE_OPTIONS,
        response: STATUS,
        also: [202],
      });
    return ops;
  };
  const named = item(undefined, gvk, names.root, true);
  if (named.length > 0)
    items.push({ path: `${base}${ns}/${def.plural}/{name}`, pathParams: ['name', ...nsParams], operations: named });
  if (def.subresources.status)
    items.push({
      path: `${base}${ns}/${def.plural}/{name}/status`,
      pathParams: ['name', ...nsParams],
      operations: item('status', gvk, names.root, true),
    });
  if (def.subresources.scale) {
    const scaleGvk = { group: 'autoscaling', version: 'v1', kind: 'Scale' };
    items.push({
      path: `${base}${ns}/${def.plural}/{name}/scale`,
      pathParams: ['name', ...nsParams],
      operations: item('scale', scaleGvk, SCALE, true),
    });
  }
  if (namespaced && allowed('list'))
    items.push({
      path: `${base}/${def.plural}`,
      pathParams: [],
      operations: [
        {
          method: 'get',
          action: 'list',
          operationId: id('list', { all: true }),
          description: `list or watch objects of kind ${def.kind}`,
          gvk,
          query: LIST_QUERY,
          response: names.list,
        },
      ],
    });
  return items.filter((p) => p.operations.length > 0);
}
