// Starting, stopping and removing one container run, with kubelet's events:
// image, env, mounts, the OCI spec (podspec), create, start, postStart; and
// preStop, the stop signal, the grace period, SIGKILL.
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeObject } from '../../api/types.ts';
import { type EventRecorder, sleep } from '../../client/index.ts';
import type { Logger } from '../../lib/log.ts';
import { containerRootfsPaths } from '../images/index.ts';
import { unmountOverlay } from '../images/mount.ts';
import type { PodNetworkFiles } from '../network/index.ts';
import {
  bindMount,
  ContainerConfigError,
  containerMounts,
  containerSpecFromRootfs,
  invalidKeysMessage,
  type NodeAllocatable,
  type ObjectGetter,
  type PreparedVolume,
  prepareTerminationMessageFile,
  resolveEnv,
  serviceEnvForPod,
} from '../podspec/index.ts';
import type { ContainerRuntime, ImageRecord, ImageStore, PodNetworkStatus } from '../types.ts';
import {
  KILL_WAIT_MS,
  LABELS,
  MAX_TERMINATION_MESSAGE_BYTES,
  MIN_SHUTDOWN_WINDOW_MS,
  STOP_POLL_MS,
  TERMINATION_LOG_BYTES,
  TERMINATION_LOG_LINES,
} from './constants.ts';
import { runHandler } from './handlers.ts';
import { type ContainerSpec, type ContainerType, type Instance, specHash } from './model.ts';
import { asPod } from './prober.ts';
import type { Puller } from './pull.ts';

/** The image's stop signal is kept beside the run, so a re-adopted container stops the same way. */
export const STOP_SIGNAL_LABEL = 'skiff.dev/stop-signal';

/** The abort reason of a sync cancelled by the pod's deletion (a postStart hook then counts as failed). */
export const POD_DELETED = 'pod deleted';

/** A container that could not be created or started: its waiting reason and message. */
export class StartError extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.name = 'StartError';
    this.reason = reason;
  }
}

export type PodSandbox = { network?: PodNetworkStatus; files?: PodNetworkFiles; volumes: Map<string, PreparedVolume> };

export type ContainerOpsOptions = {
  runtime: ContainerRuntime;
  images: ImageStore;
  puller: Puller;
  recorder: EventRecorder;
  dataDir: string;
  nodeName: string;
  nodeIp: string;
  /** Label that marks this agent's containers. */
  nodeTag: string;
  cgroupParent: string;
  getConfigMap: ObjectGetter;
  getSecret: ObjectGetter;
  /** Services for the pod's namespace (service-link env); empty when unknown. */
  services(namespace: string): KubeObject[];
  nodeAllocatable(): NodeAllocatable;
  log: Logger;
};

export const podDir = (dataDir: string, uid: string) => join(dataDir, 'agent', 'pods', uid);
export const podLogDir = (dataDir: string, pod: KubeObject) =>
  join(dataDir, 'logs', 'pods', `${pod.metadata.namespace}_${pod.metadata.name}_${pod.metadata.uid}`);
/** `<data-dir>/logs/pods/<ns>_<name>_<uid>/<container>/<restartCount>.log` (kubelet's layout). */
export const containerLogPath = (dataDir: string, pod: KubeObject, container: string, restartCount: number) =>
  join(podLogDir(dataDir, pod), container, `${restartCount}.log`);

