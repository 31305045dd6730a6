// Pod status as the kubelet reports it (generateAPIPodStatus): container
// statuses from the runs and the sync's waiting reasons, the phase, and the
// conditions. Pure.
import type { KubeObject } from '../../api/types.ts';
import { MAX_POD_TERMINATION_MESSAGE_BYTES } from './constants.ts';
import {
  appContainers,
  type ContainerSpec,
  type ContainerView,
  type Instance,
  initContainers,
  isSidecar,
} from './model.ts';

export type Waiting = { reason: string; message?: string };

/** What the sync and the prober know beyond the runtime's state, per container name. */
export type ContainerExtras = {
  waiting?: Waiting;
  /** Readiness (false until a readiness probe succeeds; true without one). */
  ready?: boolean;
  /** Startup probe passed (true without one). */
  started?: boolean;
  /** Termination messages by container id. */
  messages?: Map<string, string>;
};

const runtimeId = (id: string) => `runc://${id}`;

export function terminatedState(i: Instance, message?: string) {
  const exitCode = i.exitCode ?? 0;
  return {
    terminated: {
      exitCode,
      reason: i.oomKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error',
      ...(message ? { message } : {}),
      startedAt: i.startedAt ?? null,
      finishedAt: i.finishedAt ?? null,
      containerID: runtimeId(i.id),
    },
  };
}

/** One entry of containerStatuses / initContainerStatuses. */
export function containerStatus(
  c: ContainerSpec,
  view: ContainerView | undefined,
  extras: ContainerExtras,
  defaultWaiting: string,
) {
  const cur = view?.current;
  const messages = extras.messages ?? new Map<string, string>();
  const base = {
    name: c.name,
    image: cur?.image || c.image || '',
    imageID: cur?.imageId ?? '',
    ...(cur ? { containerID: runtimeId(cur.id) } : {}),
    restartCount: cur?.restartCount ?? 0,
  };
  let state: Record<string, unknown>;
  let lastState: Record<string, unknown> = {};
  const running = cur?.status === 'running';
  if (!cur) {
    state = { waiting: extras.waiting ?? { reason: defaultWaiting } };
  } else if (extras.waiting) {
    // Waiting to run again (CrashLoopBackOff, a failed pull of a new image): the last run is lastState.
    state = { waiting: extras.waiting };
    if (cur.status === 'stopped') lastState = terminatedState(cur, messages.get(cur.id));
    else if (view?.previous) lastState = terminatedState(view.previous, messages.get(view.previous.id));
  } else if (cur.status === 'created') {
    state = { waiting: { reason: 'ContainerCreating' } };
  } else if (running) {
    state = { running: { startedAt: cur.startedAt ?? null } };
  } else {
    state = terminatedState(cur, messages.get(cur.id));
  }
  if (!extras.waiting && cur && view?.previous)
    lastState = terminatedState(view.previous, messages.get(view.previous.id));
  const started = running && extras.started !== false;
  return {
    ...base,
    state,
    lastState,
    ready: running && started && extras.ready !== false,
    started,
  };
}

type Status = ReturnType<typeof containerStatus>;
const terminatedOf = (s: Status) => (s.state as { terminated?: { exitCode: number } }).terminated;
const lastTerminatedOf = (s: Status) => (s.lastState as { terminated?: { exitCode: number } }).terminated;

/** The pod phase from its container statuses (kubelet's getPhase). */
export function podPhase(pod: KubeObject, init: Status[], app: Status[]): string {
  const restartPolicy = pod.spec?.restartPolicy ?? 'Always';
  const specInit = initContainers(pod);
  let pendingInit = 0;
  let failedInit = 0;
  init.forEach((s, idx) => {
    const sidecar = specInit[idx] && isSidecar(specInit[idx]);
    const term = terminatedOf(s);
    if (s.state && 'running' in s.state) {
      if (!sidecar || !s.started) pendingInit++;
    } else if (term) {
      if (term.exitCode !== 0) failedInit++;
      else if (sidecar) pendingInit++;
    } else if (lastTerminatedOf(s) && lastTerminatedOf(s)!.exitCode !== 0) {
      failedInit++;
    } else {
      pendingInit++;
    }
  });
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const s of app) {
    const term = terminatedOf(s) ?? ('waiting' in s.state ? lastTerminatedOf(s) : undefined);
    if ('running' in s.state) running++;
    else if (term) {
      stopped++;
      if (term.exitCode === 0) succeeded++;
    } else waiting++;
  }
  if (failedInit > 0 && restartPolicy === 'Never') return 'Failed';
  if (pendingInit > 0 || failedInit > 0) return 'Pending';
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    return restartPolicy === 'Never' ? 'Failed' : 'Running';
  }
  return 'Pending';
}

export type Condition = {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastProbeTime: null;
  lastTransitionTime: string;
};

/** Conditions the kubelet owns; others (PodScheduled, readiness gates, DisruptionTarget) are kept as they are. */
export const KUBELET_CONDITIONS = ['PodReadyToStartContainers', 'Initialized', 'ContainersReady', 'Ready'];

const names = (list: Status[]) => `[${list.map((s) => s.name).join(' ')}]`;

