// What the streaming server needs from the rest of the agent: its view of the
// pods on this node (the kubelet's informer cache) and the container runtime.
import type { KubeObject } from '../../api/types.ts';
import type { ContainerRuntime, ExecStreams } from '../types.ts';

export type StreamingBackend = {
  /** `<data-dir>/logs/pods`: where CRI log files live. */
  logsDir: string;
  /** A pod bound to this node, as last seen (spec and status); undefined when unknown here. */
  getPod(namespace: string, name: string): KubeObject | undefined;
  /** Pods bound to this node (for resource metrics). */
  listPods(): KubeObject[];
  runtime: Pick<ContainerRuntime, 'exec' | 'stats' | 'state'>;
  /**
   * Connects to a running container's own stdin (kubectl attach -i); absent
   * when the runtime cannot, and attach then streams output only.
   */
  attachStdin?(containerId: string): Promise<NodeJS.WritableStream | undefined>;
  /**
   * The file of a pod's network namespace (port-forward dials localhost in
   * there); absent when the agent keeps none, and port-forward then dials the pod's IP only.
   */
  podNetnsPath?(pod: KubeObject): string | undefined;
};

export type { ExecStreams };

/** The Common Name the API server's client certificate carries; the agent serves no one else. */
export const APISERVER_CLIENT_CN = 'kube-apiserver-kubelet-client';
/** The group (O) that certificate carries, as kubeadm's does. */
export const APISERVER_CLIENT_ORG = 'system:masters';
/** Agent paths, the kubelet's. */
export const AGENT_PATHS = {
  logs: 'containerLogs',
  exec: 'exec',
  attach: 'attach',
  portForward: 'portForward',
  summary: 'stats/summary',
} as const;
/** The kubelet's port; skiff agents listen there unless told otherwise. */
export const DEFAULT_AGENT_PORT = 10250;
