// What every controller gets: the API client, shared informers, an event
// recorder, the leader's signal and a logger.
import type { Client, EventRecorder, SharedInformers } from '../client/index.ts';
import type { Logger } from '../lib/log.ts';

export type ControllerContext = {
  client: Client;
  informers: SharedInformers;
  recorder: EventRecorder;
  /** Aborts when this process stops leading (or shuts down). */
  signal: AbortSignal;
  log: Logger;
  nodeName: string;
  /** Tunables from the command line; absent ones take their Kubernetes defaults. */
  settings?: ControllerSettings;
};

/** kube-controller-manager's flags that skiff server exposes. */
export type ControllerSettings = {
  /** --node-monitor-grace-period: how long a node may be silent before it is NotReady. */
  nodeMonitorGracePeriodMs?: number;
  /** The cluster CA (PEM) the root CA publisher puts in every namespace's kube-root-ca.crt. */
  clusterCaPem?: string;
  /** --cluster-cidr: the pod network the node IPAM controller carves node ranges from (default 10.244.0.0/16). */
  clusterCidr?: string;
};

/** A controller runs until ctx.signal aborts. */
export type ControllerRunner = (ctx: ControllerContext) => Promise<void>;
