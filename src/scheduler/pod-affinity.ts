// Inter-pod affinity and anti-affinity (required terms), as kube-scheduler's
// InterPodAffinity filter: computed once per pod (PreFilter) as counts per
// topology domain ("key=value"), then checked per node. Pure functions.
import { type LabelSelectorJson, labelSelectorToRequirements, matchesSelector } from '../api/labels.ts';
import type { KubeObject } from '../api/types.ts';
import type { PodInfo } from './cache.ts';

export type PodAffinityTerm = {
  labelSelector?: LabelSelectorJson;
  namespaces?: string[];
  namespaceSelector?: LabelSelectorJson;
  topologyKey: string;
};

export type AffinityState = {
  /** Per required affinity term: domains holding a matching pod. */
  affinity: { term: PodAffinityTerm; domains: Set<string> }[];
  /** The pod matches all its own affinity terms (the first pod of a group may go anywhere). */
  selfMatch: boolean;
  /** Per required anti-affinity term of the pod: domains holding a matching pod. */
  antiAffinity: { term: PodAffinityTerm; domains: Set<string> }[];
  /** Domains where an existing pod's anti-affinity forbids this pod. */
  forbiddenByExisting: Set<string>;
};

export const REASON_AFFINITY = "node(s) didn't match pod affinity rules";
export const REASON_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";

function required(pod: KubeObject, kind: 'podAffinity' | 'podAntiAffinity'): PodAffinityTerm[] {
  return pod.spec?.affinity?.[kind]?.requiredDuringSchedulingIgnoredDuringExecution ?? [];
}

/** Does `candidate` match the term written on `owner`? (namespaces default to the owner's namespace). */
export function termMatchesPod(term: PodAffinityTerm, owner: KubeObject, candidate: KubeObject): boolean {
  const namespaces = term.namespaces ?? [];
  const allNamespaces = term.namespaceSelector !== undefined && Object.keys(term.namespaceSelector).length === 0;
  const ns = candidate.metadata.namespace ?? '';
  if (!allNamespaces && !(namespaces.length ? namespaces.includes(ns) : ns === owner.metadata.namespace)) return false;
  if (!term.labelSelector) return false;
  const selector = labelSelectorToRequirements(term.labelSelector);
  return selector !== undefined && matchesSelector(selector, candidate.metadata.labels);
}

const domainOf = (node: KubeObject | undefined, key: string) => {
  const value = node?.metadata.labels?.[key];
  return value === undefined ? undefined : `${key}=${value}`;
};

export function hasPodAffinityWork(pod: KubeObject, existingAntiAffinity: number): boolean {
  return existingAntiAffinity > 0 || required(pod, 'podAffinity').length > 0 || required(pod, 'podAntiAffinity').length > 0;
}

/** PreFilter: one pass over the pods the cache knows. `nodeOf` finds the Node a pod runs on. */
export function affinityState(
  pod: KubeObject,
  pods: Iterable<PodInfo>,
  withAntiAffinity: Iterable<PodInfo>,
  nodeOf: (name: string) => KubeObject | undefined,
): AffinityState {
  const affinity = required(pod, 'podAffinity').map((term) => ({ term, domains: new Set<string>() }));
  const antiAffinity = required(pod, 'podAntiAffinity').map((term) => ({ term, domains: new Set<string>() }));
  const forbiddenByExisting = new Set<string>();
  const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
  if (affinity.length > 0 || antiAffinity.length > 0) {
    for (const p of pods) {
      if (p.key === key) continue;
      const node = nodeOf(p.nodeName);
      for (const entry of [...affinity, ...antiAffinity]) {
        if (!termMatchesPod(entry.term, pod, p.pod)) continue;
        const domain = domainOf(node, entry.term.topologyKey);
        if (domain) entry.domains.add(domain);
      }
    }
  }
  for (const p of withAntiAffinity) {
    if (p.key === key) continue;
    for (const term of required(p.pod, 'podAntiAffinity')) {
      if (!termMatchesPod(term, p.pod, pod)) continue;
      const domain = domainOf(nodeOf(p.nodeName), term.topologyKey);
      if (domain) forbiddenByExisting.add(domain);
    }
  }
  const selfMatch = affinity.every(({ term }) => termMatchesPod(term, pod, pod));
  return { affinity, selfMatch, antiAffinity, forbiddenByExisting };
}

/** Filter: the reason the node fails inter-pod (anti-)affinity, or undefined. */
export function podAffinityReason(state: AffinityState, node: KubeObject): string | undefined {
  const labels = node.metadata.labels ?? {};
  // kube-scheduler's order: the pod's affinity, its anti-affinity, then existing pods' anti-affinity.
  const noneAnywhere = state.affinity.every((a) => a.domains.size === 0);
  if (state.affinity.length > 0 && !(noneAnywhere && state.selfMatch)) {
    for (const { term, domains } of state.affinity) {
      const domain = domainOf(node, term.topologyKey);
      if (!domain || !domains.has(domain)) return REASON_AFFINITY;
    }
  }
  for (const { term, domains } of state.antiAffinity) {
    const domain = domainOf(node, term.topologyKey);
    if (domain && domains.has(domain)) return REASON_ANTI_AFFINITY;
  }
  for (const domain of state.forbiddenByExisting) {
    const eq = domain.indexOf('=');
    if (labels[domain.slice(0, eq)] === domain.slice(eq + 1)) return REASON_EXISTING_ANTI_AFFINITY;
  }
  return undefined;
}
