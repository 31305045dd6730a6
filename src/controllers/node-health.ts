// Node health as Kubernetes' node lifecycle controller judges it (pure): a
// node is alive while its kube-node-lease Lease is renewed or its Ready
// condition's lastHeartbeatTime changes, both timed by this controller's own
// clock (never the node's), so clock skew between machines does not matter.
// A node silent for longer than the grace period has its conditions set to
// Unknown.
import type { KubeObject } from '../api/types.ts';

/** Where nodes keep their heartbeat Leases. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
/** kube-controller-manager's --node-monitor-grace-period default in 1.32: four missed 10 s lease renewals. */
export const DEFAULT_NODE_MONITOR_GRACE_PERIOD_MS = 40_000;
/** --node-startup-grace-period: a node that never posted status gets this long after creation. */
export const DEFAULT_NODE_STARTUP_GRACE_PERIOD_MS = 60_000;
/** Conditions the controller turns Unknown (NetworkUnavailable is left alone: the network plugin owns it). */
export const NODE_CONDITIONS_SET_UNKNOWN = ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'];

export type NodeCondition = {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastHeartbeatTime?: string;
  lastTransitionTime?: string;
};

/** What the controller remembers of a node between looks. */
export type NodeHealth = {
  /** When (our clock, ms) the node last showed a sign of life. */
  probeTimestamp: number;
  /** The Ready condition's lastHeartbeatTime as last seen; undefined when the node had no Ready condition. */
  readyHeartbeat?: string;
  /** The Lease's renewTime (ms) as last seen. */
  leaseRenewTime?: number;
};

export type GracePeriods = { monitorGraceMs: number; startupGraceMs: number };

export function conditionOf(node: KubeObject, type: string): NodeCondition | undefined {
  return (node.status?.conditions as NodeCondition[] | undefined)?.find((c) => c.type === type);
}

/** "True", "False" or "Unknown" (a node that never reported is Unknown). */
export function readyStatus(node: KubeObject): string {
  return conditionOf(node, 'Ready')?.status ?? 'Unknown';
}

const parseTime = (t: string | undefined): number | undefined => {
  const ms = t ? Date.parse(t) : Number.NaN;
  return Number.isNaN(ms) ? undefined : ms;
};

/** Updates what we know of a node from its current status and Lease (tryUpdateNodeHealth's bookkeeping). */
export function observeNode(prev: NodeHealth | undefined, node: KubeObject, lease: KubeObject | undefined, now: number): NodeHealth {
  const ready = conditionOf(node, 'Ready');
  let health: NodeHealth;
  if (!ready) {
    // Never posted status: time it from creation, with the startup grace period.
    health = { probeTimestamp: prev?.probeTimestamp ?? parseTime(node.metadata.creationTimestamp) ?? now, leaseRenewTime: prev?.leaseRenewTime };
  } else if (!prev || prev.readyHeartbeat === undefined || prev.readyHeartbeat !== (ready.lastHeartbeatTime ?? '')) {
    health = { probeTimestamp: now, readyHeartbeat: ready.lastHeartbeatTime ?? '', leaseRenewTime: prev?.leaseRenewTime };
  } else {
    health = { ...prev };
  }
  const renewed = parseTime(lease?.spec?.renewTime);
  if (renewed !== undefined && (health.leaseRenewTime === undefined || renewed > health.leaseRenewTime)) {
    health.leaseRenewTime = renewed;
    health.probeTimestamp = now;
  }
  return health;
}

/** The grace period this node is entitled to. */
export function gracePeriodFor(node: KubeObject, grace: GracePeriods): number {
  return conditionOf(node, 'Ready') ? grace.monitorGraceMs : grace.startupGraceMs;
}

/** Milliseconds until the node counts as silent (≤ 0: it is silent now). */
export function msUntilSilent(health: NodeHealth, node: KubeObject, grace: GracePeriods, now: number): number {
  return health.probeTimestamp + gracePeriodFor(node, grace) - now;
}

/**
 * The conditions of a node that has gone silent: Ready and the pressure
 * conditions Unknown ("Kubelet stopped posting node status."), missing ones
 * added as never updated. Undefined when nothing changes.
 */
export function silentNodeConditions(node: KubeObject, now: Date): NodeCondition[] | undefined {
  const stamp = now.toISOString().replace(/\.\d+Z$/, 'Z');
  const conditions: NodeCondition[] = ((node.status?.conditions as NodeCondition[] | undefined) ?? []).map((c) => ({ ...c }));
  let changed = false;
  for (const type of NODE_CONDITIONS_SET_UNKNOWN) {
    const current = conditions.find((c) => c.type === type);
    if (!current) {
      conditions.push({
        type,
        status: 'Unknown',
        reason: 'NodeStatusNeverUpdated',
        message: 'Kubelet never posted node status.',
        lastHeartbeatTime: node.metadata.creationTimestamp,
        lastTransitionTime: stamp,
      });
      changed = true;
    } else if (current.status !== 'Unknown') {
      Object.assign(current, {
        status: 'Unknown',
        reason: 'NodeStatusUnknown',
        message: 'Kubelet stopped posting node status.',
        lastTransitionTime: stamp,
      });
      changed = true;
    }
  }
  return changed ? conditions : undefined;
}

/** Label that keeps a node out of the all-nodes-down check (Kubernetes' node.kubernetes.io/exclude-disruption). */
const EXCLUDE_DISRUPTION_LABEL = 'node.kubernetes.io/exclude-disruption';

export function excludedFromDisruption(node: KubeObject): boolean {
  return Boolean(node.metadata.labels && EXCLUDE_DISRUPTION_LABEL in node.metadata.labels);
}

/**
 * True when every node is not Ready: then the control plane, not the nodes, has
 * most likely lost touch, and Kubernetes evicts nothing ("master disruption mode").
 */
export function allNodesDown(nodes: KubeObject[]): boolean {
  const counted = nodes.filter((n) => !excludedFromDisruption(n));
  return counted.length > 0 && counted.every((n) => readyStatus(n) !== 'True');
}

/** Go-style durations as kube-controller-manager's flags take them: "40s", "500ms", "1m30s". */
export function parseDuration(text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) throw new Error(`not a duration (like 40s, 500ms, 1m30s): ${text}`);
  return parts.reduce((ms, [, n, unit]) => ms + Number(n) * units[unit], 0);
}

type PodCondition = { type: string; status: string; lastTransitionTime?: string; reason?: string; message?: string };

/** The pod's conditions with Ready turned False (MarkPodsNotReady); undefined when it is not Ready=True now. */
export function podNotReadyConditions(pod: KubeObject, now: Date): PodCondition[] | undefined {
  const conditions: PodCondition[] = pod.status?.conditions ?? [];
  const ready = conditions.find((c) => c.type === 'Ready');
  if (ready?.status !== 'True') return undefined;
  const stamp = now.toISOString().replace(/\.\d+Z$/, 'Z');
  return conditions.map((c) => (c.type === 'Ready' ? { ...c, status: 'False', lastTransitionTime: stamp } : c));
}
