// Generates src/apiserver/schema/k8s-definitions.json: swagger-style
// definitions of the built-in kinds, named as Kubernetes names them
// (io.k8s.api.apps.v1.DeploymentSpec), from the models and API classes of the
// @kubernetes/client-node dev dependency. Run with `npm run gen:openapi`.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Schema } from '../src/apiserver/schema/types.ts';
import { atomicStructs, fieldSemantics } from '../src/apiserver/schema/list-semantics.ts';
import {
  ANY_FIELDS,
  EXTRA_KINDS,
  GROUP_OVERRIDES,
  INCLUDED_GROUP_VERSIONS,
  INT_OR_STRING,
  JSON_VALUE,
  LEGACY_WORKLOADS,
  META_TYPES,
  MICRO_TIME,
  MICRO_TIME_FIELDS,
  QUANTITY,
  QUANTITY_FIELDS,
  RAW_EXTENSION,
  SPECIAL_DEFINITIONS,
  TIME,
} from './gen-openapi-hints.ts';

const OUT = new URL('../src/apiserver/schema/k8s-definitions.json', import.meta.url);
const pkgDir = dirname(createRequire(import.meta.url).resolve('@kubernetes/client-node/package.json'));
const GEN = join(pkgDir, 'dist', 'gen');

type Attr = { name: string; baseName: string; type: string; format: string };
type Model = { name: string; prefix: string; version: string; short: string; attrs: Attr[] };
type Docs = { type?: string; fields: Map<string, string>; required: Set<string> };
type Gvk = { group: string; version: string; kind: string };

const MODEL_NAME = /^([A-Z][a-z]+)?(V\d+(?:alpha\d+|beta\d+)?)([A-Z]\w*)$/;

function loadModels(): Map<string, Model> {
  const models = new Map<string, Model>();
  for (const file of readdirSync(join(GEN, 'models'))) {
    if (!file.endsWith('.js')) continue;
    const name = file.slice(0, -3);
    const m = MODEL_NAME.exec(name);
    if (!m) continue;
    const text = readFileSync(join(GEN, 'models', file), 'utf8');
    const map = /\.attributeTypeMap = (\[[\s\S]*?\]);/.exec(text);
    const attrs = map ? (JSON.parse(map[1]) as Attr[]) : [];
    models.set(name, { name, prefix: (m[1] ?? '').toLowerCase(), version: m[2].toLowerCase(), short: m[3], attrs });
  }
  return models;
}

/** Type and field descriptions, and required fields, from the JSDoc of a model's .d.ts. */
function loadDocs(name: string): Docs {
  const text = readFileSync(join(GEN, 'models', `${name}.d.ts`), 'utf8');
  const docs: Docs = { fields: new Map(), required: new Set() };
  const clean = (c: string) =>
    c
      .split('\n')
      .map((l) => l.replace(/^\s*\*\s?/, ''))
      .join('\n')
      .trim()
      // The generator escaped quotes and backslashes inside the comments.
      .replace(/\\(["'\\])/g, '$1');
  const entry = /(?:\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*)?(?:export declare class \w+|'([^']+)'(\??):)/g;
  for (let m = entry.exec(text); m; m = entry.exec(text)) {
    if (m[2] === undefined) {
      if (m[1]) docs.type = clean(m[1]);
      continue;
    }
    if (m[1]) docs.fields.set(m[2], clean(m[1]));
    if (m[3] !== '?') docs.required.add(m[2]);
  }
  return docs;
}

/** Top-level kinds, from API methods whose path is a resource collection or item (not a subresource). */
function loadKinds(): Map<string, Gvk> {
  const kinds = new Map<string, Gvk>();
  const resource = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))\/(?:namespaces\/\{namespace\}\/)?[a-z0-9]+(?:\/\{name\})?$/;
  for (const file of readdirSync(join(GEN, 'apis'))) {
    if (!/V\d\w*Api\.js$/.test(file)) continue;
    const js = readFileSync(join(GEN, 'apis', file), 'utf8');
    const dts = readFileSync(join(GEN, 'apis', file.replace(/\.js$/, '.d.ts')), 'utf8');
    const method = /async ((?:read|list|create)\w*)\([^)]*\) \{[\s\S]*?localVarPath = '([^']+)'/g;
    for (let m = method.exec(js); m; m = method.exec(js)) {
      const path = resource.exec(m[2]);
      const ret = new RegExp(`${m[1]}WithHttpInfo\\(response: ResponseContext\\): Promise<HttpInfo<(\\w+)>>`).exec(dts);
      if (!path || !ret) continue;
      const model = ret[1];
      const parsed = MODEL_NAME.exec(model);
      if (!parsed || parsed[3] === 'Status' || parsed[3] === 'APIResourceList') continue;
      kinds.set(model, { group: path[2] ?? '', version: path[1] ?? path[3], kind: parsed[3] });
    }
  }
  for (const k of EXTRA_KINDS) kinds.set(k.model, { group: k.group, version: k.version, kind: k.kind });
  return kinds;
}

