// The Node object and its conditions as the kubelet posts them. Pure: the
// machine's facts come in as a MachineInfo and a Pressure sample.
import type { KubeObject } from '../../api/types.ts';
import {
  EVICTION_MEMORY_AVAILABLE_BYTES,
  EVICTION_NODEFS_AVAILABLE_FRACTION,
  EVICTION_PID_AVAILABLE_FRACTION,
  KUBELET_VERSION,
  LEASE_DURATION_SECONDS,
  MAX_PODS,
  NODE_LEASE_NAMESPACE,
} from './constants.ts';

export type MachineInfo = {
  cpus: number;
  memoryBytes: number;
  /** Capacity of the filesystem holding the data dir. */
  diskBytes: number;
  kernelVersion: string;
  osImage: string;
  architecture: string;
  machineID: string;
  bootID: string;
  runtimeVersion: string;
};

/** A sample of what the pressure conditions judge. */
export type Pressure = {
  memoryAvailableBytes: number;
  diskAvailableBytes: number;
  diskCapacityBytes: number;
  pidsInUse: number;
  pidMax: number;
};

export type NodeIdentity = { name: string; ip: string; controlPlane: boolean };

const ki = (bytes: number) => `${Math.floor(bytes / 1024)}Ki`;
/** Go's GOARCH names, as kubernetes.io/arch uses them. */
export const goArch = (arch: string) =>
  ({ x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x' })[arch] ?? arch;

export function capacityOf(m: MachineInfo) {
  return {
    cpu: String(m.cpus),
    memory: ki(m.memoryBytes),
    pods: String(MAX_PODS),
    'ephemeral-storage': ki(m.diskBytes),
  };
}

/** Capacity less the hard eviction thresholds (no kube/system reservations are configured). */
export function allocatableOf(m: MachineInfo) {
  return {
    cpu: String(m.cpus),
    memory: ki(Math.max(0, m.memoryBytes - EVICTION_MEMORY_AVAILABLE_BYTES)),
    pods: String(MAX_PODS),
    'ephemeral-storage': String(Math.floor(m.diskBytes * (1 - EVICTION_NODEFS_AVAILABLE_FRACTION))),
  };
}

export type ConditionSample = { type: string; status: 'True' | 'False'; reason: string; message: string };

/** The four conditions from one sample (kubelet's reasons and messages). */
export function conditionSamples(p: Pressure, ready: { ok: boolean; message?: string }): ConditionSample[] {
  const memory = p.memoryAvailableBytes < EVICTION_MEMORY_AVAILABLE_BYTES;
  const disk =
    p.diskCapacityBytes > 0 && p.diskAvailableBytes / p.diskCapacityBytes < EVICTION_NODEFS_AVAILABLE_FRACTION;
  const pids = p.pidMax > 0 && (p.pidMax - p.pidsInUse) / p.pidMax < EVICTION_PID_AVAILABLE_FRACTION;
  return [
    memory
      ? {
          type: 'MemoryPressure',
          status: 'True',
          reason: 'KubeletHasInsufficientMemory',
          message: 'kubelet has insufficient memory available',
        }
      : {
          type: 'MemoryPressure',
          status: 'False',
          reason: 'KubeletHasSufficientMemory',
          message: 'kubelet has sufficient memory available',
        },
    disk
      ? { type: 'DiskPressure', status: 'True', reason: 'KubeletHasDiskPressure', message: 'kubelet has disk pressure' }
      : {
          type: 'DiskPressure',
          status: 'False',
          reason: 'KubeletHasNoDiskPressure',
          message: 'kubelet has no disk pressure',
        },
    pids
      ? {
          type: 'PIDPressure',
          status: 'True',
          reason: 'KubeletHasInsufficientPID',
          message: 'kubelet has insufficient PID available',
        }
      : {
          type: 'PIDPressure',
          status: 'False',
          reason: 'KubeletHasSufficientPID',
          message: 'kubelet has sufficient PID available',
        },
    ready.ok
      ? { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }
      : { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: ready.message ?? 'kubelet is not ready' },
  ];
}

type Condition = ConditionSample & { lastHeartbeatTime: string; lastTransitionTime: string };

/** Conditions with heartbeat now, transition times kept where the status did not change. */
export function nodeConditions(
  samples: ConditionSample[],
  previous: Condition[] | undefined,
  now: string,
): Condition[] {
  return samples.map((s) => {
    const before = previous?.find((c) => c.type === s.type);
    return {
      ...s,
      lastHeartbeatTime: now,
      lastTransitionTime: before && before.status === s.status ? before.lastTransitionTime : now,
    };
  });
}

/** Whether a new status differs from the posted one in anything but heartbeat times. */
export function conditionsChanged(a: ConditionSample[], b: ConditionSample[] | undefined): boolean {
  if (!b || a.length !== b.length) return true;
  return a.some(
    (s, i) =>
      s.type !== b[i].type || s.status !== b[i].status || s.reason !== b[i].reason || s.message !== b[i].message,
  );
}

export function nodeLabels(id: NodeIdentity, arch: string): Record<string, string> {
  return {
    'kubernetes.io/hostname': id.name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': arch,
    'beta.kubernetes.io/os': 'linux',
    'beta.kubernetes.io/arch': arch,
    ...(id.controlPlane ? { 'node-role.kubernetes.io/control-plane': '' } : {}),
  };
}

/** The status fields the kubelet owns (besides conditions). */
export function nodeStatusBase(id: NodeIdentity, m: MachineInfo, kubeletPort: number) {
  return {
    capacity: capacityOf(m),
    allocatable: allocatableOf(m),
    addresses: [
      { type: 'InternalIP', address: id.ip },
      { type: 'Hostname', address: id.name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: kubeletPort } },
    nodeInfo: {
      machineID: m.machineID,
      systemUUID: '',
      bootID: m.bootID,
      kernelVersion: m.kernelVersion,
      osImage: m.osImage,
      containerRuntimeVersion: m.runtimeVersion,
      kubeletVersion: KUBELET_VERSION,
      kubeProxyVersion: '',
      operatingSystem: 'linux',
      architecture: m.architecture,
    },
  };
}

export function newNode(id: NodeIdentity, m: MachineInfo, kubeletPort: number): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: id.name,
      labels: nodeLabels(id, m.architecture),
      annotations: { 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: {},
    status: nodeStatusBase(id, m, kubeletPort),
  };
}

export function nodeLease(node: KubeObject, renewTime: string): KubeObject {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: node.metadata.name,
      namespace: NODE_LEASE_NAMESPACE,
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.metadata.name!, uid: node.metadata.uid! }],
    },
    spec: { holderIdentity: node.metadata.name, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime },
  };
}

/** /etc/os-release's PRETTY_NAME (what kubectl get nodes -o wide shows as OS-IMAGE). */
export function osImageFrom(osRelease: string): string {
  const m = /^PRETTY_NAME=(.*)$/m.exec(osRelease);
  return m ? m[1].trim().replace(/^"(.*)"$/, '$1') : 'Linux';
}

/** metav1.Time and MicroTime. */
export const isoSeconds = (d: Date) => d.toISOString().replace(/\.\d+Z$/, 'Z');
export const microTime = (d: Date) => d.toISOString().replace(/Z$/, '000Z');