export function createContainerOps(o: ContainerOpsOptions) {
  const event = (pod: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string) =>
    void o.recorder.record(asPod(pod), type, reason, message);

  async function specFor(
    pod: KubeObject,
    c: ContainerSpec,
    type: ContainerType,
    image: ImageRecord,
    sandbox: PodSandbox,
    id: string,
    restartCount: number,
  ) {
    const podIp = sandbox.network?.ip ?? (pod.spec?.hostNetwork ? o.nodeIp : undefined);
    const env = await resolveEnv({
      pod,
      container: c,
      getConfigMap: o.getConfigMap,
      getSecret: o.getSecret,
      nodeName: o.nodeName,
      podIP: podIp,
      podIPs: podIp ? [podIp] : [],
      hostIP: o.nodeIp,
      hostIPs: [o.nodeIp],
      serviceEnv:
        pod.spec?.enableServiceLinks === false ? [] : serviceEnvForPod(pod, o.services(pod.metadata.namespace!)),
      nodeAllocatable: o.nodeAllocatable(),
    });
    for (const bad of env.invalidKeys)
      event(pod, 'Warning', 'InvalidEnvironmentVariableNames', invalidKeysMessage(bad));
    const mounts = await containerMounts({ container: c, volumes: sandbox.volumes, env: env.vars });
    if (sandbox.files) {
      mounts.push(bindMount('/etc/hosts', sandbox.files.hostsPath, false));
      mounts.push(bindMount('/etc/resolv.conf', sandbox.files.resolvConfPath, false));
      mounts.push(bindMount('/etc/hostname', sandbox.files.hostnamePath, false));
    }
    const terminationMessageFile = await prepareTerminationMessageFile({
      podDir: podDir(o.dataDir, pod.metadata.uid!),
      containerName: c.name,
      restartCount,
    });
    const logPath = containerLogPath(o.dataDir, pod, c.name, restartCount);
    await mkdir(join(logPath, '..'), { recursive: true });
    const { rootfs } = await o.images.mountRootfs(image, id);
    return containerSpecFromRootfs({
      pod,
      container: c,
      image,
      rootfs,
      resolvedEnv: env.vars,
      mounts,
      netnsPath: pod.spec?.hostNetwork ? undefined : sandbox.network?.netnsPath,
      cgroupPath: `${o.cgroupParent}/pod${pod.metadata.uid}/${id}`,
      logPath,
      id,
      terminationMessageFile,
      hostname: sandbox.files?.hostname,
      labels: {
        [LABELS.restartCount]: String(restartCount),
        [LABELS.containerType]: type,
        [LABELS.image]: image.names[0] ?? c.image ?? '',
        [LABELS.imageId]: imageIdOf(image),
        [LABELS.specHash]: specHash(c),
        [LABELS.node]: o.nodeTag,
        [STOP_SIGNAL_LABEL]: image.config.stopSignal ?? 'SIGTERM',
      },
    });
  }

  /** Removes a run: the runtime's container, then its overlay root. */
  async function remove(id: string): Promise<void> {
    await o.runtime.remove(id, { force: true });
    await unmountOverlay(containerRootfsPaths(join(o.dataDir, 'agent', 'containers'), id));
  }

  return {
    remove,

    /** Runs the container once more; returns the new run's id. Throws ImagePullError, ContainerConfigError or StartError. */
    async start(args: {
      pod: KubeObject;
      container: ContainerSpec;
      type: ContainerType;
      restartCount: number;
      sandbox: PodSandbox;
      /** The agent's: stops pulls. */
      signal: AbortSignal;
      /** Also aborted (reason POD_DELETED) when the pod is deleted: cancels the postStart hook. */
      hookSignal?: AbortSignal;
    }) {
      const { pod, container: c, type, restartCount, sandbox } = args;
      const image = await o.puller.ensure(pod, c, args.signal);
      const id = randomBytes(32).toString('hex');
      try {
        const spec = await specFor(pod, c, type, image, sandbox, id, restartCount);
        await o.runtime.create(spec);
      } catch (err) {
        await remove(id).catch(() => {});
        const message = (err as Error).message;
        event(pod, 'Warning', 'Failed', `Error: ${message}`);
        if (err instanceof ContainerConfigError) throw err;
        throw new StartError('CreateContainerError', message);
      }
      event(pod, 'Normal', 'Created', `Created container: ${c.name}`);
      try {
        await o.runtime.start(id);
      } catch (err) {
        const message = (err as Error).message;
        event(pod, 'Warning', 'Failed', `Error: ${message}`);
        await remove(id).catch(() => {});
        throw new StartError('RunContainerError', message);
      }
      event(pod, 'Normal', 'Started', `Started container ${c.name}`);
      const postStart = c.lifecycle?.postStart;
      const hookSignal = args.hookSignal ?? args.signal;
      if (postStart) {
        const outcome = await runHandler(postStart, {
          runtime: o.runtime,
          containerId: id,
          container: c,
          podIp: sandbox.network?.ip,
          // No time limit, as kubelet: the hook ends, or the pod's deletion (or the agent's stop) cancels it.
          signal: hookSignal,
          purpose: 'lifecycle',
        });
        // The agent is stopping: the container runs on and the next agent finds it running (kubelet leaves it too).
        if (!outcome.ok && hookSignal.aborted && hookSignal.reason !== POD_DELETED) return id;
        if (!outcome.ok) {
          // The hook's output stays out of the event (it may hold secrets), as kubelet keeps it; the agent logs it.
          o.log.warn('postStart hook failed', {
            pod: podRef(pod),
            container: c.name,
            detail: hookFailure(postStart, c, pod, outcome),
          });
          event(pod, 'Warning', 'FailedPostStartHook', 'PostStartHook failed');
          await this.stop({ pod, id, container: c, graceSeconds: graceSeconds(pod), message: 'FailedPostStartHook' });
        }
      }
      return id;
    },

    /** preStop, the stop signal, up to the grace period, then SIGKILL; resolves once the run has stopped. */
    async stop(args: {
      pod: KubeObject;
      id: string;
      container?: ContainerSpec;
      graceSeconds: number;
      message?: string;
      stopSignal?: string;
    }) {
      const { pod, id, container: c } = args;
      const deadline = Date.now() + args.graceSeconds * 1000;
      const state = await o.runtime.state(id);
      if (state?.status !== 'running') return;
      const name = state.labels?.[LABELS.containerName] ?? c?.name ?? id;
      event(pod, 'Normal', 'Killing', args.message ?? `Stopping container ${name}`);
      const preStop = c?.lifecycle?.preStop;
      if (preStop && args.graceSeconds > 0) {
        const outcome = await runHandler(preStop, {
          runtime: o.runtime,
          containerId: id,
          container: c!,
          podIp: pod.status?.podIP,
          timeoutMs: Math.max(0, deadline - Date.now()),
          purpose: 'lifecycle',
        });
        if (!outcome.ok) {
          o.log.warn('preStop hook failed', {
            pod: podRef(pod),
            container: name,
            detail: hookFailure(preStop, c!, pod, outcome),
          });
          event(pod, 'Warning', 'FailedPreStopHook', 'PreStopHook failed');
        }
      }
      const signal =
        args.graceSeconds > 0 ? (args.stopSignal ?? state.labels?.[STOP_SIGNAL_LABEL] ?? 'SIGTERM') : 'SIGKILL';
      await o.runtime.kill(id, signal).catch(() => {});
      if (await waitStopped(o.runtime, id, killAt({ deadline, now: Date.now(), graceSeconds: args.graceSeconds })))
        return;
      await o.runtime.kill(id, 'SIGKILL').catch(() => {});
      if (!(await waitStopped(o.runtime, id, Date.now() + KILL_WAIT_MS)))
        o.log.warn('container did not stop after SIGKILL', { id });
    },

    /** The run's termination message: the file, or with FallbackToLogsOnError and a failed exit, the log's tail. */
    async terminationMessage(pod: KubeObject, c: ContainerSpec | undefined, inst: Instance): Promise<string> {
      const file = join(podDir(o.dataDir, pod.metadata.uid!), 'containers', inst.name, String(inst.restartCount));
      let text = await readLastBytes(file, MAX_TERMINATION_MESSAGE_BYTES);
      if (!text && c?.terminationMessagePolicy === 'FallbackToLogsOnError' && inst.exitCode !== 0) {
        text = logTail(
          await readTail(containerLogPath(o.dataDir, pod, inst.name, inst.restartCount), TERMINATION_LOG_BYTES * 4),
        );
      }
      return text;
    },
  };
}

