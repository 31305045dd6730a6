// Pod workers (kubelet's podWorkers + SyncPod): one level-triggered sync per
// pod uid at a time. A sync sets up the sandbox (network, identity files,
// volumes), runs the plan (kill / start / back off), refreshes probes and
// writes the status; a pod being deleted is stopped gracefully, cleaned up
// and then deleted for good; a pod gone from the API is cleaned up.
import { rm } from 'node:fs/promises';
import { ApiError } from '../../api/errors.ts';
import type { KubeObject } from '../../api/types.ts';
import { type Client, type EventRecorder, refs } from '../../client/index.ts';
import type { Logger } from '../../lib/log.ts';
import { writePodNetworkFiles } from '../network/index.ts';
import {
  cleanupPodVolumes,
  ContainerConfigError,
  type ObjectGetter,
  podTokenSource,
  preparePodVolumes,
  VolumeError,
} from '../podspec/index.ts';
import type { PodNetwork } from '../types.ts';
import { type BackoffEntry, backoffUntil, goDuration, nextBackoff } from './backoff.ts';
import { IMAGE_BACKOFF_INITIAL_MS, IMAGE_BACKOFF_MAX_MS } from './constants.ts';
import {
  type ContainerOps,
  graceSeconds,
  POD_DELETED,
  type PodSandbox,
  podDir,
  podLogDir,
  StartError,
} from './containers.ts';
import { appContainers, type ContainerSpec, initContainers, type Instance, ranMs, viewsOf } from './model.ts';
import { CRASH_BACKOFF, planPod } from './plan.ts';
import { asPod, type Prober } from './prober.ts';
import { ImagePullError } from './pull.ts';
import type { RuntimeCache } from './runtime-cache.ts';
import { podStatus, type Waiting } from './status.ts';
import type { StatusManager } from './status-manager.ts';

/** Containers of a pod nobody knows any more (deleted while the agent was away) get this long to stop. */
export const ORPHAN_GRACE_SECONDS = 2;
/** Every pod is looked at again this often even without events (kubelet resyncs each pod about once a minute). */
export const POD_RESYNC_MS = 60_000;
/** Retries of a container that could not be created: kubelet's worker back-off, 10 s doubling to 5 min. */
const START_RETRY = { initialMs: IMAGE_BACKOFF_INITIAL_MS, maxMs: IMAGE_BACKOFF_MAX_MS };

type PodState = {
  sandbox?: PodSandbox;
  waiting: Map<string, Waiting>;
  crash: Map<string, BackoffEntry>;
  retry: Map<string, BackoffEntry & { failedAt: number }>;
  messages: Map<string, string>;
  last?: KubeObject;
  networkDown?: boolean;
};

export type PodWorkersOptions = {
  client: Client;
  dataDir: string;
  nodeIp: string;
  clusterDns: string[];
  clusterDomain: string;
  network: PodNetwork;
  ops: ContainerOps;
  cache: RuntimeCache;
  prober: Prober;
  status: StatusManager;
  recorder: EventRecorder;
  getConfigMap: ObjectGetter;
  getSecret: ObjectGetter;
  clusterCaPem?: string;
  signal: AbortSignal;
  log: Logger;
};

const terminal = (phase: string | undefined) => phase === 'Succeeded' || phase === 'Failed';

export class PodWorkers {
  #o: PodWorkersOptions;
  #pods = new Map<string, KubeObject>();
  #states = new Map<string, PodState>();
  /** The running sync of each pod; aborted when the pod is deleted, so a postStart hook or a pull does not hold up its stop. */
  #syncs = new Map<string, AbortController>();

  constructor(options: PodWorkersOptions) {
    this.#o = options;
  }

  /** The informer's view: the pod as bound to this node now (undefined = gone from the API). */
  setPod(uid: string, pod: KubeObject | undefined): void {
    if (pod) this.#pods.set(uid, pod);
    else this.#pods.delete(uid);
    if (!pod || pod.metadata.deletionTimestamp) this.#syncs.get(uid)?.abort(POD_DELETED);
  }

  pod(uid: string): KubeObject | undefined {
    return this.#pods.get(uid) ?? this.#states.get(uid)?.last;
  }

