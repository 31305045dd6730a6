// Downward API values (fieldRef and resourceFieldRef), shared by env vars and
// downwardAPI volume files, as the kubelet's fieldpath package computes them.
import { parseQuantity } from '../../api/quantity.ts';
import type { KubeObject } from '../../api/types.ts';
import { ContainerConfigError, type Json, type NodeAllocatable } from './types.ts';

/** Runtime values the pod object does not carry yet when its containers start. */
export type PodRuntimeValues = { podIP?: string; podIPs?: string[]; hostIP?: string; hostIPs?: string[] };

const SUBSCRIPT = /^metadata\.(labels|annotations)\['(.*)'\]$/;

/** `key="value"` lines in key order, as Kubernetes' fieldpath.FormatMap (values Go-quoted). */
export function formatMap(map: Record<string, string> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((k) => `${k}=${goQuote(map![k])}`)
    .join('\n');
}

const GO_ESCAPES: Record<string, string> = {
  '\x07': '\\a',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
  '"': '\\"',
  '\\': '\\\\',
};

/** Go's %q for a string: printable characters kept, control characters escaped. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (GO_ESCAPES[ch]) out += GO_ESCAPES[ch];
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** The value of a fieldRef's fieldPath for this pod. */
export function podFieldValue(pod: KubeObject, fieldPath: string, runtime: PodRuntimeValues = {}): string {
  const spec: Json = pod.spec ?? {};
  const status: Json = pod.status ?? {};
  const podIPs = runtime.podIPs ?? (runtime.podIP ? [runtime.podIP] : (status.podIPs ?? []).map((p: Json) => p.ip));
  const hostIPs = runtime.hostIPs ?? (runtime.hostIP ? [runtime.hostIP] : (status.hostIPs ?? []).map((p: Json) => p.ip));
  switch (fieldPath) {
    case 'spec.nodeName':
      return spec.nodeName ?? '';
    case 'spec.serviceAccountName':
      return spec.serviceAccountName ?? '';
    case 'status.hostIP':
      return hostIPs[0] ?? status.hostIP ?? '';
    case 'status.hostIPs':
      return (hostIPs.length ? hostIPs : [status.hostIP].filter(Boolean)).join(',');
    case 'status.podIP':
      return podIPs[0] ?? status.podIP ?? '';
    case 'status.podIPs':
      return (podIPs.length ? podIPs : [status.podIP].filter(Boolean)).join(',');
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'metadata.labels':
      return formatMap(pod.metadata.labels);
    case 'metadata.annotations':
      return formatMap(pod.metadata.annotations);
  }
  const m = SUBSCRIPT.exec(fieldPath);
  if (m) return (m[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations)?.[m[2]] ?? '';
  throw new ContainerConfigError(`unsupported fieldPath: ${fieldPath}`);
}

/** Limits with the node's allocatable filled in where the container has none (the kubelet's defaultPodLimitsForDownwardAPI). */
export function effectiveLimits(container: Json, allocatable: NodeAllocatable = {}): Record<string, number | undefined> {
  const limits: Json = container.resources?.limits ?? {};
  const out: Record<string, number | undefined> = {};
  for (const name of ['cpu', 'memory', 'ephemeral-storage'] as const) {
    out[name] = limits[name] !== undefined ? parseQuantity(limits[name]) : allocatable[name];
  }
  return out;
}

/**
 * resourceFieldRef: `limits.cpu`, `requests.memory`, ... divided by the
 * divisor and rounded up (cpu in millicores first, as Kubernetes does).
 */
export function resourceFieldValue(options: {
  container: Json;
  resource: string;
  divisor?: string | number;
  allocatable?: NodeAllocatable;
}): string {
  const { container, resource } = options;
  const [kind, name] = resource.split('.', 2) as [string, string];
  let value: number | undefined;
  if (kind === 'limits') value = effectiveLimits(container, options.allocatable)[name];
  else if (kind === 'requests') value = parseQuantity(container.resources?.requests?.[name]) ?? 0;
  if (!['limits', 'requests'].includes(kind) || !['cpu', 'memory', 'ephemeral-storage'].includes(name)) {
    throw new ContainerConfigError(`unsupported container resource : ${resource}`);
  }
  const divisorValue = parseQuantity(options.divisor ?? '1') || 1;
  const amount = value ?? 0;
  if (name === 'cpu') {
    return String(Math.ceil(Math.ceil(amount * 1000 - 1e-9) / Math.ceil(divisorValue * 1000 - 1e-9)));
  }
  return String(Math.ceil(Math.ceil(amount - 1e-9) / Math.ceil(divisorValue - 1e-9)));
}