/** The Go package name Kubernetes uses for a group in definition names. */
function packageOf(group: string): string {
  if (group === '') return 'core';
  if (group === 'internal.apiserver.k8s.io') return 'apiserverinternal';
  return group.split('.')[0];
}

function definitionPrefix(group: string, version: string): string {
  if (group === 'meta') return `io.k8s.apimachinery.pkg.apis.meta.${version}.`;
  if (group === 'apiextensions.k8s.io') return `io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.${version}.`;
  if (group === 'apiregistration.k8s.io') return `io.k8s.kube-aggregator.pkg.apis.apiregistration.${version}.`;
  return `io.k8s.api.${packageOf(group)}.${version}.`;
}

function referencedModels(model: Model): string[] {
  return model.attrs
    .flatMap((a) => a.type.match(/\b[A-Z]\w*V\d\w*|\bV\d\w*/g) ?? [])
    .filter((t) => t !== 'V1MicroTime');
}

/**
 * Assigns each model the API group whose Go package defines it: top-level kinds by their API path,
 * nested types by which groups' kinds reach them (core wins: other groups build on it).
 */
function assignGroups(models: Map<string, Model>, kinds: Map<string, Gvk>): Map<string, string> {
  const groups = new Map<string, string>();
  const byPrefix = new Map<string, string>();
  for (const gvk of kinds.values()) byPrefix.set(packageOf(gvk.group), gvk.group);
  const reachedBy = new Map<string, Set<string>>();
  for (const [root, gvk] of kinds) {
    const seen = new Set<string>([root]);
    const queue = [root];
    while (queue.length > 0) {
      const model = models.get(queue.pop()!);
      if (!model) continue;
      for (const ref of referencedModels(model)) {
        if (seen.has(ref)) continue;
        seen.add(ref);
        queue.push(ref);
        if (!reachedBy.has(ref)) reachedBy.set(ref, new Set());
        reachedBy.get(ref)!.add(gvk.group);
      }
    }
  }
  for (const model of models.values()) {
    const candidates = reachedBy.get(model.name) ?? new Set<string>();
    let group: string | undefined;
    if (kinds.has(model.name)) group = kinds.get(model.name)!.group;
    else if (model.name in GROUP_OVERRIDES) group = GROUP_OVERRIDES[model.name];
    else if (model.prefix) group = byPrefix.get(model.prefix);
    else if (META_TYPES.includes(model.short) && model.version === 'v1') group = 'meta';
    else if (candidates.has('')) group = '';
    else if (candidates.size === 1) group = [...candidates][0];
    else if (candidates.size > 1) console.warn(`ambiguous group for ${model.name}: ${[...candidates].join(', ')}`);
    if (group !== undefined) groups.set(model.name, group);
  }
  return groups;
}