  #state(uid: string): PodState {
    let s = this.#states.get(uid);
    if (!s) {
      s = { waiting: new Map(), crash: new Map(), retry: new Map(), messages: new Map() };
      this.#states.set(uid, s);
    }
    return s;
  }

  /** One sync of the pod; returns when to look again (ms), if sooner than the next event. */
  async sync(uid: string): Promise<number | undefined> {
    const pod = this.#pods.get(uid);
    if (!pod) {
      await this.#cleanup(uid, this.#states.get(uid)?.last);
      return undefined;
    }
    const state = this.#state(uid);
    state.last = pod;
    if (pod.metadata.deletionTimestamp) {
      await this.#terminate(pod, state);
      return undefined;
    }
    const instances = this.#o.cache.pod(uid);
    if (terminal(pod.status?.phase) && !instances.some((i) => i.status === 'running')) {
      await this.#releaseNetwork(uid, state);
      return undefined;
    }
    const abort = new AbortController();
    this.#syncs.set(uid, abort);
    try {
      return await this.#run(pod, state, AbortSignal.any([abort.signal, this.#o.signal]));
    } finally {
      this.#syncs.delete(uid);
    }
  }

  async #run(pod: KubeObject, state: PodState, signal: AbortSignal): Promise<number | undefined> {
    const { ops, cache, prober } = this.#o;
    const uid = pod.metadata.uid!;
    const now = Date.now();
    let wakeAt = now + POD_RESYNC_MS;
    const later = (t: number) => {
      wakeAt = Math.min(wakeAt, t);
    };
    const sandbox = await this.#sandbox(pod, state);
    if (!sandbox) return undefined; // the error path threw; unreachable
    const specs = new Map<string, ContainerSpec>(
      [...initContainers(pod), ...appContainers(pod)].map((c) => [c.name, c]),
    );
    let views = viewsOf(cache.pod(uid));
    const unhealthy = new Map<string, 'liveness' | 'startup'>();
    for (const v of views.values()) {
      const reason = v.current?.status === 'running' ? prober.unhealthy(v.current.id) : undefined;
      if (reason && v.current) unhealthy.set(v.current.id, reason);
    }
    const plan = planPod({ pod, views, now, backoff: (name) => state.crash.get(name), unhealthy });

    for (const k of plan.kill) {
      const c = specs.get(k.name);
      const probe = k.reason === 'liveness' || k.reason === 'startup' ? k.reason : undefined;
      const message = probe ? `Container ${k.name} failed ${probe} probe, will be restarted` : undefined;
      const grace = probe
        ? (c?.[`${probe}Probe`]?.terminationGracePeriodSeconds ?? graceSeconds(pod))
        : graceSeconds(pod);
      await ops.stop({ pod, id: k.id, container: c, graceSeconds: grace, message });
      await cache.refresh(k.id);
    }
    const seen = new Set<string>();
    for (const b of plan.backoff) {
      const message = `back-off ${goDuration(b.delayMs)} restarting failed container=${b.name} pod=${pod.metadata.name}_${pod.metadata.namespace}(${uid})`;
      if (state.waiting.get(b.name)?.reason !== 'CrashLoopBackOff') {
        void this.#o.recorder.record(
          asPod(pod),
          'Warning',
          'BackOff',
          `Back-off restarting failed container ${b.name} in pod ${pod.metadata.name}_${pod.metadata.namespace}(${uid})`,
        );
      }
      state.waiting.set(b.name, { reason: 'CrashLoopBackOff', message });
      seen.add(b.name);
      later(b.until);
    }
    // What the pod looks like before this sync's starts (kubelet writes it first too): a long pull or
    // postStart hook shows ContainerCreating meanwhile, and a container counts as Running only after its hook.
    if (plan.start.length > 0) {
      const fresh = plan.kill.length > 0 ? viewsOf(cache.pod(uid)) : views;
      this.#writeStatus({ pod, state, specs, views: fresh, sandbox, failed: plan.failed });
    }
    for (const s of plan.start) {
      if (signal.aborted) break; // deleted meanwhile: the next sync stops the pod
      seen.add(s.name);
      const c = specs.get(s.name)!;
      const retry = state.retry.get(s.name);
      const retryAt = backoffUntil(retry, retry?.failedAt ?? 0, now, START_RETRY);
      if (retryAt !== undefined && state.waiting.has(s.name)) {
        later(retryAt);
        continue;
      }
      const view = views.get(s.name);
      const cur = view?.current;
      if (cur && cur.status === 'created') await ops.remove(cur.id).catch(() => {});
      const restartCount = cur ? (cur.status === 'created' ? cur.restartCount : cur.restartCount + 1) : 0;
      if (s.restart && cur && cur.status === 'stopped')
        state.crash.set(s.name, nextBackoff(state.crash.get(s.name), now, CRASH_BACKOFF, ranMs(cur)));
      try {
        const id = await ops.start({
          pod,
          container: c,
          type: s.type,
          restartCount,
          sandbox,
          signal: this.#o.signal,
          hookSignal: signal,
        });
        await cache.refresh(id);
        state.waiting.delete(s.name);
        state.retry.delete(s.name);
        // Keep the newest run and the one before (logs --previous, lastState); older runs go.
        for (const old of view?.older ?? []) await this.#removeRun(old, state);
        if (s.type === 'init') {
          // The next init container waits for this one; the relist brings its exit.
        }
      } catch (err) {
        const failedAt = Date.now();
        if (err instanceof ImagePullError) {
          state.waiting.set(s.name, { reason: err.reason, message: err.message });
          if (err.retryAt) later(err.retryAt);
          else later(failedAt + IMAGE_BACKOFF_INITIAL_MS);
        } else {
          const reason =
            err instanceof ContainerConfigError || err instanceof StartError ? err.reason : 'CreateContainerError';
          state.waiting.set(s.name, { reason, message: (err as Error).message });
          const next = { ...nextBackoff(retry, failedAt, START_RETRY), failedAt };
          state.retry.set(s.name, next);
          later(failedAt + next.delayMs);
        }
      }
    }
    // Waiting reasons that no longer apply (the container runs, or will not run again).
    for (const name of state.waiting.keys()) if (!seen.has(name)) state.waiting.delete(name);

    views = viewsOf(cache.pod(uid));
    await this.#loadMessages(pod, views, specs, state);
    const targets = [...views.values()]
      .map((v) => v.current)
      .filter((i): i is Instance => i?.status === 'running' && specs.has(i.name))
      .map((i) => ({ id: i.id, container: specs.get(i.name)!, podIp: sandbox.network?.ip }));
    prober.sync(pod, targets);
    const status = this.#writeStatus({ pod, state, specs, views, sandbox, failed: plan.failed });
    if (terminal(status.phase) && !views.values().some((v) => v.current?.status === 'running')) {
      prober.forgetPod(uid);
      await this.#releaseNetwork(uid, state);
      return undefined;
    }
    return Math.max(0, wakeAt - Date.now());
  }

  /** Computes the pod's status from the runs the views hold and queues it (unchanged statuses are not written). */
  #writeStatus(args: {
    pod: KubeObject;
    state: PodState;
    specs: Map<string, ContainerSpec>;
    views: ReturnType<typeof viewsOf>;
    sandbox: PodSandbox;
    failed: boolean;
  }) {
    const { pod, state, specs, views, sandbox } = args;
    const { prober } = this.#o;
    const status = podStatus({
      pod,
      views,
      extras: (name) => {
        const cur = views.get(name)?.current;
        const c = specs.get(name)!;
        return {
          waiting: state.waiting.get(name),
          ready: cur ? prober.ready(cur.id, c) : false,
          started: cur ? prober.started(cur.id, c) : false,
          messages: state.messages,
        };
      },
      sandboxReady: true,
      podIp: sandbox.network?.ip ?? (pod.spec?.hostNetwork ? this.#o.nodeIp : undefined),
      hostIp: this.#o.nodeIp,
      now: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      phase: args.failed ? 'Failed' : undefined,
    });
    this.#o.status.set(pod, status);
    return status;
  }

  /** Network, identity files and volumes, once per pod (kept across syncs). */
  async #sandbox(pod: KubeObject, state: PodState): Promise<PodSandbox> {
    if (state.sandbox) return state.sandbox;
    const uid = pod.metadata.uid!;
    const o = this.#o;
    let network: PodSandbox['network'];
    if (!pod.spec?.hostNetwork) {
      try {
        network = await o.network.setup({ uid, namespace: pod.metadata.namespace!, name: pod.metadata.name! });
      } catch (err) {
        void o.recorder.record(
          asPod(pod),
          'Warning',
          'FailedCreatePodSandBox',
          `Failed to create pod sandbox: ${(err as Error).message}`,
        );
        throw err;
      }
    }
    const files = await writePodNetworkFiles(pod, {
      dataDir: o.dataDir,
      ip: network?.ip,
      clusterDns: o.clusterDns,
      clusterDomain: o.clusterDomain,
    });
    for (const w of files.warnings) void o.recorder.record(asPod(pod), 'Warning', 'DNSConfigForming', w);
    let volumes: PodSandbox['volumes'];
    try {
      volumes = await preparePodVolumes({
        pod,
        podDir: podDir(o.dataDir, uid),
        getConfigMap: o.getConfigMap,
        getSecret: o.getSecret,
        serviceAccountToken: podTokenSource(o.client, pod),
        clusterCaPem: o.clusterCaPem,
        runtime: { podIP: network?.ip, podIPs: network ? [network.ip] : [], hostIP: o.nodeIp, hostIPs: [o.nodeIp] },
      });
    } catch (err) {
      const message = err instanceof VolumeError ? err.eventMessage : (err as Error).message;
      void o.recorder.record(asPod(pod), 'Warning', 'FailedMount', message);
      throw err;
    }
    state.sandbox = { network, files, volumes };
    state.networkDown = false;
    return state.sandbox;
  }

  async #loadMessages(
    pod: KubeObject,
    views: ReturnType<typeof viewsOf>,
    specs: Map<string, ContainerSpec>,
    state: PodState,
  ) {
    for (const v of views.values()) {
      for (const inst of [v.current, v.previous]) {
        if (inst?.status === 'stopped' && !state.messages.has(inst.id)) {
          state.messages.set(inst.id, await this.#o.ops.terminationMessage(pod, specs.get(inst.name), inst));
        }
      }
    }
  }

  async #removeRun(inst: Instance, state: PodState): Promise<void> {
    await this.#o.ops
      .remove(inst.id)
      .catch((err) => this.#o.log.debug('remove failed', { id: inst.id, err: (err as Error).message }));
    this.#o.cache.drop(inst.id);
    state.messages.delete(inst.id);
  }

  async #releaseNetwork(uid: string, state: PodState): Promise<void> {
    if (state.networkDown) return;
    await this.#o.network.teardown(uid);
    state.networkDown = true;
    state.sandbox = undefined;
  }

  /** Stops every run of the pod (gracefully), removes them and the pod's sandbox. */
  async #stopAll(uid: string, pod: KubeObject | undefined, grace: number): Promise<void> {
    const { ops, cache } = this.#o;
    this.#o.prober.forgetPod(uid);
    const specs = new Map<string, ContainerSpec>(
      pod ? [...initContainers(pod), ...appContainers(pod)].map((c) => [c.name, c]) : [],
    );
    const runs = cache.pod(uid);
    const target = pod ?? { metadata: { uid, name: runs[0]?.name ?? uid, namespace: 'default' } };
    await Promise.all(
      runs
        .filter((i) => i.status === 'running')
        .map((i) =>
          ops
            .stop({ pod: target, id: i.id, container: specs.get(i.name), graceSeconds: grace })
            .catch((err) => this.#o.log.warn('stop failed', { id: i.id, err: (err as Error).message })),
        ),
    );
    for (const i of runs) {
      await ops
        .remove(i.id)
        .catch((err) => this.#o.log.warn('remove failed', { id: i.id, err: (err as Error).message }));
      cache.drop(i.id);
    }
    await this.#o.network.teardown(uid);
    const dir = podDir(this.#o.dataDir, uid);
    await cleanupPodVolumes(dir).catch((err) =>
      this.#o.log.warn('volume cleanup failed', { uid, err: (err as Error).message }),
    );
    await rm(dir, { recursive: true, force: true }).catch(() => {});
    if (pod?.metadata.name) await rm(podLogDir(this.#o.dataDir, pod), { recursive: true, force: true }).catch(() => {});
  }

  async #terminate(pod: KubeObject, state: PodState): Promise<void> {
    const uid = pod.metadata.uid!;
    await this.#stopAll(uid, pod, graceSeconds(pod));
    state.sandbox = undefined;
    this.#o.status.forget(uid);
    try {
      await this.#o.client.delete(refs.pods, pod.metadata.name!, {
        namespace: pod.metadata.namespace,
        gracePeriodSeconds: 0,
        preconditions: { uid },
      });
    } catch (err) {
      if (!(err instanceof ApiError && (err.code === 404 || err.code === 409))) throw err;
    }
  }

  async #cleanup(uid: string, last: KubeObject | undefined): Promise<void> {
    const hasRuns = this.#o.cache.pod(uid).length > 0;
    if (hasRuns || (await this.#o.network.list()).includes(uid) || last) {
      await this.#stopAll(uid, last, last ? graceSeconds(last) : ORPHAN_GRACE_SECONDS);
    }
    this.#states.delete(uid);
    this.#o.status.forget(uid);
  }

  /** Pod uids with something on this node (containers or a network), for adoption and clean-up at start. */
  async known(): Promise<Set<string>> {
    return new Set([...this.#o.cache.podUids(), ...(await this.#o.network.list())]);
  }

  /** Ids and log paths of a pod's runs (for logs/exec/attach/port-forward). */
  runs(uid: string): Instance[] {
    return this.#o.cache.pod(uid);
  }
}
