// One container of a pod → the ContainerSpec the runtime runs. Pure: the
// caller resolves env (resolveEnv), volumes and mounts (preparePodVolumes,
// containerMounts), the image's user database (readUserDb) and paths.
import type { KubeObject } from '../../api/types.ts';
import type { ContainerSpec, ImageRecord, Mount } from '../types.ts';
import { expandCommandAndArgs, processArgs } from './command.ts';
import { mergeImageEnv } from './env.ts';
import { bindMount } from './mounts.ts';
import { cgroupResources } from './resources.ts';
import type { EnvVar, Json } from './types.ts';
import { type GroupEntry, type PasswdEntry, readUserDb, resolveUser } from './user.ts';

/** A hostname is one DNS label. */
const MAX_HOSTNAME = 63;
/** Kubernetes' default terminationMessagePath. */
export const DEFAULT_TERMINATION_MESSAGE_PATH = '/dev/termination-log';

/** Label keys the runtime keeps on each container, so the agent can re-adopt it after a restart (Kubernetes' names). */
export const LABELS = {
  podName: 'io.kubernetes.pod.name',
  podNamespace: 'io.kubernetes.pod.namespace',
  podUid: 'io.kubernetes.pod.uid',
  containerName: 'io.kubernetes.container.name',
} as const;

/** pod.spec.hostname, else the pod name; cut to 63 characters without a trailing '-' or '.'. */
export function podHostname(pod: KubeObject): string {
  const name: string = pod.spec?.hostname || pod.metadata.name || '';
  return name.length > MAX_HOSTNAME ? name.slice(0, MAX_HOSTNAME).replace(/[-.]+$/, '') : name;
}

/** Kubernetes capability names ("NET_ADMIN") as the OCI spec writes them ("CAP_NET_ADMIN"); "ALL" kept. */
export function ociCapabilities(names: string[] | undefined): string[] {
  return (names ?? []).map((n) => {
    const upper = String(n).toUpperCase();
    return upper === 'ALL' || upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  });
}

/** containerd's default capability set for unprivileged containers. */
export const DEFAULT_CAPABILITIES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
];

/**
 * The final capability set from the defaults, add and drop (containerd's
 * order: "ALL" in add grants `all`, "ALL" in drop starts empty, then add,
 * then drop, so drop wins).
 */
export function effectiveCapabilities(options: { add?: string[]; drop?: string[]; all: string[] }): string[] {
  const add = ociCapabilities(options.add);
  const drop = ociCapabilities(options.drop);
  let caps = new Set(DEFAULT_CAPABILITIES);
  if (add.includes('ALL')) caps = new Set(options.all);
  if (drop.includes('ALL')) caps = new Set();
  for (const c of add) if (c !== 'ALL') caps.add(c);
  for (const c of drop) caps.delete(c);
  return [...caps];
}

function toEnvVars(env: EnvVar[] | string[]): EnvVar[] {
  return env.map((e) => {
    if (typeof e !== 'string') return e;
    const eq = e.indexOf('=');
    return eq < 0 ? { name: e, value: '' } : { name: e.slice(0, eq), value: e.slice(eq + 1) };
  });
}

export type ContainerSpecOptions = {
  pod: KubeObject;
  container: Json;
  image: ImageRecord;
  /** The container's root filesystem (mounted by the image store). */
  rootfs: string;
  /** From resolveEnv (vars or NAME=value strings), before the image's ENV is merged in. */
  resolvedEnv: EnvVar[] | string[];
  /** Volume mounts (containerMounts) plus the pod's /etc/hosts, resolv.conf, ... */
  mounts: Mount[];
  netnsPath?: string;
  cgroupPath: string;
  logPath: string;
  id: string;
  sharePid?: number;
  /** The image's /etc/passwd and /etc/group (readUserDb); needed for named users and group membership. */
  userDb?: { passwd: PasswdEntry[]; group: GroupEntry[] };
  /** Host file bound at terminationMessagePath (see prepareTerminationMessageFile). */
  terminationMessageFile?: string;
  /** Overrides the pod hostname (hostNetwork pods use the node's; setHostnameAsFQDN the FQDN). */
  hostname?: string;
  labels?: Record<string, string>;
};

/** Builds the ContainerSpec; throws ContainerConfigError (user, command) as the kubelet reports it. */
export function containerSpec(options: ContainerSpecOptions): ContainerSpec {
  const { pod, container, image } = options;
  const config = image.config ?? {};
  const vars = toEnvVars(options.resolvedEnv);
  const expanded = expandCommandAndArgs(container, vars);
  const args = processArgs({ command: expanded.command, args: expanded.args, entrypoint: config.entrypoint, cmd: config.cmd });
  const env = mergeImageEnv(config.env, vars.map((v) => `${v.name}=${v.value}`));
  const user = resolveUser({ pod, container, imageUserSpec: config.user, db: options.userDb ?? { passwd: [], group: [] } });
  const sc: Json = container.securityContext ?? {};
  const mounts = [...options.mounts];
  if (options.terminationMessageFile) {
    mounts.push(bindMount(container.terminationMessagePath || DEFAULT_TERMINATION_MESSAGE_PATH, options.terminationMessageFile, false));
  }
  const spec: ContainerSpec = {
    id: options.id,
    rootfs: options.rootfs,
    readonlyRootfs: sc.readOnlyRootFilesystem === true,
    args,
    env,
    cwd: container.workingDir || config.workingDir || '/',
    user,
    hostname: options.hostname ?? podHostname(pod),
    tty: container.tty === true,
    stdin: container.stdin === true,
    stdinOnce: container.stdinOnce === true,
    mounts,
    netnsPath: options.netnsPath,
    sharePid: options.sharePid,
    resources: cgroupResources(container),
    securityContext: {
      privileged: sc.privileged === true,
      capabilitiesAdd: ociCapabilities(sc.capabilities?.add),
      capabilitiesDrop: ociCapabilities(sc.capabilities?.drop),
      // Unset allowPrivilegeEscalation leaves no_new_privs off, as the kubelet does.
      noNewPrivileges: sc.allowPrivilegeEscalation === false,
    },
    cgroupPath: options.cgroupPath,
    logPath: options.logPath,
    labels: {
      [LABELS.podName]: pod.metadata.name ?? '',
      [LABELS.podNamespace]: pod.metadata.namespace ?? '',
      [LABELS.podUid]: pod.metadata.uid ?? '',
      [LABELS.containerName]: container.name,
      ...options.labels,
    },
  };
  return spec;
}

/** containerSpec with the image's user database read from the rootfs. */
export async function containerSpecFromRootfs(options: ContainerSpecOptions): Promise<ContainerSpec> {
  return containerSpec({ ...options, userDb: options.userDb ?? (await readUserDb(options.rootfs)) });
}