export type ContainerOps = ReturnType<typeof createContainerOps>;

/** repo@digest when the image came from a registry manifest, else its ID (as containerd reports imageID). */
export function imageIdOf(image: ImageRecord): string {
  const name = image.names[0];
  if (image.manifestDigest && name) return `${name.replace(/[:@][^/]*$/, '')}@${image.manifestDigest}`;
  return image.id;
}

export function graceSeconds(pod: KubeObject): number {
  const g = pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds;
  return typeof g === 'number' && g >= 0 ? g : 30;
}

async function waitStopped(runtime: ContainerRuntime, id: string, deadline: number): Promise<boolean> {
  for (;;) {
    const s = await runtime.state(id).catch(() => undefined);
    if (s?.status !== 'running') return true;
    if (Date.now() >= deadline) return false;
    await sleep(STOP_POLL_MS);
  }
}

/** The last `max` bytes of a file ('' when unreadable): kubelet keeps the end of an over-long termination message. */
export async function readLastBytes(path: string, max: number): Promise<string> {
  try {
    const f = await open(path, 'r');
    try {
      const { size } = await f.stat();
      const length = Math.min(size, max);
      const buf = Buffer.alloc(length);
      const { bytesRead } = await f.read(buf, 0, length, size - length);
      return buf.subarray(0, bytesRead).toString();
    } finally {
      await f.close();
    }
  } catch {
    return '';
  }
}

