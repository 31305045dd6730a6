// The kubelet's tunables, each Kubernetes' own value unless said otherwise.

/** First CrashLoopBackOff delay (kubelet's backOffPeriod). */
export const CRASH_BACKOFF_INITIAL_MS = 10_000;
/** Back-off doubles up to this (kubelet's MaxContainerBackOff). */
export const CRASH_BACKOFF_MAX_MS = 300_000;
/** A container that ran this long before exiting starts its back-off from the beginning again (documented kubelet behaviour). */
export const CRASH_BACKOFF_RESET_AFTER_MS = 600_000;
/** Image pull back-off: kubelet's imageBackOff starts at 10 s and caps at 5 min too. */
export const IMAGE_BACKOFF_INITIAL_MS = 10_000;
export const IMAGE_BACKOFF_MAX_MS = 300_000;

/** Relisting the runtime (PLEG) finds exited containers; kubelet relists every second. */
export const PLEG_RELIST_MS = 1000;
/** Lease renewal: kubelet renews every 10 s (a quarter of the 40 s lease). */
export const LEASE_RENEW_MS = 10_000;
/** kubelet's nodeLeaseDurationSeconds. */
export const LEASE_DURATION_SECONDS = 40;
/** How often node conditions are re-evaluated (kubelet's nodeStatusUpdateFrequency). */
export const NODE_STATUS_CHECK_MS = 10_000;
/**
 * An unchanged Node status is re-posted this often. kubelet uses 5 min
 * (nodeStatusReportFrequency) because the Lease carries liveness; one minute
 * keeps `kubectl describe node` heartbeats fresh at negligible cost for a
 * handful of real nodes.
 */
export const NODE_STATUS_REPORT_MS = 60_000;
/** Where node Leases live. */
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** Hard eviction threshold memory.available<100Mi (kubelet's default). */
export const EVICTION_MEMORY_AVAILABLE_BYTES = 100 * 1024 * 1024;
/** Hard eviction threshold nodefs.available<10%. */
export const EVICTION_NODEFS_AVAILABLE_FRACTION = 0.1;
/** PIDPressure when fewer than this fraction of pid_max remain (kubelet's pid.available signal, here as a share). */
export const EVICTION_PID_AVAILABLE_FRACTION = 0.1;
/** kubelet's --max-pods default. */
export const MAX_PODS = 110;
export const KUBELET_VERSION = 'v1.32.0-skiff';

/** Pod-level grace when the spec sets none (core/v1 default). */
export const DEFAULT_TERMINATION_GRACE_SECONDS = 30;
/** While stopping a container, its state is polled this often: exits show at once rather than at the next relist. */
export const STOP_POLL_MS = 100;
/** A stopped container always gets this long between the stop signal and SIGKILL (kubelet's minimumGracePeriodInSeconds). */
export const MIN_SHUTDOWN_WINDOW_MS = 2000;
/** After SIGKILL a container gets this long to disappear before we give up and report (a stuck D-state process). */
export const KILL_WAIT_MS = 10_000;

/** kubelet's limit on a termination message read from the file (MaxContainerTerminationMessageLength). */
export const MAX_TERMINATION_MESSAGE_BYTES = 4096;
/** All of a pod's termination messages together stay under this; each container gets an equal share (kubelet's MaxPodTerminationMessageLogLength). */
export const MAX_POD_TERMINATION_MESSAGE_BYTES = 12 * 1024;
/** FallbackToLogsOnError takes at most these many lines / bytes of the log's tail (kubelet's values). */
export const TERMINATION_LOG_LINES = 80;
export const TERMINATION_LOG_BYTES = 2048;

/** Pod syncs run at once: each mostly waits on runc or the API; 50 pods started together should not queue. */
export const POD_WORKERS = 64;
/** Status writes in flight at once. */
export const STATUS_WRITERS = 8;
/** Probe defaults (core/v1). */
export const PROBE_DEFAULTS = {
  periodSeconds: 10,
  timeoutSeconds: 1,
  successThreshold: 1,
  failureThreshold: 3,
  initialDelaySeconds: 0,
};
/** A probe's HTTP response body is read up to this much (kubelet reads 10 KiB). */
export const PROBE_MAX_BODY_BYTES = 10 * 1024;

/** Labels on every container the agent creates: who it belongs to survives an agent restart. */
export const LABELS = {
  podUid: 'io.kubernetes.pod.uid',
  podName: 'io.kubernetes.pod.name',
  podNamespace: 'io.kubernetes.pod.namespace',
  containerName: 'io.kubernetes.container.name',
  restartCount: 'io.kubernetes.container.restartCount',
  /** "init" or "app". */
  containerType: 'skiff.dev/container-type',
  image: 'skiff.dev/image',
  imageRef: 'skiff.dev/image-ref',
  imageId: 'skiff.dev/image-id',
  /** Hash of the container's spec: a changed spec (e.g. new image) means restart. */
  specHash: 'skiff.dev/spec-hash',
  /** Which agent (data dir) made it: clusters side by side never touch each other's containers. */
  node: 'skiff.dev/node',
} as const;
