// Container resources → cgroup values, as the kubelet computes them
// (MilliCPUToShares, milliCPUToQuota, memory limit in bytes).
import { parseQuantity } from '../../api/quantity.ts';
import type { Json } from './types.ts';

/** cgroup v1 cpu.shares bounds and the weight of one CPU (the kernel's and Kubernetes' constants). */
export const MIN_SHARES = 2;
export const MAX_SHARES = 262144;
const SHARES_PER_CPU = 1024;
/** The CFS period the kubelet uses by default (--cpu-cfs-quota-period 100ms). */
export const QUOTA_PERIOD_US = 100_000;
/** The kernel refuses quotas under 1 ms. */
const MIN_QUOTA_US = 1000;

export function milliCpuToShares(milliCpu: number): number {
  if (milliCpu <= 0) return MIN_SHARES;
  const shares = Math.floor((milliCpu * SHARES_PER_CPU) / 1000);
  return Math.min(MAX_SHARES, Math.max(MIN_SHARES, shares));
}

/** 0 = no quota. */
export function milliCpuToQuota(milliCpu: number, period = QUOTA_PERIOD_US): number {
  if (milliCpu <= 0) return 0;
  return Math.max(MIN_QUOTA_US, Math.floor((milliCpu * period) / 1000));
}

/** Quantity → millicores, rounded up as resource.Quantity.MilliValue does. */
export function milliValue(q: unknown): number {
  const v = parseQuantity(q as string | number | undefined);
  return v === undefined ? 0 : Math.ceil(v * 1000 - 1e-9);
}

/** Quantity → whole units, rounded up as resource.Quantity.Value does. */
export function wholeValue(q: unknown): number {
  const v = parseQuantity(q as string | number | undefined);
  return v === undefined ? 0 : Math.ceil(v - 1e-9);
}

export type CgroupResources = { cpuShares?: number; cpuQuota?: number; cpuPeriod?: number; memoryLimit?: number };

/** The container's cgroup values; shares come from the request, or the limit when there is no request. */
export function cgroupResources(container: Json): CgroupResources {
  const requests: Json = container.resources?.requests ?? {};
  const limits: Json = container.resources?.limits ?? {};
  const cpuRequest = milliValue(requests.cpu);
  const cpuLimit = milliValue(limits.cpu);
  const out: CgroupResources = { cpuShares: milliCpuToShares(cpuRequest === 0 && cpuLimit > 0 ? cpuLimit : cpuRequest) };
  const quota = milliCpuToQuota(cpuLimit);
  if (quota > 0) {
    out.cpuQuota = quota;
    out.cpuPeriod = QUOTA_PERIOD_US;
  }
  const memory = wholeValue(limits.memory);
  if (memory > 0) out.memoryLimit = memory;
  return out;
}
