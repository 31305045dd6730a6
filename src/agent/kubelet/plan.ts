// What one sync of a pod should do (kubelet's computePodActions), from the
// spec, the containers' runs and the back-off book. Pure.
import type { KubeObject } from '../../api/types.ts';
import { type BackoffEntry, backoffUntil } from './backoff.ts';
import { CRASH_BACKOFF_INITIAL_MS, CRASH_BACKOFF_MAX_MS, CRASH_BACKOFF_RESET_AFTER_MS } from './constants.ts';
import {
  appContainers,
  type ContainerSpec,
  type ContainerType,
  type ContainerView,
  initContainers,
  isSidecar,
  shouldRestart,
  specHash,
} from './model.ts';

export const CRASH_BACKOFF = {
  initialMs: CRASH_BACKOFF_INITIAL_MS,
  maxMs: CRASH_BACKOFF_MAX_MS,
  resetAfterRunMs: CRASH_BACKOFF_RESET_AFTER_MS,
};

export type KillReason = 'spec-changed' | 'liveness' | 'startup' | 'pod-failed' | 'pod-done';
export type StartAction = {
  name: string;
  type: ContainerType /** A run after an earlier one (counts toward restartCount and back-off). */;
  restart: boolean;
};
export type KillAction = { id: string; name: string; reason: KillReason };
export type BackoffWait = { name: string; type: ContainerType; until: number; delayMs: number };

export type PodActions = {
  kill: KillAction[];
  start: StartAction[];
  /** Containers waiting out CrashLoopBackOff. */
  backoff: BackoffWait[];
  /** The pod has nothing left to run and is Failed (init failed with restartPolicy Never). */
  failed: boolean;
};

export type PlanInput = {
  pod: KubeObject;
  views: Map<string, ContainerView>;
  now: number;
  /** Back-off entries by container name. */
  backoff: (name: string) => BackoffEntry | undefined;
  /** Running container ids whose liveness (or startup) probe says restart. */
  unhealthy: Map<string, 'liveness' | 'startup'>;
};

const finishedMs = (v: ContainerView) => Date.parse(v.current?.finishedAt ?? '') || 0;

/** Start now, or wait out the back-off: for a container whose last run stopped and must run again. */
function restartOrWait(input: PlanInput, c: ContainerSpec, type: ContainerType, out: PodActions): void {
  const view = input.views.get(c.name);
  const entry = input.backoff(c.name);
  const until = view ? backoffUntil(entry, finishedMs(view), input.now, CRASH_BACKOFF) : undefined;
  if (until !== undefined && entry) out.backoff.push({ name: c.name, type, until, delayMs: entry.delayMs });
  else out.start.push({ name: c.name, type, restart: Boolean(view?.current) });
}

/** Kill running instances whose spec changed or whose probes failed. */
function killUnhealthy(input: PlanInput, c: ContainerSpec, out: PodActions): boolean {
  const cur = input.views.get(c.name)?.current;
  if (cur?.status !== 'running') return false;
  const probe = input.unhealthy.get(cur.id);
  if (probe) out.kill.push({ id: cur.id, name: c.name, reason: probe });
  else if (cur.specHash && cur.specHash !== specHash(c))
    out.kill.push({ id: cur.id, name: c.name, reason: 'spec-changed' });
  else return false;
  return true;
}

/** Walks init containers in order; true once every one has done its part (succeeded, or a sidecar started). */
function planInit(input: PlanInput, out: PodActions): boolean {
  const restartPolicy = input.pod.spec?.restartPolicy;
  for (const c of initContainers(input.pod)) {
    const cur = input.views.get(c.name)?.current;
    if (isSidecar(c)) {
      if (killUnhealthy(input, c, out)) return false;
      if (!cur) {
        out.start.push({ name: c.name, type: 'init', restart: false });
        return false;
      }
      if (cur.status === 'stopped') {
        restartOrWait(input, c, 'init', out);
        return false;
      }
      if (cur.status === 'created') return false;
      continue; // running: the next init container may start
    }
    if (!cur) {
      out.start.push({ name: c.name, type: 'init', restart: false });
      return false;
    }
    if (cur.status !== 'stopped') return false;
    if (cur.exitCode === 0) continue;
    if (restartPolicy === 'Never') {
      out.failed = true;
      return false;
    }
    restartOrWait(input, c, 'init', out);
    return false;
  }
  return true;
}

export function planPod(input: PlanInput): PodActions {
  const out: PodActions = { kill: [], start: [], backoff: [], failed: false };
  const initDone = planInit(input, out);
  if (out.failed) {
    // Nothing more runs: stop what still does (sidecars).
    for (const v of input.views.values()) {
      if (v.current?.status === 'running')
        out.kill.push({ id: v.current.id, name: v.current.name, reason: 'pod-failed' });
    }
    return out;
  }
  if (!initDone) return out;
  const restartPolicy = input.pod.spec?.restartPolicy;
  let appsRunning = false;
  for (const c of appContainers(input.pod)) {
    if (killUnhealthy(input, c, out)) continue;
    const cur = input.views.get(c.name)?.current;
    if (!cur || cur.status === 'created')
      out.start.push({ name: c.name, type: 'app', restart: Boolean(cur && cur.restartCount > 0) });
    else if (cur.status === 'running') appsRunning = true;
    else if (shouldRestart(restartPolicy, cur.exitCode)) restartOrWait(input, c, 'app', out);
  }
  // Every app container finished for good: sidecars are stopped too (kubelet does this for Job pods).
  if (
    !appsRunning &&
    out.start.length === 0 &&
    out.backoff.length === 0 &&
    out.kill.length === 0 &&
    appContainers(input.pod).length > 0
  ) {
    for (const c of initContainers(input.pod).filter(isSidecar)) {
      const cur = input.views.get(c.name)?.current;
      if (cur?.status === 'running') out.kill.push({ id: cur.id, name: c.name, reason: 'pod-done' });
    }
    out.start = out.start.filter((s) => s.type !== 'init');
    out.backoff = out.backoff.filter((b) => b.type !== 'init');
  }
  return out;
}
