// Starts the streaming server for a running agent (the kubelet's handle on
// its pods and runtime): what cli/ passes as AgentOptions.streaming.
import { constants, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import type { KubeObject } from '../../api/types.ts';
import type { Logger } from '../../lib/log.ts';
import { netnsDir } from '../network/index.ts';
import { netnsPathFor } from '../network/netns.ts';
import type { ContainerRuntime } from '../types.ts';
import { startStreamingServer } from './server.ts';

/** The part of the kubelet's AgentHandle the streaming server uses. */
export type AgentView = {
  nodeName: string;
  runtime: ContainerRuntime;
  pod(namespace: string, name: string): KubeObject | undefined;
  pods(): KubeObject[];
};

/**
 * A writer to a container's stdin FIFO. Non-blocking and driven by the event
 * loop like a socket, so a container that stops reading holds back only its
 * own attach (flow control), never a thread of the file-system pool.
 */
function openStdinFifo(path: string | undefined): NodeJS.WritableStream | undefined {
  if (!path) return undefined;
  const fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  return new Socket({ fd, readable: false, writable: true });
}

export function agentStreaming(o: {
  dataDir: string;
  /** The cluster CA (to check the API server's client certificate) and this agent's serving certificate. */
  tls: { caPem: string; certPem: string; keyPem: string };
  /** Where the API server reaches this agent: the node's InternalIP (its certificate names it). */
  bind: string;
  /** 0 picks a free port (several test clusters share a machine); it goes into the Node's daemonEndpoints. */
  port: number;
  signal: AbortSignal;
  log: Logger;
}): (agent: AgentView) => Promise<{ port: number }> {
  return async (agent) => {
    const server = await startStreamingServer({
      tls: o.tls,
      port: o.port,
      bind: o.bind,
      nodeName: agent.nodeName,
      backend: {
        logsDir: join(o.dataDir, 'logs', 'pods'),
        getPod: (namespace, name) => agent.pod(namespace, name),
        listPods: () => agent.pods(),
        runtime: agent.runtime,
        attachStdin: async (id) => {
          const stdin = openStdinFifo(await agent.runtime.stdinPath?.(id));
          // The first session to open stdin ending closes a stdinOnce container's stdin.
          stdin?.on('close', () => agent.runtime.attachEnded?.(id));
          return stdin;
        },
        // Where BridgeNetwork (cli's pod network) mounts each pod's namespace.
        podNetnsPath: (pod) => (pod.metadata.uid ? netnsPathFor(netnsDir(o.dataDir), pod.metadata.uid) : undefined),
      },
      signal: o.signal,
      log: o.log,
    });
    return { port: server.port };
  };
}
