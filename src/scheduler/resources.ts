// Resource arithmetic as kube-scheduler does it: a pod's requests are the sum
// over its containers (plus restartable init containers, i.e. sidecars), or
// the largest init container if that is more, plus pod overhead. CPU is in
// millicores, memory in bytes, everything else in its own units.
import { parseQuantity } from '../api/quantity.ts';
import type { KubeObject } from '../api/types.ts';

export type Resources = { cpu: number; memory: number; pods: number; scalar: Record<string, number> };

/** Requests counted for scoring when a container asks for nothing (kube-scheduler's DefaultMilliCPURequest). */
export const DEFAULT_MILLI_CPU_REQUEST = 100;
/** kube-scheduler's DefaultMemoryRequest: 200 MiB, so request-less pods still spread. */
export const DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024;

type Container = { name?: string; restartPolicy?: string; resources?: { requests?: Record<string, string>; limits?: Record<string, string> } };

export const emptyResources = (): Resources => ({ cpu: 0, memory: 0, pods: 0, scalar: {} });

function amount(name: string, value: string | number | undefined): number {
  const n = parseQuantity(value) ?? 0;
  return name === 'cpu' ? Math.ceil(n * 1000) : Math.ceil(n);
}

/** A container's requests (limits stand in for missing requests, as API defaulting does). */
function containerRequests(c: Container): Resources {
  const out = emptyResources();
  const requests = { ...(c.resources?.limits ?? {}), ...(c.resources?.requests ?? {}) };
  for (const [name, value] of Object.entries(requests)) {
    const n = amount(name, value);
    if (name === 'cpu') out.cpu = n;
    else if (name === 'memory') out.memory = n;
    else out.scalar[name] = n;
  }
  return out;
}

function add(a: Resources, b: Resources): Resources {
  const scalar = { ...a.scalar };
  for (const [k, v] of Object.entries(b.scalar)) scalar[k] = (scalar[k] ?? 0) + v;
  return { cpu: a.cpu + b.cpu, memory: a.memory + b.memory, pods: a.pods + b.pods, scalar };
}

function max(a: Resources, b: Resources): Resources {
  const scalar = { ...a.scalar };
  for (const [k, v] of Object.entries(b.scalar)) scalar[k] = Math.max(scalar[k] ?? 0, v);
  return { cpu: Math.max(a.cpu, b.cpu), memory: Math.max(a.memory, b.memory), pods: Math.max(a.pods, b.pods), scalar };
}

/** What the pod asks of a node; `nonZero` applies the scoring defaults to request-less containers. */
export function podRequests(pod: KubeObject, options: { nonZero?: boolean } = {}): Resources {
  const spec = pod.spec ?? {};
  const withDefaults = (r: Resources): Resources =>
    options.nonZero
      ? { ...r, cpu: r.cpu || DEFAULT_MILLI_CPU_REQUEST, memory: r.memory || DEFAULT_MEMORY_REQUEST }
      : r;
  let sum = emptyResources();
  for (const c of (spec.containers ?? []) as Container[]) sum = add(sum, withDefaults(containerRequests(c)));
  let sidecars = emptyResources();
  let initMax = emptyResources();
  for (const c of (spec.initContainers ?? []) as Container[]) {
    const r = withDefaults(containerRequests(c));
    if (c.restartPolicy === 'Always') {
      sidecars = add(sidecars, r);
      initMax = max(initMax, sidecars);
    } else {
      initMax = max(initMax, add(sidecars, r));
    }
  }
  let total = max(add(sum, sidecars), initMax);
  if (spec.overhead) total = add(total, containerRequests({ resources: { requests: spec.overhead } }));
  total.pods = 1;
  return total;
}

/** A node's allocatable resources (capacity when allocatable is missing). */
export function nodeAllocatable(node: KubeObject): Resources {
  const list: Record<string, string> = node.status?.allocatable ?? node.status?.capacity ?? {};
  const out = emptyResources();
  for (const [name, value] of Object.entries(list)) {
    const n = amount(name, value);
    if (name === 'cpu') out.cpu = n;
    else if (name === 'memory') out.memory = n;
    else if (name === 'pods') out.pods = n;
    else out.scalar[name] = n;
  }
  return out;
}

export function addResources(into: Resources, r: Resources, sign: 1 | -1): void {
  into.cpu += sign * r.cpu;
  into.memory += sign * r.memory;
  into.pods += sign * r.pods;
  for (const [k, v] of Object.entries(r.scalar)) into.scalar[k] = (into.scalar[k] ?? 0) + sign * v;
}
