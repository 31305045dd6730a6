// Runs liveness, readiness and startup probes for running containers, one
// loop per (container run, probe), and keeps their results for the pod
// workers: ready, started, and "restart this one".
import type { KubeObject } from '../../api/types.ts';
import type { EventRecorder } from '../../client/index.ts';
import { sleep } from '../../client/index.ts';
import type { Logger } from '../../lib/log.ts';
import type { ContainerRuntime } from '../types.ts';
import { runHandler } from './handlers.ts';
import type { ContainerSpec } from './model.ts';
import {
  applyProbeOutcome,
  initialProbeState,
  type ProbeKind,
  type ProbeState,
  probeTiming,
  unhealthyMessage,
} from './probe-result.ts';

const KINDS: { kind: ProbeKind; field: string }[] = [
  { kind: 'startup', field: 'startupProbe' },
  { kind: 'liveness', field: 'livenessProbe' },
  { kind: 'readiness', field: 'readinessProbe' },
];

export type ProbeTarget = { id: string; container: ContainerSpec; podIp?: string };

export type ProberOptions = {
  runtime: ContainerRuntime;
  recorder: EventRecorder;
  /** A result changed: the pod's worker should sync. */
  onChange(podUid: string): void;
  signal: AbortSignal;
  log: Logger;
};

export class Prober {
  #options: ProberOptions;
  #loops = new Map<string, AbortController>();
  #states = new Map<string, ProbeState>();
  #byPod = new Map<string, Set<string>>();

  constructor(options: ProberOptions) {
    this.#options = options;
  }

  /** Probes exactly these running containers of the pod; loops of others stop. */
  sync(pod: KubeObject, targets: ProbeTarget[]): void {
    const uid = pod.metadata.uid!;
    const wanted = new Set<string>();
    for (const t of targets) {
      for (const { kind, field } of KINDS) {
        if (!t.container[field]) continue;
        const key = `${t.id}/${kind}`;
        wanted.add(key);
        if (!this.#loops.has(key)) this.#start(pod, t, kind, t.container[field]);
      }
    }
    for (const key of this.#byPod.get(uid) ?? []) if (!wanted.has(key)) this.#stop(key);
    this.#byPod.set(uid, wanted);
  }

  /** Stops every loop of the pod. */
  forgetPod(uid: string): void {
    for (const key of this.#byPod.get(uid) ?? []) this.#stop(key);
    this.#byPod.delete(uid);
  }

  /** Readiness of a running container: true without a readiness probe. */
  ready(id: string, container: ContainerSpec): boolean {
    if (!container.readinessProbe) return true;
    if (container.startupProbe && !this.started(id, container)) return false;
    return this.#states.get(`${id}/readiness`)?.result === 'success';
  }

  started(id: string, container: ContainerSpec): boolean {
    if (!container.startupProbe) return true;
    return this.#states.get(`${id}/startup`)?.result === 'success';
  }

  /** Which probe failed for good, asking for a restart. */
  unhealthy(id: string): 'liveness' | 'startup' | undefined {
    if (this.#states.get(`${id}/startup`)?.result === 'failure') return 'startup';
    if (this.#states.get(`${id}/liveness`)?.result === 'failure') return 'liveness';
    return undefined;
  }

  #stop(key: string): void {
    this.#loops.get(key)?.abort();
    this.#loops.delete(key);
    this.#states.delete(key);
  }

  #start(pod: KubeObject, target: ProbeTarget, kind: ProbeKind, probe: Record<string, unknown>): void {
    const key = `${target.id}/${kind}`;
    const stop = new AbortController();
    const signal = AbortSignal.any([stop.signal, this.#options.signal]);
    this.#loops.set(key, stop);
    this.#states.set(key, initialProbeState(kind));
    void this.#loop(pod, target, kind, probe, key, signal).catch((err) => {
      if (!signal.aborted) this.#options.log.warn('probe loop failed', { key, err: (err as Error).message });
    });
  }

  async #loop(
    pod: KubeObject,
    t: ProbeTarget,
    kind: ProbeKind,
    probe: Record<string, unknown>,
    key: string,
    signal: AbortSignal,
  ) {
    const { runtime, recorder, onChange } = this.#options;
    const timing = probeTiming(probe, kind);
    const uid = pod.metadata.uid!;
    if (timing.initialDelaySeconds > 0) await sleep(timing.initialDelaySeconds * 1000, signal);
    while (!signal.aborted) {
      const waitingForStartup = kind !== 'startup' && t.container.startupProbe && !this.started(t.id, t.container);
      if (!waitingForStartup) {
        const outcome = await runHandler(probe, {
          runtime,
          containerId: t.id,
          container: t.container,
          podIp: t.podIp,
          timeoutMs: timing.timeoutSeconds * 1000,
        });
        if (signal.aborted) return;
        const before = this.#states.get(key) ?? initialProbeState(kind);
        const after = applyProbeOutcome(before, outcome.ok, timing);
        this.#states.set(key, after);
        if (!outcome.ok)
          void recorder.record(asPod(pod), 'Warning', 'Unhealthy', unhealthyMessage(kind, outcome.message.trim()));
        if (after.result !== before.result) onChange(uid);
        if (kind === 'startup' && after.result === 'success') return;
        if (kind !== 'readiness' && after.result === 'failure') return; // the worker restarts the container
      }
      await sleep(timing.periodSeconds * 1000, signal);
    }
  }
}

/** Events name the pod as involvedObject; items of a list may lack kind and apiVersion. */
export function asPod(pod: KubeObject): KubeObject {
  return pod.kind === 'Pod' && pod.apiVersion === 'v1' ? pod : { ...pod, kind: 'Pod', apiVersion: 'v1' };
}
