// One scheduling decision, as kube-scheduler's schedulePod: filter nodes
// (stopping once enough feasible ones are found in a large cluster), score
// them, pick the best with a random tie-break. Pure apart from `random`.
import type { KubeObject } from '../api/types.ts';
import type { NodeInfo, SchedulerCache } from './cache.ts';
import { controllerOwner, hostPorts } from './cache.ts';
import { type FilterInput, type NodeFailure, filterNode, fitErrorMessage } from './filters.ts';
import { affinityState, hasPodAffinityWork } from './pod-affinity.ts';
import { podRequests } from './resources.ts';
import { scoreNodes } from './scores.ts';

/** kube-scheduler's minFeasibleNodesToFind: small clusters always look at every node. */
const MIN_FEASIBLE_NODES = 100;
/** kube-scheduler's floor for the adaptive percentage of nodes to score. */
const MIN_FEASIBLE_PERCENT = 5;

/** How many feasible nodes are enough (percentageOfNodesToScore's adaptive default: 50% − nodes/125). */
export function feasibleNodesToFind(total: number): number {
  if (total < MIN_FEASIBLE_NODES) return total;
  const percent = Math.max(MIN_FEASIBLE_PERCENT, 50 - Math.floor(total / 125));
  return Math.max(MIN_FEASIBLE_NODES, Math.floor((total * percent) / 100));
}

export type ScheduleResult =
  | { node: string; evaluated: number; feasible: number }
  | { node?: undefined; message: string; failures: NodeFailure[] };

export type ScheduleOptions = {
  /** Where to start looking, so consecutive pods do not all examine the same first nodes. */
  startIndex: number;
  random?: () => number;
};

export function schedulePod(pod: KubeObject, cache: SchedulerCache, options: ScheduleOptions): ScheduleResult {
  const nodes = cache.nodes();
  const total = nodes.length;
  const random = options.random ?? Math.random;
  const withAnti = [...cache.podsWithAntiAffinity()];
  const input: FilterInput = {
    pod,
    requests: podRequests(pod),
    ports: hostPorts(pod),
    affinity: hasPodAffinityWork(pod, withAnti.length)
      ? affinityState(pod, cache.pods(), withAnti, (name) => cache.node(name)?.node)
      : undefined,
  };
  const wanted = feasibleNodesToFind(total);
  const feasible: NodeInfo[] = [];
  const failures: NodeFailure[] = [];
  let evaluated = 0;
  for (; evaluated < total && feasible.length < wanted; evaluated++) {
    const info = nodes[(options.startIndex + evaluated) % total];
    const failure = filterNode(input, info);
    if (failure) failures.push(failure);
    else feasible.push(info);
  }
  if (feasible.length === 0) return { message: fitErrorMessage(pod, total, failures), failures };
  if (feasible.length === 1) return { node: feasible[0].name, evaluated, feasible: 1 };
  const scores = scoreNodes(pod, podRequests(pod, { nonZero: true }), controllerOwner(pod), feasible);
  // Reservoir sampling among the top scores: every best node equally likely.
  let best = -1;
  let chosen = 0;
  let ties = 0;
  for (let i = 0; i < scores.length; i++) {
    if (scores[i] > best) {
      best = scores[i];
      chosen = i;
      ties = 1;
    } else if (scores[i] === best && random() * ++ties < 1) {
      chosen = i;
    }
  }
  return { node: feasible[chosen].name, evaluated, feasible: feasible.length };
}