function main(): void {
  const started = performance.now();
  const models = loadModels();
  const kinds = loadKinds();
  const groups = assignGroups(models, kinds);
  const defName = (model: string): string => {
    const m = models.get(model);
    const group = groups.get(model);
    if (!m || group === undefined) throw new Error(`no definition name for ${model}`);
    return definitionPrefix(group, m.version) + m.short;
  };
  const ref = (name: string): Schema => ({ $ref: `#/definitions/${name}` });

  const fieldSchema = (model: Model, attr: Attr, type: string): Schema => {
    const key = `${model.name}.${attr.name}`;
    const array = /^Array<(.+)>$/.exec(type);
    if (array) return { type: 'array', items: fieldSchema(model, attr, array[1]) };
    const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
    if (map) return { type: 'object', additionalProperties: fieldSchema(model, attr, map[1]) };
    if (QUANTITY_FIELDS.has(key) && type === 'string') return ref(QUANTITY);
    switch (type) {
      case 'string':
        return attr.format ? { type: 'string', format: attr.format } : { type: 'string' };
      case 'number':
        return /^int/.test(attr.format)
          ? { type: 'integer', format: attr.format }
          : { type: 'number', format: 'double' };
      case 'boolean':
        return { type: 'boolean' };
      case 'Date':
        return ref(MICRO_TIME_FIELDS.has(key) ? MICRO_TIME : TIME);
      case 'V1MicroTime':
        return ref(MICRO_TIME);
      case 'IntOrString':
        return ref(INT_OR_STRING);
      case 'any':
        if (model.name === 'V1JSONSchemaProps' && attr.name === 'dependencies')
          return ref(`${JSON_VALUE}SchemaPropsOrStringArray`);
        return ref(ANY_FIELDS[key] ?? (model.name === 'V1JSONSchemaProps' ? JSON_VALUE : RAW_EXTENSION));
      default:
        return ref(defName(type));
    }
  };

  const definitions: Record<string, Schema> = {};
  const build = (modelName: string): void => {
    const name = defName(modelName);
    if (definitions[name]) return;
    const model = models.get(modelName)!;
    const docs = loadDocs(modelName);
    const def: Schema = { description: docs.type, type: 'object', properties: {} };
    definitions[name] = def;
    const semantics = fieldSemantics[name] ?? {};
    for (const attr of model.attrs) {
      const field: Schema = { ...fieldSchema(model, attr, attr.type) };
      // client-node drops the descriptions of fields whose type is another model; the type's own stands in.
      const description =
        docs.fields.get(attr.baseName) ?? (models.has(attr.type) ? loadDocs(attr.type).type : undefined);
      if (description) field.description = description;
      const s = semantics[attr.baseName];
      if (s?.strategy) field['x-kubernetes-patch-strategy'] = s.strategy;
      if (s?.mergeKey) field['x-kubernetes-patch-merge-key'] = s.mergeKey;
      if (s?.listType) field['x-kubernetes-list-type'] = s.listType;
      if (s?.mapKeys) field['x-kubernetes-list-map-keys'] = s.mapKeys;
      if (s?.mapType) field['x-kubernetes-map-type'] = s.mapType;
      def.properties![attr.baseName] = field;
      for (const dep of referencedModels({ ...model, attrs: [attr] })) if (models.has(dep)) build(dep);
    }
    const required = model.attrs.map((a) => a.baseName).filter((n) => docs.required.has(n));
    if (required.length > 0) def.required = required;
    if (atomicStructs.includes(name)) def['x-kubernetes-map-type'] = 'atomic';
    const gvk = kinds.get(modelName);
    if (gvk) def['x-kubernetes-group-version-kind'] = [gvk];
  };
  for (const [model, gvk] of kinds) {
    if (INCLUDED_GROUP_VERSIONS.includes(gvk.group ? `${gvk.group}/${gvk.version}` : gvk.version)) build(model);
  }
  // Status, DeleteOptions, WatchEvent and discovery types: the API paths name them.
  for (const short of META_TYPES) if (models.has(`V1${short}`)) build(`V1${short}`);
  for (const [name, def] of Object.entries(SPECIAL_DEFINITIONS)) definitions[name] = def as Schema;
  addLegacyWorkloads(definitions);

  const lines = Object.keys(definitions)
    .sort()
    .map((name) => `${JSON.stringify(name)}:${JSON.stringify(definitions[name])}`);
  writeFileSync(OUT, `{\n${lines.join(',\n')}\n}\n`);
  const ms = Math.round(performance.now() - started);
  console.log(`wrote ${lines.length} definitions to ${OUT.pathname} in ${ms} ms`);
}

/** Old Deployment/ReplicaSet/DaemonSet versions: apps/v1's shape under their own names and GVKs. */
function addLegacyWorkloads(definitions: Record<string, Schema>): void {
  const apps = 'io.k8s.api.apps.v1.';
  for (const { group, version, kinds } of LEGACY_WORKLOADS) {
    const prefix = definitionPrefix(group, version);
    for (const kind of kinds) {
      const gvk = (k: string) => [{ group, version, kind: k }];
      const spec = structuredClone(definitions[`${apps}${kind}Spec`]);
      // Before apps/v1 the selector was optional (defaulted from the template's labels).
      delete spec.required;
      // apps/v1beta1 and extensions/v1beta1 Deployments had spec.rollbackTo (dropped in apps/v1beta2).
      if (kind === 'Deployment' && version === 'v1beta1') {
        spec.properties!.rollbackTo = {
          $ref: `#/definitions/${prefix}RollbackConfig`,
          description:
            'DEPRECATED. The config this deployment is rolling back to. Will be cleared after rollback is done.',
        };
        definitions[`${prefix}RollbackConfig`] = {
          description: 'DEPRECATED.',
          type: 'object',
          properties: {
            revision: {
              type: 'integer',
              format: 'int64',
              description: 'The revision to rollback to. If set to 0, rollback to the last revision.',
            },
          },
        };
      }
      definitions[`${prefix}${kind}Spec`] = spec;
      const obj = structuredClone(definitions[`${apps}${kind}`]);
      obj.properties!.spec = { ...obj.properties!.spec, $ref: `#/definitions/${prefix}${kind}Spec` };
      obj['x-kubernetes-group-version-kind'] = gvk(kind);
      definitions[`${prefix}${kind}`] = obj;
      const list = structuredClone(definitions[`${apps}${kind}List`]);
      list.properties!.items = { ...list.properties!.items, items: { $ref: `#/definitions/${prefix}${kind}` } };
      list['x-kubernetes-group-version-kind'] = gvk(`${kind}List`);
      definitions[`${prefix}${kind}List`] = list;
    }
  }
}

main();
