// Which nodes a DaemonSet's pod belongs on (daemon_controller.go
// NodeShouldRunDaemonPod): spec.nodeName, nodeSelector, required node
// affinity and taints against the pod's tolerations, including the ones
// Kubernetes adds to every daemon pod. Pure functions only.
import type { KubeObject } from '../api/types.ts';

export type Taint = { key: string; value?: string; effect: string };
export type Toleration = { key?: string; operator?: string; value?: string; effect?: string; tolerationSeconds?: number };
type Requirement = { key: string; operator: string; values?: string[] };
type Term = { matchExpressions?: Requirement[]; matchFields?: Requirement[] };

/**
 * Tolerations every daemon pod gets (util.AddOrUpdateDaemonPodTolerations): it
 * stays on nodes that are not ready or unreachable, and lands on nodes under
 * resource pressure or cordoned, because it is the node's own infrastructure.
 */
export const DAEMON_TOLERATIONS: Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];
/** Host-network daemon pods also tolerate a node whose network is not set up yet. */
export const HOST_NETWORK_TOLERATION: Toleration = { key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' };

const sameToleration = (a: Toleration, b: Toleration) =>
  (a.key ?? '') === (b.key ?? '') && (a.operator ?? 'Equal') === (b.operator ?? 'Equal') && (a.value ?? '') === (b.value ?? '') && (a.effect ?? '') === (b.effect ?? '');

/** The pod spec's tolerations plus the daemon ones it does not have yet. */
export function daemonTolerations(podSpec: KubeObject['spec']): Toleration[] {
  const own: Toleration[] = podSpec?.tolerations ?? [];
  const extra = podSpec?.hostNetwork ? [...DAEMON_TOLERATIONS, HOST_NETWORK_TOLERATION] : DAEMON_TOLERATIONS;
  return [...own, ...extra.filter((t) => !own.some((o) => sameToleration(o, t)))];
}

/** Toleration.ToleratesTaint. */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (t.operator === 'Exists') return true;
  if (t.operator === undefined || t.operator === 'Equal' || t.operator === '') return (t.value ?? '') === (taint.value ?? '');
  return false;
}

export function untoleratedTaint(taints: Taint[], tolerations: Toleration[], effects: string[]): Taint | undefined {
  return taints.find((taint) => effects.includes(taint.effect) && !tolerations.some((t) => tolerates(t, taint)));
}

function requirementMatches(r: Requirement, value: string | undefined): boolean {
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return value !== undefined && values.includes(value);
    case 'NotIn':
      return value === undefined || !values.includes(value);
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
    case 'Gt':
    case 'Lt': {
      if (value === undefined || !/^-?\d+$/.test(value) || !/^-?\d+$/.test(values[0] ?? '')) return false;
      return r.operator === 'Gt' ? Number(value) > Number(values[0]) : Number(value) < Number(values[0]);
    }
    default:
      return false;
  }
}

/** One NodeSelectorTerm: every expression on labels and every field (metadata.name) must hold; an empty term matches nothing. */
export function termMatches(term: Term, node: KubeObject): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  const labels: Record<string, string> = node.metadata.labels ?? {};
  return (
    exprs.every((r) => requirementMatches(r, Object.hasOwn(labels, r.key) ? labels[r.key] : undefined)) &&
    fields.every((r) => r.key === 'metadata.name' && requirementMatches(r, node.metadata.name))
  );
}

/** spec.nodeSelector and required node affinity (terms are ORed). */
export function fitsNodeAffinity(podSpec: KubeObject['spec'], node: KubeObject): boolean {
  const labels: Record<string, string> = node.metadata.labels ?? {};
  const selector: Record<string, string> = podSpec?.nodeSelector ?? {};
  if (!Object.entries(selector).every(([k, v]) => labels[k] === v)) return false;
  const required = podSpec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (!required) return true;
  const terms: Term[] = required.nodeSelectorTerms ?? [];
  return terms.some((t) => termMatches(t, node));
}

export type NodeFit = {
  /** A daemon pod should be created here. */
  shouldRun: boolean;
  /** A daemon pod already here may stay (it tolerates every NoExecute taint). */
  shouldContinueRunning: boolean;
};

export function nodeShouldRunDaemonPod(node: KubeObject, ds: KubeObject): NodeFit {
  const podSpec = ds.spec?.template?.spec ?? {};
  const no = { shouldRun: false, shouldContinueRunning: false };
  if (podSpec.nodeName && podSpec.nodeName !== node.metadata.name) return no;
  if (!fitsNodeAffinity(podSpec, node)) return no;
  const taints: Taint[] = node.spec?.taints ?? [];
  const tolerations = daemonTolerations(podSpec);
  if (untoleratedTaint(taints, tolerations, ['NoSchedule', 'NoExecute'])) {
    return { shouldRun: false, shouldContinueRunning: !untoleratedTaint(taints, tolerations, ['NoExecute']) };
  }
  // A node being deleted gets no new daemon pods; the ones there stay until it goes.
  if (node.metadata.deletionTimestamp) return { shouldRun: false, shouldContinueRunning: true };
  return { shouldRun: true, shouldContinueRunning: true };
}

/**
 * Required node affinity that pins a pod to one node (ReplaceDaemonSetPodNodeNameNodeAffinity):
 * one term, matchFields metadata.name In [node]; the scheduler then binds it there.
 */
export function pinToNode(affinity: KubeObject['spec'] | undefined, nodeName: string): Record<string, unknown> {
  const term = { matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] };
  const nodeAffinity = { ...(affinity?.nodeAffinity ?? {}), requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [term] } };
  return { ...(affinity ?? {}), nodeAffinity };
}

/** The node a daemon pod is on, or is pinned to while unscheduled (util.GetTargetNodeName). */
export function targetNodeName(pod: KubeObject): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms: Term[] = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  if (terms.length !== 1) return undefined;
  const fields = terms[0].matchFields ?? [];
  const f = fields.find((r) => r.key === 'metadata.name' && r.operator === 'In' && r.values?.length === 1);
  return f?.values?.[0];
}
