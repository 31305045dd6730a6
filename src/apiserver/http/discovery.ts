// API discovery, legacy (/api, /apis, per group-version) and aggregated
// (apidiscovery.k8s.io v2 and v2beta1, which kubectl 1.32 asks for first).
import { createHash } from 'node:crypto';
import { apiVersionOf } from '../../api/types.ts';
import type { ResourceDef } from '../registry/types.ts';
import type { ResourceRegistry } from '../resources/registry.ts';

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const STATUS_VERBS = ['get', 'patch', 'update'];

/** Verbs and response kinds of the subresources skiff serves, as Kubernetes lists them. */
const SUBRESOURCES: Record<string, { verbs: string[]; kind?: { group: string; version: string; kind: string } }> = {
  status: { verbs: STATUS_VERBS },
  scale: { verbs: STATUS_VERBS, kind: { group: 'autoscaling', version: 'v1', kind: 'Scale' } },
  binding: { verbs: ['create'], kind: { group: '', version: 'v1', kind: 'Binding' } },
  eviction: { verbs: ['create'], kind: { group: 'policy', version: 'v1', kind: 'Eviction' } },
  log: { verbs: ['get'] },
  exec: { verbs: ['create', 'get'], kind: { group: '', version: 'v1', kind: 'PodExecOptions' } },
  attach: { verbs: ['create', 'get'], kind: { group: '', version: 'v1', kind: 'PodAttachOptions' } },
  portforward: { verbs: ['create', 'get'], kind: { group: '', version: 'v1', kind: 'PodPortForwardOptions' } },
  proxy: { verbs: ['create', 'delete', 'get', 'patch', 'update'] },
  token: { verbs: ['create'], kind: { group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest' } },
  finalize: { verbs: ['update'] },
};

export const AGGREGATED_V2 = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
export const AGGREGATED_V2BETA1 = 'application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList';

/** The aggregated media type the client accepts, if any, in its order of preference. */
export function wantsAggregated(accept: string | undefined): string | undefined {
  for (const part of (accept ?? '').split(',')) {
    const p = part.replace(/\s+/g, '');
    if (!p.includes('as=APIGroupDiscoveryList') || !p.includes('g=apidiscovery.k8s.io')) continue;
    if (p.includes('v=v2beta1')) return AGGREGATED_V2BETA1;
    if (p.includes('v=v2')) return AGGREGATED_V2;
  }
  return undefined;
}

function subresourceNames(def: ResourceDef): string[] {
  const names: string[] = [];
  if (def.subresources.status) names.push('status');
  if (def.subresources.scale) names.push('scale');
  for (const other of def.subresources.other ?? []) if (!names.includes(other)) names.push(other);
  return names;
}

function verbsOf(def: ResourceDef): string[] {
  return def.verbs ?? ALL_VERBS;
}

function storageVersionHash(def: ResourceDef): string {
  const id = `${def.group}/${def.storageVersion}/${def.kind}`;
  return createHash('sha256').update(id).digest('base64').slice(0, 11);
}

export function apiVersions(): object {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: null };
}

export function apiGroupList(registry: ResourceRegistry): object {
  const groups = registry
    .groups()
    .filter((g) => g.group !== '')
    .map(({ group, versions }) => ({
      name: group,
      versions: versions.map((version) => ({ groupVersion: `${group}/${version}`, version })),
      preferredVersion: { groupVersion: `${group}/${versions[0]}`, version: versions[0] },
    }));
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

export function apiGroup(registry: ResourceRegistry, group: string): object | undefined {
  const found = registry.groups().find((g) => g.group === group);
  if (!found) return undefined;
  const versions = found.versions.map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions, preferredVersion: versions[0] };
}

function servedIn(registry: ResourceRegistry, group: string, version: string): ResourceDef[] {
  return registry
    .all()
    .filter((def) => def.group === group && def.versions.includes(version))
    .sort((a, b) => a.plural.localeCompare(b.plural));
}

export function apiResourceList(registry: ResourceRegistry, group: string, version: string): object | undefined {
  const defs = servedIn(registry, group, version);
  if (defs.length === 0) return undefined;
  const resources: object[] = [];
  for (const def of defs) {
    resources.push({
      name: def.plural,
      singularName: def.singular,
      namespaced: def.namespaced,
      kind: def.kind,
      verbs: verbsOf(def),
      ...(def.shortNames?.length ? { shortNames: def.shortNames } : {}),
      ...(def.categories?.length ? { categories: def.categories } : {}),
      storageVersionHash: storageVersionHash(def),
    });
    for (const sub of subresourceNames(def)) {
      const known = SUBRESOURCES[sub] ?? { verbs: ['get'] };
      resources.push({
        name: `${def.plural}/${sub}`,
        singularName: '',
        namespaced: def.namespaced,
        ...(known.kind ? { group: known.kind.group, version: known.kind.version } : {}),
        kind: known.kind?.kind ?? def.kind,
        verbs: known.verbs,
      });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(group, version), resources };
}

function discoveryVersion(registry: ResourceRegistry, group: string, version: string): object {
  const resources = servedIn(registry, group, version).map((def) => ({
    resource: def.plural,
    responseKind: { group, version, kind: def.kind },
    scope: def.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: def.singular,
    verbs: verbsOf(def),
    ...(def.shortNames?.length ? { shortNames: def.shortNames } : {}),
    ...(def.categories?.length ? { categories: def.categories } : {}),
    subresources: subresourceNames(def).map((sub) => {
      const known = SUBRESOURCES[sub] ?? { verbs: ['get'] };
      return { subresource: sub, responseKind: known.kind ?? { group, version, kind: def.kind }, verbs: known.verbs };
    }),
  }));
  return { version, resources, freshness: 'Current' };
}

/** The aggregated document for /api (legacy: true) or /apis. */
export function aggregatedDiscovery(registry: ResourceRegistry, legacy: boolean, mediaType: string): object {
  const apiVersion = mediaType === AGGREGATED_V2BETA1 ? 'apidiscovery.k8s.io/v2beta1' : 'apidiscovery.k8s.io/v2';
  const items = registry
    .groups()
    .filter((g) => (g.group === '') === legacy)
    .map(({ group, versions }) => ({
      metadata: { name: group, creationTimestamp: null },
      versions: versions.map((v) => discoveryVersion(registry, group, v)),
    }));
  return { kind: 'APIGroupDiscoveryList', apiVersion, metadata: {}, items };
}
