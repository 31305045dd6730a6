// Filters: can this pod run on this node? In kube-scheduler's plugin order;
// the first failing filter decides (NodeResourcesFit may give several
// reasons). Reasons use kube-scheduler's exact words, because users search
// for them. Pure functions.
import type { KubeObject } from '../api/types.ts';
import { UNSCHEDULABLE_TAINT, matchesNodeSelectorAndAffinity, toleratedBy, untoleratedTaint } from './affinity.ts';
import type { NodeInfo } from './cache.ts';
import { type AffinityState, REASON_AFFINITY, podAffinityReason } from './pod-affinity.ts';
import type { Resources } from './resources.ts';

export const REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
export const REASON_NODE_AFFINITY = "node(s) didn't match Pod's node affinity/selector";
export const REASON_PORTS = "node(s) didn't have free ports for the requested pod ports";
export const REASON_TOO_MANY_PODS = 'Too many pods';

/**
 * Why a node failed. `resolvable` failures (resources, ports, anti-affinity)
 * could be fixed by evicting pods, so preemption is attempted for them;
 * the others are "UnschedulableAndUnresolvable".
 */
export type NodeFailure = { reasons: string[]; resolvable: boolean };

export type FilterInput = {
  pod: KubeObject;
  requests: Resources;
  ports: string[];
  affinity: AffinityState | undefined;
};

function fitReasons(requests: Resources, info: NodeInfo): string[] {
  const out: string[] = [];
  const { allocatable: alloc, requested: used } = info;
  if (used.pods + 1 > alloc.pods) out.push(REASON_TOO_MANY_PODS);
  if (requests.cpu > 0 && used.cpu + requests.cpu > alloc.cpu) out.push('Insufficient cpu');
  if (requests.memory > 0 && used.memory + requests.memory > alloc.memory) out.push('Insufficient memory');
  for (const [name, amount] of Object.entries(requests.scalar)) {
    if (amount > 0 && (used.scalar[name] ?? 0) + amount > (alloc.scalar[name] ?? 0)) out.push(`Insufficient ${name}`);
  }
  return out;
}

function portsConflict(ports: string[], info: NodeInfo): boolean {
  for (const want of ports) {
    const [protocol, ip, port] = want.split('/');
    for (const [used, count] of info.ports) {
      if (count <= 0) continue;
      const [uProtocol, uIp, uPort] = used.split('/');
      if (uProtocol !== protocol || uPort !== port) continue;
      // 0.0.0.0 conflicts with every address, as in Kubernetes' HostPortInfo.
      if (uIp === ip || uIp === '0.0.0.0' || ip === '0.0.0.0') return true;
    }
  }
  return false;
}

/** Runs every filter; undefined when the pod fits. */
export function filterNode(input: FilterInput, info: NodeInfo): NodeFailure | undefined {
  const { pod, requests } = input;
  const node = info.node;
  const tolerations = pod.spec?.tolerations ?? [];
  if (node.spec?.unschedulable && !toleratedBy(tolerations, { key: UNSCHEDULABLE_TAINT, effect: 'NoSchedule' })) {
    return { reasons: [REASON_UNSCHEDULABLE], resolvable: false };
  }
  const taint = untoleratedTaint(pod, node);
  if (taint) return { reasons: [`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`], resolvable: false };
  if (!matchesNodeSelectorAndAffinity(pod, node)) return { reasons: [REASON_NODE_AFFINITY], resolvable: false };
  if (input.ports.length > 0 && portsConflict(input.ports, info)) return { reasons: [REASON_PORTS], resolvable: true };
  const fit = fitReasons(requests, info);
  if (fit.length > 0) return { reasons: fit, resolvable: true };
  if (input.affinity) {
    const reason = podAffinityReason(input.affinity, node);
    if (reason) return { reasons: [reason], resolvable: reason !== REASON_AFFINITY };
  }
  return undefined;
}

/** FitError's message: "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) …. preemption: …". */
export function fitErrorMessage(pod: KubeObject, totalNodes: number, failures: NodeFailure[]): string {
  const histogram = (counts: Map<string, number>) =>
    [...counts].map(([reason, n]) => `${n} ${reason}`).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const reasons = new Map<string, number>();
  for (const f of failures) for (const r of f.reasons) reasons.set(r, (reasons.get(r) ?? 0) + 1);
  let message = `0/${totalNodes} nodes are available`;
  message += totalNodes === 0 || reasons.size === 0 ? '.' : `: ${histogram(reasons).join(', ')}.`;
  if (totalNodes === 0) return message;
  if (pod.spec?.preemptionPolicy === 'Never') return `${message} preemption: not eligible due to preemptionPolicy=Never.`;
  // No preemption here: every node is either not helped by evicting pods, or has no lower-priority pod to evict.
  const preemption = new Map<string, number>();
  for (const f of failures) {
    const why = f.resolvable ? 'No preemption victims found for incoming pod' : 'Preemption is not helpful for scheduling';
    preemption.set(why, (preemption.get(why) ?? 0) + 1);
  }
  return `${message} preemption: 0/${totalNodes} nodes are available: ${histogram(preemption).join(', ')}.`;
}
