// kubectl's pod row (printPod): READY, STATUS, RESTARTS, AGE and the wide
// IP, NODE, NOMINATED NODE, READINESS GATES; plus the pod's QoS class.
import { parseQuantity } from '../../api/quantity.ts';
import { timeSince } from '../../api/time.ts';
import type { KubeObject } from '../../api/types.ts';
import { age, col, ageColumn, type Json } from './helpers.ts';
import type { TableColumn } from './types.ts';

/** The reason the node lifecycle controller gives pods on a lost node. */
const NODE_UNREACHABLE_REASON = 'NodeLost';

export const podColumns: TableColumn[] = [
  col('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
  col('Status', 'The aggregate status of the containers in this pod.'),
  col(
    'Restarts',
    'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.',
  ),
  ageColumn(),
  col('IP', 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', { wide: true }),
  col('Node', 'NodeName indicates in which node this pod is scheduled.', { wide: true }),
  col('Nominated Node', 'nominatedNodeName is set only when this pod preempts other pods on the node.', { wide: true }),
  col('Readiness Gates', 'If specified, all readiness gates will be evaluated for pod readiness.', { wide: true }),
];

const isRestartableInit = (c: Json) => c?.restartPolicy === 'Always';
const finishedAt = (cs: Json): number => {
  const t = cs?.lastState?.terminated?.finishedAt;
  return t ? Date.parse(t) : 0;
};

/** Cells after NAME, exactly as kubectl's printPod computes them (wide included). */
export function podCells(pod: KubeObject, now: Date): unknown[] {
  const spec: Json = pod.spec ?? {};
  const status: Json = pod.status ?? {};
  const conditions: Json[] = status.conditions ?? [];
  let restarts = 0;
  let restartableInitRestarts = 0;
  let totalContainers = (spec.containers ?? []).length;
  let readyContainers = 0;
  let lastRestart = 0;
  let lastRestartableInitRestart = 0;

  let reason: string = status.reason || status.phase || '';
  if (conditions.some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) reason = 'SchedulingGated';

  const initSpecs = new Map<string, Json>();
  for (const c of spec.initContainers ?? []) {
    initSpecs.set(c.name, c);
    if (isRestartableInit(c)) totalContainers++;
  }

  let initializing = false;
  const initStatuses: Json[] = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const cs = initStatuses[i];
    const state = cs.state ?? {};
    restarts += cs.restartCount ?? 0;
    lastRestart = Math.max(lastRestart, finishedAt(cs));
    const restartable = isRestartableInit(initSpecs.get(cs.name));
    if (restartable) {
      restartableInitRestarts += cs.restartCount ?? 0;
      lastRestartableInitRestart = Math.max(lastRestartableInitRestart, finishedAt(cs));
    }
    if (state.terminated && (state.terminated.exitCode ?? 0) === 0) continue;
    if (restartable && cs.started === true) {
      if (cs.ready) readyContainers++;
      continue;
    }
    if (state.terminated) {
      const t = state.terminated;
      if (!t.reason) reason = t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode ?? 0}`;
      else reason = `Init:${t.reason}`;
    } else if (state.waiting?.reason && state.waiting.reason !== 'PodInitializing') {
      reason = `Init:${state.waiting.reason}`;
    } else {
      reason = `Init:${i}/${(spec.initContainers ?? []).length}`;
    }
    initializing = true;
    break;
  }

  const initialized = conditions.some((c) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initialized) {
    restarts = restartableInitRestarts;
    lastRestart = lastRestartableInitRestart;
    let hasRunning = false;
    const statuses: Json[] = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const cs = statuses[i];
      const state = cs.state ?? {};
      restarts += cs.restartCount ?? 0;
      lastRestart = Math.max(lastRestart, finishedAt(cs));
      if (state.waiting?.reason) reason = state.waiting.reason;
      else if (state.terminated?.reason) reason = state.terminated.reason;
      else if (state.terminated) {
        reason = state.terminated.signal ? `Signal:${state.terminated.signal}` : `ExitCode:${state.terminated.exitCode ?? 0}`;
      } else if (cs.ready && state.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      reason = conditions.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
    }
  }

  const terminal = status.phase === 'Succeeded' || status.phase === 'Failed';
  if (pod.metadata.deletionTimestamp && status.reason === NODE_UNREACHABLE_REASON) reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp && !terminal) reason = 'Terminating';

  let restartsCell = String(restarts);
  if (restarts !== 0 && lastRestart > 0) restartsCell = `${restarts} (${timeSince(new Date(lastRestart).toISOString(), now)} ago)`;

  const podIP = status.podIPs?.[0]?.ip || status.podIP || '<none>';
  let gates = '<none>';
  const readinessGates: Json[] = spec.readinessGates ?? [];
  if (readinessGates.length > 0) {
    let trueCount = 0;
    for (const g of readinessGates) {
      const c = conditions.find((x) => x.type === g.conditionType);
      if (c?.status === 'True') trueCount++;
    }
    gates = `${trueCount}/${readinessGates.length}`;
  }
  return [
    `${readyContainers}/${totalContainers}`,
    reason,
    restartsCell,
    age(pod, now),
    podIP,
    spec.nodeName || '<none>',
    status.nominatedNodeName || '<none>',
    gates,
  ];
}

const QOS_RESOURCES = ['cpu', 'memory'];

/** qos.GetPodQOS: Guaranteed, Burstable or BestEffort from containers' cpu/memory requests and limits. */
export function podQOSClass(spec: Json): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers: Json[] = [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
  const requests = new Map<string, number>();
  const limits = new Map<string, number>();
  let isGuaranteed = true;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const r of QOS_RESOURCES) {
      const rq = parseQuantity(req[r]);
      if (rq !== undefined && rq !== 0) requests.set(r, (requests.get(r) ?? 0) + rq);
      const lq = parseQuantity(lim[r]);
      if (lq !== undefined && lq !== 0) limits.set(r, (limits.get(r) ?? 0) + lq);
    }
    const limited = QOS_RESOURCES.filter((r) => (parseQuantity(lim[r]) ?? 0) !== 0);
    if (limited.length !== QOS_RESOURCES.length) isGuaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (isGuaranteed) {
    for (const [r, v] of requests) if (limits.get(r) !== v) isGuaranteed = false;
  }
  return isGuaranteed && limits.size === QOS_RESOURCES.length ? 'Guaranteed' : 'Burstable';
}
