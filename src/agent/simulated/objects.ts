// Simulated nodes (kwok-style) for tests and benchmarks: the Node, Lease and
// pod status objects they write, as pure functions. Addresses come from
// 198.18.0.0/15, the range RFC 2544 sets aside for benchmarking: nothing is
// there and nothing ever dials it.
import { nodeLease as kubeletNodeLease } from '../kubelet/node-object.ts';
import type { KubeObject } from '../../api/types.ts';

/** Marks every object a simulated node writes, so nobody mistakes it for a real one. */
export const SIMULATED_ANNOTATION = 'skiff.dev/simulated-node';
/** Label value of `type` on simulated nodes (kwok uses type=kwok). */
export const SIMULATED_TYPE = 'simulated';
/** Each node owns a /25 of 198.18.0.0/15: .1 is the node, the rest (125 ≥ the 110 pods allowed) its pods. */
const BLOCK_SIZE = 128;
const RANGE_BASE = (198 << 24) | (18 << 16);
/** 198.18.0.0/15 holds 1,024 blocks of 128 addresses. */
export const MAX_SIMULATED_NODES = 1024;
/** What a simulated node offers: a large machine, so tests are limited by requests, not by the fake. */
export const SIMULATED_CAPACITY = { cpu: '32', memory: '256Gi', pods: '110', 'ephemeral-storage': '100Gi' };
export { NODE_LEASE_NAMESPACE } from '../kubelet/constants.ts';
const KUBELET_VERSION = 'v1.32.0-simulated';

function ipString(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** The node's own address: the first of its block. */
export function nodeIp(index: number): string {
  return ipString(RANGE_BASE + index * BLOCK_SIZE + 1);
}

export function podCidr(index: number): string {
  return `${ipString(RANGE_BASE + index * BLOCK_SIZE)}/25`;
}

/** The n-th pod address of a node's block (0-based); there are POD_IPS_PER_NODE of them. */
export function podIp(index: number, n: number): string {
  return ipString(RANGE_BASE + index * BLOCK_SIZE + 2 + n);
}

/** Usable pod addresses in a block: all but network, node and broadcast. */
export const POD_IPS_PER_NODE = BLOCK_SIZE - 3;

/** Times as Kubernetes writes them: seconds, or microseconds for Lease MicroTime. */
export function isoSeconds(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, 'Z');
}

export function microTime(now: Date): string {
  return now.toISOString().replace(/Z$/, '000Z');
}

export function nodeConditions(now: Date, since: string): KubeObject['status'] {
  const heartbeat = isoSeconds(now);
  const condition = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    lastHeartbeatTime: heartbeat,
    lastTransitionTime: since,
    reason,
    message,
  });
  return [
    condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
    condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    condition('Ready', 'True', 'KubeletReady', 'simulated node is posting ready status'),
  ];
}

export function simulatedNode(name: string, index: number, now: Date): KubeObject {
  const since = isoSeconds(now);
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': 'amd64',
        type: SIMULATED_TYPE,
      },
      annotations: {
        [SIMULATED_ANNOTATION]: 'true: a stand-in for tests and benchmarks; its pods run no containers',
        'node.alpha.kubernetes.io/ttl': '0',
      },
    },
    spec: { podCIDR: podCidr(index), podCIDRs: [podCidr(index)] },
    status: {
      capacity: { ...SIMULATED_CAPACITY },
      allocatable: { ...SIMULATED_CAPACITY },
      conditions: nodeConditions(now, since),
      addresses: [
        { type: 'InternalIP', address: nodeIp(index) },
        { type: 'Hostname', address: name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: '',
        systemUUID: '',
        bootID: '',
        kernelVersion: 'simulated',
        osImage: 'skiff simulated node',
        containerRuntimeVersion: 'simulated://0',
        kubeletVersion: KUBELET_VERSION,
        kubeProxyVersion: '',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}

/** The node's heartbeat Lease, as the real agent writes it. */
export function nodeLease(node: KubeObject, now: Date): KubeObject {
  return kubeletNodeLease(node, microTime(now));
}

/** What a simulated node does about a pod bound to it. */
export type PodAction = 'none' | 'run' | 'delete';

export function podAction(pod: KubeObject): PodAction {
  if (pod.metadata.deletionTimestamp) return 'delete';
  const status = pod.status ?? {};
  if (status.phase === 'Succeeded' || status.phase === 'Failed') return 'none';
  const ready = (status.conditions ?? []).some((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True');
  const containers: unknown[] = pod.spec?.containers ?? [];
  const reported = (status.containerStatuses ?? []).length === containers.length;
  return status.phase === 'Running' && ready && reported && status.podIP ? 'none' : 'run';
}

function containerId(pod: KubeObject, name: string): string {
  let h = 0x811c9dc5;
  for (const ch of `${pod.metadata.uid}/${name}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return `simulated://${h.toString(16).padStart(8, '0')}${(pod.metadata.uid ?? '').replaceAll('-', '')}`;
}

/** The status a kubelet would report for a pod whose containers all started: a merge patch body. */
export function runningStatus(pod: KubeObject, args: { podIp: string; hostIp: string; now: Date }): KubeObject['status'] {
  const at = isoSeconds(args.now);
  const startTime = pod.status?.startTime ?? at;
  const condition = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: at });
  const scheduled = (pod.status?.conditions ?? []).find((c: { type: string }) => c.type === 'PodScheduled');
  const spec = pod.spec ?? {};
  const image = (c: { image?: string }) => c.image ?? '';
  return {
    phase: 'Running',
    conditions: [
      condition('PodReadyToStartContainers'),
      condition('Initialized'),
      condition('Ready'),
      condition('ContainersReady'),
      scheduled ? { ...scheduled, status: 'True' } : condition('PodScheduled'),
    ],
    hostIP: args.hostIp,
    hostIPs: [{ ip: args.hostIp }],
    podIP: args.podIp,
    podIPs: [{ ip: args.podIp }],
    startTime,
    ...(spec.initContainers?.length
      ? {
          initContainerStatuses: spec.initContainers.map((c: { name: string; image?: string }) => ({
            name: c.name,
            image: image(c),
            imageID: '',
            containerID: containerId(pod, c.name),
            ready: true,
            started: false,
            restartCount: 0,
            state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: startTime, finishedAt: at, containerID: containerId(pod, c.name) } },
          })),
        }
      : {}),
    containerStatuses: (spec.containers ?? []).map((c: { name: string; image?: string }) => ({
      name: c.name,
      image: image(c),
      imageID: '',
      containerID: containerId(pod, c.name),
      ready: true,
      started: true,
      restartCount: 0,
      state: { running: { startedAt: at } },
    })),
  };
}
