// Which definitions an OpenAPI document needs: the roots and lists of its
// resources (built-in definitions, or CRD schemas dressed the way Kubernetes
// publishes them) plus everything they reference.
import type { ResourceDef } from '../registry/types.ts';
import { type MutableSchemaSource, refName, runtimeDefinitionName } from '../schema/index.ts';
import type { Schema } from '../schema/types.ts';
import { DELETE_OPTIONS, PATCH, SCALE, STATUS } from './operations.ts';

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const v2Ref = (name: string): Schema => ({ $ref: `#/definitions/${name}` });

/** Definitions every document carries: operation bodies and responses. */
const ALWAYS = [STATUS, DELETE_OPTIONS, `${META}WatchEvent`];

/** meta.v1.Patch is not a client-node model: a patch body is any JSON object. */
const PATCH_SCHEMA: Schema = {
  description: 'Patch is provided to give a concrete name and type to the Kubernetes PATCH request body.',
  type: 'object',
};

export type RootNames = { root: string; list: string; strategicMerge: boolean };

export type DocSchemas = {
  definitions: Record<string, Schema>;
  /** Per resource plural and version. */
  names: Map<string, RootNames>;
};

export const namesKey = (def: ResourceDef, version: string) => `${def.group}/${version}/${def.plural}`;

/** A CRD (or schema-less) root as Kubernetes publishes it: apiVersion, kind and metadata always present. */
function decorateRuntimeRoot(
  schema: Schema | undefined,
  gvk: { group: string; version: string; kind: string },
): Schema {
  const base: Schema = schema ? { ...schema } : { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
  base.type ??= 'object';
  base.properties = {
    apiVersion: {
      type: 'string',
      description: 'APIVersion defines the versioned schema of this representation of an object.',
    },
    kind: {
      type: 'string',
      description: 'Kind is a string value representing the REST resource this object represents.',
    },
    metadata: { ...v2Ref(`${META}ObjectMeta`), description: "Standard object's metadata." },
    ...base.properties,
  };
  if (base.properties.metadata.type === 'object' && !base.properties.metadata.properties)
    base.properties.metadata = { ...v2Ref(`${META}ObjectMeta`), description: "Standard object's metadata." };
  base['x-kubernetes-group-version-kind'] = [gvk];
  return base;
}

function listSchema(itemRef: string, gvk: { group: string; version: string; kind: string }): Schema {
  return {
    description: `${gvk.kind} is a list of ${gvk.kind.replace(/List$/, '')}`,
    type: 'object',
    required: ['items'],
    properties: {
      apiVersion: {
        type: 'string',
        description: 'APIVersion defines the versioned schema of this representation of an object.',
      },
      items: { type: 'array', items: v2Ref(itemRef), description: 'List of objects.' },
      kind: {
        type: 'string',
        description: 'Kind is a string value representing the REST resource this object represents.',
      },
      metadata: { ...v2Ref(`${META}ListMeta`), description: 'Standard list metadata.' },
    },
    'x-kubernetes-group-version-kind': [gvk],
  };
}

/** Collects the definitions for the given resource versions (v2-style refs), following every $ref. */
export function collectSchemas(
  source: MutableSchemaSource,
  entries: { def: ResourceDef; version: string }[],
): DocSchemas {
  const definitions: Record<string, Schema> = {};
  const names = new Map<string, RootNames>();
  const pending: string[] = [...ALWAYS];

  for (const { def, version } of entries) {
    const gvk = { group: def.group, version, kind: def.kind };
    const builtin = source.roots(def.group, version).find((r) => r.kind === def.kind && !r.runtime);
    const listBuiltin = source.rootName(def.group, version, def.listKind);
    if (builtin) {
      pending.push(builtin.name);
      let list = listBuiltin;
      if (!list || source.roots(def.group, version).find((r) => r.kind === def.listKind)?.runtime) {
        list = `${builtin.name}List`;
        definitions[list] = listSchema(builtin.name, { ...gvk, kind: def.listKind });
      } else {
        pending.push(list);
      }
      names.set(namesKey(def, version), { root: builtin.name, list, strategicMerge: true });
    } else {
      const root = source.rootName(def.group, version, def.kind) ?? runtimeDefinitionName(def.group, version, def.kind);
      definitions[root] = decorateRuntimeRoot(source.root(def.group, version, def.kind), gvk);
      const list = `${root}List`;
      definitions[list] = listSchema(root, { ...gvk, kind: def.listKind });
      names.set(namesKey(def, version), { root, list, strategicMerge: false });
      collectRefs(definitions[root], pending);
    }
    if (def.subresources.scale) pending.push(SCALE);
  }
  for (const name of Object.keys(definitions)) collectRefs(definitions[name], pending);
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (definitions[name]) continue;
    const schema = name === PATCH ? PATCH_SCHEMA : source.definition(name);
    if (!schema) continue;
    definitions[name] = schema;
    collectRefs(schema, pending);
  }
  definitions[PATCH] = PATCH_SCHEMA;
  return { definitions, names };
}

function collectRefs(schema: unknown, out: string[]): void {
  if (Array.isArray(schema)) {
    for (const item of schema) collectRefs(item, out);
  } else if (schema && typeof schema === 'object') {
    for (const [key, value] of Object.entries(schema)) {
      if (key === '$ref' && typeof value === 'string') {
        const name = refName(value);
        if (name) out.push(name);
      } else if (typeof value === 'object') {
        collectRefs(value, out);
      }
    }
  }
}
