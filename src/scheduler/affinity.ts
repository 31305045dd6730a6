// Node selection rules on a single node: nodeSelector, node affinity
// (required and preferred), taints and tolerations. Pure functions.
import type { KubeObject } from '../api/types.ts';

export type NodeSelectorRequirement = { key: string; operator: string; values?: string[] };
export type NodeSelectorTerm = { matchExpressions?: NodeSelectorRequirement[]; matchFields?: NodeSelectorRequirement[] };
export type Taint = { key: string; value?: string; effect: string };
export type Toleration = { key?: string; operator?: string; value?: string; effect?: string; tolerationSeconds?: number };

function requirementMatches(req: NodeSelectorRequirement, labels: Record<string, string>): boolean {
  const has = Object.hasOwn(labels, req.key);
  const value = labels[req.key];
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return has && values.includes(value);
    case 'NotIn':
      return !has || !values.includes(value);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || values.length !== 1 || !/^-?\d+$/.test(value) || !/^-?\d+$/.test(values[0])) return false;
      return req.operator === 'Gt' ? Number(value) > Number(values[0]) : Number(value) < Number(values[0]);
    }
    default:
      return false;
  }
}

/** A term matches when all its expressions and fields do; an empty term matches nothing (as Kubernetes). */
export function termMatches(term: NodeSelectorTerm, node: KubeObject): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels = node.metadata.labels ?? {};
  if (!exprs.every((r) => requirementMatches(r, labels))) return false;
  // metadata.name is the only field Kubernetes supports in matchFields.
  return fields.every((r) => r.key === 'metadata.name' && requirementMatches(r, { 'metadata.name': node.metadata.name ?? '' }));
}

/** nodeSelector and requiredDuringSchedulingIgnoredDuringExecution (terms are ORed). */
export function matchesNodeSelectorAndAffinity(pod: KubeObject, node: KubeObject): boolean {
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries((pod.spec?.nodeSelector ?? {}) as Record<string, string>)) {
    if (labels[k] !== v) return false;
  }
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  const terms: NodeSelectorTerm[] = required?.nodeSelectorTerms ?? [];
  return !required || terms.some((t) => termMatches(t, node));
}

/** Sum of the weights of preferred node affinity terms this node matches. */
export function preferredAffinityWeight(pod: KubeObject, node: KubeObject): number {
  const preferred: { weight: number; preference: NodeSelectorTerm }[] =
    pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  let sum = 0;
  for (const p of preferred) if (termMatches(p.preference ?? {}, node)) sum += p.weight ?? 0;
  return sum;
}

export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  // An empty key with Exists tolerates everything.
  if (!toleration.key && toleration.operator !== 'Exists') return false;
  if (toleration.operator === 'Exists') return true;
  return (toleration.value ?? '') === (taint.value ?? '');
}

export const toleratedBy = (tolerations: Toleration[], taint: Taint) => tolerations.some((t) => tolerates(t, taint));

export const NOT_READY_TAINT = 'node.kubernetes.io/not-ready';
export const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';
export const UNSCHEDULABLE_TAINT = 'node.kubernetes.io/unschedulable';

/**
 * The node's taints, plus the not-ready/unreachable NoSchedule taint the node
 * lifecycle controller would add when the Ready condition is not True, so a
 * node that is not Ready is filtered the same way before that controller acts.
 */
export function effectiveTaints(node: KubeObject): Taint[] {
  const taints: Taint[] = node.spec?.taints ?? [];
  const ready = (node.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
  if (ready?.status === 'True') return taints;
  const key = ready?.status === 'False' ? NOT_READY_TAINT : UNREACHABLE_TAINT;
  if (taints.some((t) => t.key === key && t.effect === 'NoSchedule')) return taints;
  return [...taints, { key, effect: 'NoSchedule' }];
}

/** The first NoSchedule/NoExecute taint the pod does not tolerate. */
export function untoleratedTaint(pod: KubeObject, node: KubeObject): Taint | undefined {
  const tolerations: Toleration[] = pod.spec?.tolerations ?? [];
  return effectiveTaints(node).find((t) => (t.effect === 'NoSchedule' || t.effect === 'NoExecute') && !toleratedBy(tolerations, t));
}

/** PreferNoSchedule taints the pod does not tolerate (TaintToleration scoring). */
export function intolerablePreferNoSchedule(pod: KubeObject, node: KubeObject): number {
  const tolerations: Toleration[] = (pod.spec?.tolerations ?? []).filter((t: Toleration) => !t.effect || t.effect === 'PreferNoSchedule');
  return ((node.spec?.taints ?? []) as Taint[]).filter((t) => t.effect === 'PreferNoSchedule' && !toleratedBy(tolerations, t)).length;
}
