// Looks up resources by URL (group/version/plural) or by kind. Built-in kinds
// are fixed; CRDs come and go at run time.
import type { ResourceDef } from '../registry/types.ts';

export type ServedResource = { def: ResourceDef; version: string };

export class ResourceRegistry {
  #byGroupPlural = new Map<string, ResourceDef>();
  #listeners = new Set<() => void>();

  constructor(defs: ResourceDef[]) {
    for (const def of defs) this.#byGroupPlural.set(groupPlural(def.group, def.plural), def);
  }

  /** The resource served at /apis/<group>/<version>/<plural>, if that version is served. */
  lookup(group: string, version: string, plural: string): ServedResource | undefined {
    const def = this.#byGroupPlural.get(groupPlural(group, plural));
    return def?.versions.includes(version) ? { def, version } : undefined;
  }

  byGroupResource(group: string, plural: string): ResourceDef | undefined {
    return this.#byGroupPlural.get(groupPlural(group, plural));
  }

  byKind(group: string, kind: string): ResourceDef | undefined {
    for (const def of this.#byGroupPlural.values()) if (def.group === group && def.kind === kind) return def;
    return undefined;
  }

  all(): ResourceDef[] {
    return [...this.#byGroupPlural.values()];
  }

  /** Group versions in discovery order: the legacy core group first, then groups by first appearance. */
  groups(): { group: string; versions: string[] }[] {
    const order = new Map<string, string[]>();
    for (const def of this.#byGroupPlural.values()) {
      const versions = order.get(def.group) ?? [];
      for (const v of def.versions) if (!versions.includes(v)) versions.push(v);
      order.set(def.group, versions);
    }
    return [...order.entries()].map(([group, versions]) => ({ group, versions: sortVersions(versions) }));
  }

  /** Adds or replaces a resource (CRDs). */
  put(def: ResourceDef): void {
    this.#byGroupPlural.set(groupPlural(def.group, def.plural), def);
    this.#changed();
  }

  remove(group: string, plural: string): void {
    if (this.#byGroupPlural.delete(groupPlural(group, plural))) this.#changed();
  }

  /** Called after every put/remove, e.g. to refresh discovery and OpenAPI documents. */
  onChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }
}

function groupPlural(group: string, plural: string): string {
  return `${group}/${plural}`;
}

const VERSION_PATTERN = /^v(\d+)(?:(alpha|beta)(\d+))?$/;

/**
 * Kubernetes' version priority: GA before beta before alpha, higher numbers
 * first; versions that do not look like Kubernetes versions sort last by name.
 */
export function compareVersions(a: string, b: string): number {
  const rank = (v: string): [number, number, number] | undefined => {
    const m = VERSION_PATTERN.exec(v);
    if (!m) return undefined;
    const stability = m[2] === undefined ? 2 : m[2] === 'beta' ? 1 : 0;
    return [stability, Number(m[1]), Number(m[3] ?? 0)];
  };
  const ra = rank(a);
  const rb = rank(b);
  if (!ra || !rb) return ra ? -1 : rb ? 1 : a.localeCompare(b);
  for (let i = 0; i < 3; i++) if (ra[i] !== rb[i]) return rb[i] - ra[i];
  return 0;
}

export function sortVersions(versions: string[]): string[] {
  return [...versions].sort(compareVersions);
}