/**
 * When SIGKILL follows the stop signal: at the end of the grace period, but
 * never sooner than MIN_SHUTDOWN_WINDOW_MS after the signal (kubelet's
 * minimumGracePeriodInSeconds, even when a preStop hook used up the grace). Pure.
 */
export function killAt(args: { deadline: number; now: number; graceSeconds: number }): number {
  if (args.graceSeconds <= 0) return args.now;
  return Math.max(args.deadline, args.now + MIN_SHUTDOWN_WINDOW_MS);
}

const podRef = (pod: KubeObject) => `${pod.metadata.namespace}/${pod.metadata.name}`;

/** kubelet's wording of a failed hook (its log line and waiting message; never an event's). Pure. */
export function hookFailure(
  hook: Record<string, unknown>,
  c: ContainerSpec,
  pod: KubeObject,
  outcome: { message: string },
): string {
  const where = `for Container "${c.name}" in Pod "${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})"`;
  const exec = hook.exec as { command?: string[] } | undefined;
  if (exec)
    return `Exec lifecycle hook ([${(exec.command ?? []).join(' ')}]) ${where} failed - error: ${outcome.message}`;
  const http = hook.httpGet as { path?: string } | undefined;
  if (http) return `HTTP lifecycle hook (${http.path ?? ''}) ${where} failed - error: ${outcome.message}`;
  return `lifecycle hook ${where} failed - error: ${outcome.message}`;
}

async function readTail(path: string, max: number): Promise<string> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.length > max ? text.slice(-max) : text;
}

/** The message text of the last CRI log lines ("<time> <stream> <F|P> <text>"), within kubelet's limits. Pure. */
export function logTail(cri: string): string {
  const lines = cri.split('\n').filter(Boolean);
  let out = '';
  for (const line of lines) {
    const m = /^\S+ (?:stdout|stderr) ([FP]) ?(.*)$/.exec(line);
    if (!m) continue;
    out += m[2] + (m[1] === 'F' ? '\n' : '');
  }
  const tail = out
    .split('\n')
    .slice(-TERMINATION_LOG_LINES - 1)
    .join('\n');
  return tail.length > TERMINATION_LOG_BYTES ? tail.slice(-TERMINATION_LOG_BYTES) : tail;
}
