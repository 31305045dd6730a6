// Taints the node lifecycle controller owns, and taint-based eviction (pure):
// which taints a node's conditions call for, whether a pod tolerates a taint,
// and when a pod on a NoExecute-tainted node must go.
import type { KubeObject } from '../api/types.ts';
import { conditionOf } from './node-health.ts';

export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';

export type Taint = { key: string; value?: string; effect: string; timeAdded?: string };
export type Toleration = { key?: string; operator?: string; value?: string; effect?: string; tolerationSeconds?: number };

/** NoSchedule taints that follow a condition (TaintNodesByCondition): condition type and status → taint key. */
const CONDITION_TAINTS: [type: string, status: string, key: string][] = [
  ['Ready', 'False', TAINT_NOT_READY],
  ['Ready', 'Unknown', TAINT_UNREACHABLE],
  ['MemoryPressure', 'True', 'node.kubernetes.io/memory-pressure'],
  ['DiskPressure', 'True', 'node.kubernetes.io/disk-pressure'],
  ['PIDPressure', 'True', 'node.kubernetes.io/pid-pressure'],
  ['NetworkUnavailable', 'True', 'node.kubernetes.io/network-unavailable'],
];

/** Every (key, effect) this controller adds and removes; other taints are the user's and left alone. */
const MANAGED = new Set([
  ...CONDITION_TAINTS.map(([, , key]) => `${key}:NoSchedule`),
  `${TAINT_UNSCHEDULABLE}:NoSchedule`,
  `${TAINT_NOT_READY}:NoExecute`,
  `${TAINT_UNREACHABLE}:NoExecute`,
]);
const id = (t: Taint) => `${t.key}:${t.effect}`;

export function taintsOf(node: KubeObject): Taint[] {
  return (node.spec?.taints as Taint[] | undefined) ?? [];
}

/** The NoExecute taint a node's Ready condition calls for (none when Ready is True). */
export function noExecuteTaintFor(node: KubeObject): Taint | undefined {
  const ready = conditionOf(node, 'Ready')?.status ?? 'Unknown';
  if (ready === 'False') return { key: TAINT_NOT_READY, effect: 'NoExecute' };
  if (ready === 'Unknown') return { key: TAINT_UNREACHABLE, effect: 'NoExecute' };
  return undefined;
}

/** The controller-owned taints a node should carry now. */
export function desiredTaints(node: KubeObject, options: { noExecute: boolean }): Taint[] {
  const out: Taint[] = [];
  for (const [type, status, key] of CONDITION_TAINTS) {
    const condition = conditionOf(node, type);
    // A node that never posted Ready counts as Unknown; missing pressure conditions taint nothing.
    if ((condition?.status ?? (type === 'Ready' ? 'Unknown' : '')) === status) out.push({ key, effect: 'NoSchedule' });
  }
  if (node.spec?.unschedulable) out.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
  const noExecute = noExecuteTaintFor(node);
  if (options.noExecute && noExecute) out.push(noExecute);
  return out;
}

/**
 * The node's taints with the controller-owned ones set to `desired`: taints
 * kept keep their timeAdded, new ones get `now`, the user's are untouched.
 * Undefined when nothing changes.
 */
export function applyTaints(current: Taint[], desired: Taint[], now: Date): Taint[] | undefined {
  const stamp = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const wanted = new Set(desired.map(id));
  const kept = current.filter((t) => !MANAGED.has(id(t)) || wanted.has(id(t)));
  const have = new Set(kept.map(id));
  const added = desired.filter((t) => !have.has(id(t))).map((t) => ({ ...t, timeAdded: stamp }));
  if (added.length === 0 && kept.length === current.length) return undefined;
  return [...kept, ...added];
}

/** Whether adding `desired` NoExecute taint is new tainting (rate limited) rather than a swap of one we own (instant). */
export function isNewNoExecuteTaint(current: Taint[], desired: Taint[]): boolean {
  const owned = (t: Taint) => t.effect === 'NoExecute' && (t.key === TAINT_NOT_READY || t.key === TAINT_UNREACHABLE);
  return desired.some(owned) && !current.some(owned);
}

/** v1 ToleratesTaint. */
export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  if (toleration.operator === 'Exists') return true;
  if (!toleration.operator || toleration.operator === 'Equal') return (toleration.value ?? '') === (taint.value ?? '');
  return false;
}

/**
 * When (ms) the pod must be deleted because of its node's NoExecute taints:
 * at once if one is not tolerated, else when the shortest tolerationSeconds of
 * the tolerations used runs out, counted from when the taint appeared
 * (`taintSince`) or the pod arrived, whichever is later. Undefined: tolerated
 * forever.
 */
export function evictionTime(pod: KubeObject, taints: Taint[], options: { now: number; taintSince(t: Taint): number }): number | undefined {
  const noExecute = taints.filter((t) => t.effect === 'NoExecute');
  if (noExecute.length === 0) return undefined;
  const tolerations: Toleration[] = pod.spec?.tolerations ?? [];
  const arrived = podArrival(pod) ?? options.now;
  let deadline: number | undefined;
  for (const taint of noExecute) {
    const used = tolerations.find((t) => tolerates(t, taint));
    if (!used) return options.now;
    if (used.tolerationSeconds === undefined || used.tolerationSeconds === null) continue;
    const start = Math.max(options.taintSince(taint), arrived);
    const at = start + Math.max(0, used.tolerationSeconds) * 1000;
    deadline = deadline === undefined ? at : Math.min(deadline, at);
  }
  return deadline;
}

/** When the pod was bound to its node (PodScheduled), else when it was created. */
function podArrival(pod: KubeObject): number | undefined {
  const scheduled = (pod.status?.conditions as { type: string; status: string; lastTransitionTime?: string }[] | undefined)?.find(
    (c) => c.type === 'PodScheduled' && c.status === 'True',
  );
  const ms = Date.parse(scheduled?.lastTransitionTime ?? pod.metadata.creationTimestamp ?? '');
  return Number.isNaN(ms) ? undefined : ms;
}
