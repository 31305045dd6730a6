// The node agent's seams: images, pod network and container runtime. The
// kubelet logic (pod workers, probes, status) talks to these interfaces only,
// so each part is built and tested on its own.

// ---------- images ----------

/** Image configuration, as in the OCI image config's `config` object. */
export type ImageConfig = {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
  exposedPorts?: Record<string, object>;
  labels?: Record<string, string>;
  stopSignal?: string;
};

export type ImageRecord = {
  /** Normalised references that name this image, e.g. "docker.io/library/nginx:1.14.2". */
  names: string[];
  /** The image ID: digest of its config blob ("sha256:…"). */
  id: string;
  /** Digest of the manifest it came from, for repo@digest references. */
  manifestDigest?: string;
  config: ImageConfig;
  /** Uncompressed layer digests (diff IDs), base first. */
  layers: string[];
  /** Bytes on disk for this image's unique content. */
  size: number;
};

/** Credentials for one registry host, from imagePullSecrets or the registries config. */
export type RegistryAuth = { registry: string; username?: string; password?: string; auth?: string; identityToken?: string };

export interface ImageStore {
  /** Imports a docker-archive or OCI-archive tarball; returns the images it named. */
  import(tarball: string): Promise<ImageRecord[]>;
  list(): Promise<ImageRecord[]>;
  /** Finds an image by (normalised) name, name@digest, or ID. */
  resolve(ref: string): Promise<ImageRecord | undefined>;
  /** Pulls from a registry (distribution API v2), verifying digests. */
  pull(ref: string, options?: { auth?: RegistryAuth[]; signal?: AbortSignal }): Promise<ImageRecord>;
  /**
   * A root filesystem for one container: an overlay whose lower layers are
   * the image's unpacked layers (shared by every container of that image).
   */
  mountRootfs(image: ImageRecord, containerId: string): Promise<{ rootfs: string; unmount(): Promise<void> }>;
  remove(ref: string): Promise<void>;
  /** Removes unused images, oldest first, until disk use is under the low threshold. */
  garbageCollect(options: { inUse: Set<string>; highPercent: number; lowPercent: number }): Promise<string[]>;
}

// ---------- pod network ----------

export type PodNetworkStatus = {
  /** Path of the pod's network namespace (bind-mounted so it outlives processes). */
  netnsPath: string;
  ip: string;
  gateway: string;
  prefixLength: number;
};

export interface PodNetwork {
  /** Creates (or finds again) the pod's namespace, veth and address; idempotent per pod uid. */
  setup(pod: { uid: string; namespace: string; name: string }): Promise<PodNetworkStatus>;
  /** Removes the pod's namespace, veth and address allocation; idempotent. */
  teardown(podUid: string): Promise<void>;
  /** Pod uids that have a network set up (to re-adopt after a restart). */
  list(): Promise<string[]>;
}

// ---------- container runtime ----------

export type Mount = { destination: string; source: string; type?: string; options?: string[] };

export type ContainerSpec = {
  /** Unique id, also the runc container id. */
  id: string;
  rootfs: string;
  readonlyRootfs?: boolean;
  /** argv after Kubernetes' command/args vs entrypoint/cmd rules. */
  args: string[];
  env: string[];
  cwd: string;
  user: { uid: number; gid: number; additionalGids?: number[] };
  hostname: string;
  tty?: boolean;
  stdin?: boolean;
  /** stdin closes for good when the first attach session that opened it ends (kubectl run -i). */
  stdinOnce?: boolean;
  mounts: Mount[];
  /** Join this network namespace (the pod's); absent = host network. */
  netnsPath?: string;
  /** Share the IPC/UTS/PID namespaces of this process (the pod's first container), when set. */
  sharePid?: number;
  resources?: { cpuShares?: number; cpuQuota?: number; cpuPeriod?: number; memoryLimit?: number; pidsLimit?: number };
  securityContext?: { privileged?: boolean; capabilitiesAdd?: string[]; capabilitiesDrop?: string[]; noNewPrivileges?: boolean };
  /** The cgroup path (under the node's skiff cgroup) for this container. */
  cgroupPath: string;
  /** Where stdout/stderr go, in the CRI log format the kubelet reads back. */
  logPath: string;
  labels: Record<string, string>;
};

export type ContainerState = {
  id: string;
  status: 'created' | 'running' | 'stopped';
  pid?: number;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  /** The process was killed by the OOM killer (reported as OOMKilled). */
  oomKilled?: boolean;
  labels: Record<string, string>;
};

export type ExecStreams = {
  stdin?: NodeJS.ReadableStream;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  tty?: boolean;
  /** Terminal size changes when tty is set. */
  resize?: AsyncIterable<{ width: number; height: number }>;
};

export type ContainerStats = { cpuUsageNanos: number; memoryWorkingSetBytes: number; timestamp: string };

export interface ContainerRuntime {
  create(spec: ContainerSpec): Promise<void>;
  start(id: string): Promise<void>;
  state(id: string): Promise<ContainerState | undefined>;
  list(): Promise<ContainerState[]>;
  kill(id: string, signal: string): Promise<void>;
  /** Removes a stopped container (force: kill first). */
  remove(id: string, options?: { force?: boolean }): Promise<void>;
  exec(id: string, command: string[], streams: ExecStreams): Promise<{ exitCode: number }>;
  stats(id: string): Promise<ContainerStats | undefined>;
  /** Where a container started with stdin (or a tty) reads it from, for attach; undefined when it has none. */
  stdinPath?(id: string): Promise<string | undefined>;
  /** An attach session that wrote to stdin has ended: a stdinOnce container's stdin now closes. */
  attachEnded?(id: string): void;
}
