// Service allocation in the API server: ClusterIPs and node ports reserved at
// admission, freed when Services change or go, repaired at start; and the
// cluster's own Services. apiserver/index.ts wires it in.
import type { Logger } from '../../lib/log.ts';
import type { Store } from '../../store/types.ts';
import type { AdmissionHook } from '../resources/context.ts';
import { createIpAllocator } from './ip-allocator.ts';
import { createPortAllocator, type PortRange } from './port-allocator.ts';
import { repairAllocations, repairPeriodically, staleCheck, watchReleases } from './repair.ts';
import { type ServiceAllocators, serviceAllocationHook } from './service-admission.ts';

export { createIpAllocator, ipRangeSpec, nthServiceIp, IP_PREFIX } from './ip-allocator.ts';
export { createPortAllocator, portRangeSpec, DEFAULT_NODE_PORT_RANGE, PORT_PREFIX, type PortRange } from './port-allocator.ts';
export { AllocationError, RangeAllocator, type Allocation, type Owner } from './range-allocator.ts';
export { repairAllocations, watchReleases, releasedBy, LEAK_GRACE_MS, REPAIR_INTERVAL_MS } from './repair.ts';
export { serviceAllocationHook, serviceItems, needsNodePorts, needsHealthCheck, type ServiceAllocators } from './service-admission.ts';
export { ensureSystemServices, kubernetesService, kubeDnsService, DNS_SERVICE_INDEX, type SystemServicesOptions } from './system-services.ts';

/** Kubernetes' --service-cluster-ip-range default, as k3s and kubeadm use it. */
export const DEFAULT_SERVICE_CIDR = '10.96.0.0/12';
/** Where Service objects are stored (see resources/codec.ts objectKey). */
const SERVICES_PREFIX = '/registry/core/services/';

export type ServiceAllocation = {
  allocators: ServiceAllocators;
  hook: AdmissionHook;
  /** Settles once the release watcher and repair loop have stopped. */
  stopped: Promise<void>;
};

/** Repairs allocations once (before the caller serves writes), then keeps them in step until the signal aborts. */
export async function startServiceAllocation(options: {
  store: Store;
  serviceCidr?: string;
  nodePortRange?: PortRange;
  signal: AbortSignal;
  log: Logger;
}): Promise<ServiceAllocation> {
  const { store, signal, log } = options;
  const base = { store, servicesPrefix: SERVICES_PREFIX, log };
  const allocators: ServiceAllocators = {
    ips: createIpAllocator({ store, serviceCidr: options.serviceCidr ?? DEFAULT_SERVICE_CIDR, isStale: staleCheck(base, 'ips') }),
    ports: createPortAllocator({ store, range: options.nodePortRange, isStale: staleCheck(base, 'ports') }),
  };
  const deps = { ...base, allocators };
  await repairAllocations(deps);
  const stopped = Promise.all([watchReleases({ ...deps, signal }), repairPeriodically({ ...deps, signal })]).then(() => undefined);
  return { allocators, hook: serviceAllocationHook(allocators), stopped };
}
