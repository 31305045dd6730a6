// Legacy discovery (/api/v1, /apis, /apis/<g>/<v>): every resource the server
// serves, CRDs included, as the namespace controller and the GC need them.
import type { Client, ResourceRef } from './client.ts';

export type DiscoveredResource = ResourceRef & {
  kind: string;
  verbs: string[];
  /** Served in its group's preferred version. */
  preferred: boolean;
};

export type Discovery = {
  resources: DiscoveredResource[];
  /** Group-versions whose resource list could not be read, with why. */
  failures: { groupVersion: string; error: unknown }[];
};

type ApiResourceList = {
  groupVersion: string;
  resources: { name: string; namespaced: boolean; kind: string; verbs?: string[] }[];
};
type ApiGroupList = {
  groups: { name: string; versions: { version: string }[]; preferredVersion?: { version: string } }[];
};

export async function discoverResources(client: Client): Promise<Discovery> {
  const groupList = await client.request<ApiGroupList>({ path: '/apis' });
  const wanted: { group: string; version: string; preferred: boolean; path: string }[] = [
    { group: '', version: 'v1', preferred: true, path: '/api/v1' },
  ];
  for (const g of groupList.groups) {
    const preferred = g.preferredVersion?.version ?? g.versions[0]?.version;
    for (const { version } of g.versions) {
      wanted.push({ group: g.name, version, preferred: version === preferred, path: `/apis/${g.name}/${version}` });
    }
  }
  const resources: DiscoveredResource[] = [];
  const failures: Discovery['failures'] = [];
  await Promise.all(
    wanted.map(async ({ group, version, preferred, path }) => {
      try {
        const list = await client.request<ApiResourceList>({ path });
        for (const r of list.resources) {
          if (r.name.includes('/')) continue; // subresources (pods/status, deployments/scale)
          resources.push({ group, version, resource: r.name, namespaced: r.namespaced, kind: r.kind, verbs: r.verbs ?? [], preferred });
        }
      } catch (error) {
        failures.push({ groupVersion: path, error });
      }
    }),
  );
  resources.sort((a, b) => `${a.group}/${a.resource}/${a.version}`.localeCompare(`${b.group}/${b.resource}/${b.version}`));
  return { resources, failures };
}

export function hasVerbs(r: DiscoveredResource, verbs: string[]): boolean {
  return verbs.every((v) => r.verbs.includes(v));
}

/** The resource serving apiVersion + kind, in that version when served, else the group's preferred one. */
export function resourceForKind(resources: DiscoveredResource[], apiVersion: string, kind: string): DiscoveredResource | undefined {
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
  const candidates = resources.filter((r) => r.group === group && r.kind === kind);
  return candidates.find((r) => r.version === version) ?? candidates.find((r) => r.preferred) ?? candidates[0];
}
