// The schema source: built-in kinds' definitions (generated into
// k8s-definitions.json by scripts/gen-openapi.ts, parsed on first use) plus
// root schemas registered at runtime (CRDs).
import { readFileSync } from 'node:fs';
import type { Schema, SchemaSource } from './types.ts';

export type { Schema, SchemaSource } from './types.ts';
export type { FieldCheck, FieldValidationMode } from './validate.ts';
export { checkFields, duplicateFields, fieldValidationOutcome } from './validate.ts';

const DEFINITIONS_FILE = new URL('./k8s-definitions.json', import.meta.url);
const REF_PREFIXES = ['#/definitions/', '#/components/schemas/'];
/** Cap on $ref hops in resolve(): definitions never chain this deep; a cycle would. */
const MAX_REF_HOPS = 16;

export type RootEntry = {
  group: string;
  version: string;
  kind: string;
  /** Definition name: Kubernetes' for built-ins, a reversed-group name for runtime roots (com.example.v1.Widget). */
  name: string;
  schema: Schema;
  /** True for roots added with addRoot (CRDs). */
  runtime: boolean;
};

export interface MutableSchemaSource extends SchemaSource {
  /** Registers (or replaces) the root schema of a kind, e.g. a CRD version's openAPIV3Schema. */
  addRoot(group: string, version: string, kind: string, schema: Schema): void;
  removeRoot(group: string, version: string, kind: string): void;
  /** A definition by name (built-in definitions and runtime roots). */
  definition(name: string): Schema | undefined;
  /** The definition name of a kind's root schema. */
  rootName(group: string, version: string, kind: string): string | undefined;
  /** Every root of one group/version. */
  roots(group: string, version: string): RootEntry[];
  /** All built-in definitions by name (shared, do not mutate). */
  definitions(): Record<string, Schema>;
  /** Bumped by every addRoot/removeRoot, so caches of derived documents know when to rebuild. */
  generation(): number;
}

const gvkKey = (group: string, version: string, kind: string) => `${group}/${version}/${kind}`;

/** Name Kubernetes gives CRD schemas in OpenAPI: reversed group, version, kind (com.example.stable.v1.CronTab). */
export function runtimeDefinitionName(group: string, version: string, kind: string): string {
  return [...group.split('.').reverse(), version, kind].join('.');
}

let builtinsCache: { defs: Record<string, Schema>; byGvk: Map<string, string> } | undefined;

/** Parses the generated definitions once per process and indexes them by group-version-kind. */
function builtins(): { defs: Record<string, Schema>; byGvk: Map<string, string> } {
  if (builtinsCache) return builtinsCache;
  const defs = JSON.parse(readFileSync(DEFINITIONS_FILE, 'utf8')) as Record<string, Schema>;
  const byGvk = new Map<string, string>();
  for (const [name, def] of Object.entries(defs)) {
    for (const g of def['x-kubernetes-group-version-kind'] ?? []) byGvk.set(gvkKey(g.group, g.version, g.kind), name);
  }
  builtinsCache = { defs, byGvk };
  return builtinsCache;
}

export function refName(ref: string): string | undefined {
  for (const prefix of REF_PREFIXES) if (ref.startsWith(prefix)) return ref.slice(prefix.length);
  return undefined;
}

export function createSchemaSource(): MutableSchemaSource {
  const runtime = new Map<string, RootEntry>();
  const runtimeByName = new Map<string, Schema>();
  let generation = 0;

  const definition = (name: string): Schema | undefined => runtimeByName.get(name) ?? builtins().defs[name];
  const rootName = (group: string, version: string, kind: string): string | undefined => {
    const key = gvkKey(group, version, kind);
    return runtime.get(key)?.name ?? builtins().byGvk.get(key);
  };

  return {
    root(group, version, kind) {
      const name = rootName(group, version, kind);
      return name === undefined ? undefined : definition(name);
    },
    resolve(schema) {
      let current = schema;
      for (let hops = 0; hops < MAX_REF_HOPS; hops++) {
        if (current.$ref) {
          const name = refName(current.$ref);
          const target = name === undefined ? undefined : definition(name);
          if (!target) return current;
          current = target;
        } else if (current.allOf?.length === 1 && current.allOf[0].$ref && !current.type && !current.properties) {
          current = current.allOf[0];
        } else {
          return current;
        }
      }
      return current;
    },
    addRoot(group, version, kind, schema) {
      const name = runtimeDefinitionName(group, version, kind);
      const gvk = [{ group, version, kind }];
      const withGvk: Schema = { ...schema, 'x-kubernetes-group-version-kind': gvk };
      const old = runtime.get(gvkKey(group, version, kind));
      if (old) runtimeByName.delete(old.name);
      runtime.set(gvkKey(group, version, kind), { group, version, kind, name, schema: withGvk, runtime: true });
      runtimeByName.set(name, withGvk);
      generation++;
    },
    removeRoot(group, version, kind) {
      const key = gvkKey(group, version, kind);
      const old = runtime.get(key);
      if (!old) return;
      runtime.delete(key);
      runtimeByName.delete(old.name);
      generation++;
    },
    definition,
    rootName,
    roots(group, version) {
      const out: RootEntry[] = [];
      const prefix = `${group}/${version}/`;
      for (const [key, name] of builtins().byGvk) {
        if (!key.startsWith(prefix) || runtime.has(key)) continue;
        const kind = key.slice(prefix.length);
        out.push({ group, version, kind, name, schema: builtins().defs[name], runtime: false });
      }
      for (const entry of runtime.values()) if (entry.group === group && entry.version === version) out.push(entry);
      return out;
    },
    definitions: () => builtins().defs,
    generation: () => generation,
  };
}
