// Scores: among the nodes that fit, which is best? Each plugin gives 0..100
// per node and the weighted sum decides, with kube-scheduler's default
// weights. Pure functions.
import type { KubeObject } from '../api/types.ts';
import { intolerablePreferNoSchedule, preferredAffinityWeight } from './affinity.ts';
import type { NodeInfo } from './cache.ts';
import type { Resources } from './resources.ts';

export const MAX_NODE_SCORE = 100;
/** kube-scheduler's default plugin weights (v1 KubeSchedulerConfiguration defaults). */
export const WEIGHTS = { leastAllocated: 1, balanced: 1, spread: 2, nodeAffinity: 2, taints: 3 };

/** NodeResourcesFit LeastAllocated: the more cpu and memory left after placing the pod, the better. */
export function leastAllocatedScore(nonZero: Resources, info: NodeInfo): number {
  const part = (req: number, alloc: number) => (alloc <= 0 || req > alloc ? 0 : ((alloc - req) * MAX_NODE_SCORE) / alloc);
  const cpu = part(info.nonZeroRequested.cpu + nonZero.cpu, info.allocatable.cpu);
  const memory = part(info.nonZeroRequested.memory + nonZero.memory, info.allocatable.memory);
  return Math.floor((cpu + memory) / 2);
}

/** NodeResourcesBalancedAllocation: cpu and memory used in equal proportion is best. */
export function balancedAllocationScore(nonZero: Resources, info: NodeInfo): number {
  const fraction = (req: number, alloc: number) => (alloc <= 0 ? 1 : Math.min(1, req / alloc));
  const cpu = fraction(info.nonZeroRequested.cpu + nonZero.cpu, info.allocatable.cpu);
  const memory = fraction(info.nonZeroRequested.memory + nonZero.memory, info.allocatable.memory);
  const std = Math.abs(cpu - memory) / 2;
  return Math.floor((1 - std) * MAX_NODE_SCORE);
}

/**
 * Spreading pods of one owner (PodTopologySpread's default constraint on
 * hostname): fewer pods of the same owner on a node score higher.
 */
export function spreadScores(owner: string | undefined, infos: NodeInfo[]): number[] {
  if (!owner) return infos.map(() => MAX_NODE_SCORE);
  const counts = infos.map((i) => i.owners.get(owner) ?? 0);
  const max = Math.max(0, ...counts);
  return counts.map((c) => (max === 0 ? MAX_NODE_SCORE : Math.floor(((max - c) * MAX_NODE_SCORE) / max)));
}

/** Scales raw values so the best node gets 100 (kube-scheduler's DefaultNormalizeScore); `reverse` when less is better. */
export function normalize(raw: number[], reverse = false): number[] {
  const max = Math.max(0, ...raw);
  if (max === 0) return raw.map(() => (reverse ? MAX_NODE_SCORE : 0));
  return raw.map((v) => {
    const s = Math.floor((v * MAX_NODE_SCORE) / max);
    return reverse ? MAX_NODE_SCORE - s : s;
  });
}

/** The weighted total per feasible node, in the order given. */
export function scoreNodes(pod: KubeObject, nonZero: Resources, owner: string | undefined, infos: NodeInfo[]): number[] {
  const spread = spreadScores(owner, infos);
  const hasPreferred = (pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []).length > 0;
  const affinity = hasPreferred ? normalize(infos.map((i) => preferredAffinityWeight(pod, i.node))) : undefined;
  const taints = normalize(infos.map((i) => intolerablePreferNoSchedule(pod, i.node)), true);
  return infos.map(
    (info, i) =>
      WEIGHTS.leastAllocated * leastAllocatedScore(nonZero, info) +
      WEIGHTS.balanced * balancedAllocationScore(nonZero, info) +
      WEIGHTS.spread * spread[i] +
      WEIGHTS.nodeAffinity * (affinity?.[i] ?? 0) +
      WEIGHTS.taints * taints[i],
  );
}