export function podConditions(args: {
  pod: KubeObject;
  phase: string;
  init: Status[];
  app: Status[];
  sandboxReady: boolean;
  now: string;
}): Condition[] {
  const { pod, phase, init, app, now } = args;
  const previous: Condition[] = pod.status?.conditions ?? [];
  const make = (type: string, ok: boolean, reason?: string, message?: string): Condition => {
    const status = ok ? 'True' : 'False';
    const before = previous.find((c) => c.type === type);
    const since = before && before.status === status ? before.lastTransitionTime : now;
    return {
      type,
      status,
      ...(reason ? { reason } : {}),
      ...(message ? { message } : {}),
      lastProbeTime: null,
      lastTransitionTime: since,
    };
  };
  const specInit = initContainers(pod);
  const incompleteInit = init.filter((s, i) => {
    if (specInit[i] && isSidecar(specInit[i])) return !s.started;
    return terminatedOf(s)?.exitCode !== 0;
  });
  const initialized = incompleteInit.length === 0 || phase === 'Succeeded';
  const unready = [
    ...init.filter((s, i) => specInit[i] && isSidecar(specInit[i]) && !s.ready),
    ...app.filter((s) => !s.ready),
  ];
  const done = phase === 'Succeeded' || phase === 'Failed';
  const containersReady = !done && unready.length === 0;
  const gates: { conditionType: string }[] = pod.spec?.readinessGates ?? [];
  const gatesMissing = gates.filter((g) => previous.find((c) => c.type === g.conditionType)?.status !== 'True');
  let readyReason: string | undefined;
  let readyMessage: string | undefined;
  if (done) readyReason = 'PodCompleted';
  else if (!containersReady) {
    readyReason = 'ContainersNotReady';
    readyMessage = `containers with unready status: ${names(unready)}`;
  } else if (gatesMissing.length > 0) {
    readyReason = 'ReadinessGatesNotReady';
    readyMessage = `corresponding condition of pod readiness gate ${gatesMissing.map((g) => `"${g.conditionType}"`).join(', ')} does not exist.`;
  }
  return [
    make('PodReadyToStartContainers', args.sandboxReady && !done),
    initialized
      ? make('Initialized', true, done && incompleteInit.length > 0 ? 'PodCompleted' : undefined)
      : make(
          'Initialized',
          false,
          'ContainersNotInitialized',
          `containers with incomplete status: ${names(incompleteInit)}`,
        ),
    make('Ready', containersReady && gatesMissing.length === 0, readyReason, readyMessage),
    containersReady
      ? make('ContainersReady', true)
      : make(
          'ContainersReady',
          false,
          done ? 'PodCompleted' : 'ContainersNotReady',
          done ? undefined : `containers with unready status: ${names(unready)}`,
        ),
  ];
}

/** Merges the kubelet's conditions into those others own (PodScheduled first, as Kubernetes orders them). */
export function mergeConditions(existing: Condition[], ours: Condition[]): Condition[] {
  const others = existing.filter((c) => !KUBELET_CONDITIONS.includes(c.type));
  return [...ours, ...others];
}

export type PodStatusInput = {
  pod: KubeObject;
  views: Map<string, ContainerView>;
  extras: (name: string) => ContainerExtras;
  sandboxReady: boolean;
  podIp?: string;
  hostIp: string;
  now: string;
  /** Forced phase (e.g. Failed after init failed for good). */
  phase?: string;
};

/** The whole status the kubelet writes (a merge-patch body). */
export function podStatus(input: PodStatusInput) {
  const { pod, views } = input;
  const hasInit = initContainers(pod).length > 0;
  const defaultWaiting = hasInit ? 'PodInitializing' : 'ContainerCreating';
  const init = initContainers(pod).map((c) =>
    containerStatus(c, views.get(c.name), input.extras(c.name), defaultWaiting),
  );
  const app = appContainers(pod).map((c) =>
    containerStatus(c, views.get(c.name), input.extras(c.name), defaultWaiting),
  );
  const perContainer = Math.floor(MAX_POD_TERMINATION_MESSAGE_BYTES / Math.max(1, init.length + app.length));
  for (const st of [...init, ...app]) {
    for (const state of [st.state, st.lastState]) {
      const t = (state as { terminated?: { message?: string } }).terminated;
      if (t?.message) t.message = truncateBytes(t.message, perContainer);
    }
  }
  const phase = input.phase ?? podPhase(pod, init, app);
  const conditions = mergeConditions(
    pod.status?.conditions ?? [],
    podConditions({ pod, phase, init, app, sandboxReady: input.sandboxReady, now: input.now }),
  );
  return {
    phase,
    conditions,
    hostIP: input.hostIp,
    hostIPs: [{ ip: input.hostIp }],
    ...(input.podIp ? { podIP: input.podIp, podIPs: [{ ip: input.podIp }] } : {}),
    startTime: pod.status?.startTime ?? input.now,
    ...(hasInit ? { initContainerStatuses: init } : {}),
    containerStatuses: app,
  };
}

/** The first `max` bytes of a UTF-8 string (as kubelet slices a message's bytes). Pure. */
export function truncateBytes(text: string, max: number): string {
  const bytes = Buffer.from(text);
  return bytes.length <= max ? text : bytes.subarray(0, max).toString();
}
