// Which pods back a Service and on which ports: shared by the Endpoints and
// EndpointSlice controllers (Kubernetes' endpointutil and podutil.FindPort),
// and the Endpoints object itself. Pure.
import { matchesSelector, selectorFromSet } from '../api/labels.ts';
import type { KubeObject } from '../api/types.ts';
import { isPodReady } from './pod-conditions.ts';

// biome-ignore lint/suspicious/noExplicitAny: specs are plain JSON
type Json = any;

/** Kubernetes' maxCapacity: an Endpoints object holds at most this many addresses. */
export const MAX_ENDPOINTS_ADDRESSES = 1000;
export const OVER_CAPACITY_ANNOTATION = 'endpoints.kubernetes.io/over-capacity';
export const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
export const SKIP_MIRROR_LABEL = 'endpointslice.kubernetes.io/skip-mirror';

export type EndpointPort = { name?: string; port: number; protocol: string; appProtocol?: string };

/** A Service manages its endpoints only when it has a selector (an empty one counts as none). */
export function hasSelector(svc: KubeObject): boolean {
  const sel = svc.spec?.selector;
  return Boolean(sel) && Object.keys(sel).length > 0;
}

export function selectsPod(svc: KubeObject, pod: KubeObject): boolean {
  return hasSelector(svc) && svc.metadata.namespace === pod.metadata.namespace && matchesSelector(selectorFromSet(svc.spec.selector), pod.metadata.labels);
}

export function isHeadless(svc: KubeObject): boolean {
  return svc.spec?.clusterIP === 'None';
}

/** Kubernetes' ShouldPodBeInEndpoints: not finished (Succeeded/Failed), an address, not terminating unless asked. */
export function podEligible(pod: KubeObject, options: { includeTerminating: boolean }): boolean {
  const status = pod.status ?? {};
  if (status.phase === 'Succeeded' || status.phase === 'Failed') return false;
  if (!status.podIP && !(status.podIPs ?? []).length) return false;
  return options.includeTerminating || !pod.metadata.deletionTimestamp;
}

export function podIp(pod: KubeObject): string {
  return pod.status?.podIP || pod.status?.podIPs?.[0]?.ip || '';
}

/** The container port a service port reaches on this pod: a number as is, a name looked up per pod (podutil.FindPort). */
export function findPort(pod: KubeObject, servicePort: Json): number | undefined {
  const target = servicePort.targetPort ?? servicePort.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(String(target))) return Number(target);
  const protocol = servicePort.protocol ?? 'TCP';
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return undefined;
}

/** The pod's ports for the Service, in service port order; undefined entries where a named port is missing. */
export function podPorts(svc: KubeObject, pod: KubeObject): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of svc.spec?.ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    const ep: EndpointPort = { name: sp.name ?? '', port, protocol: sp.protocol ?? 'TCP' };
    if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
    out.push(ep);
  }
  return out;
}

/** A StatefulSet pod's DNS name under the Service it names as subdomain. */
export function hostnameFor(svc: KubeObject, pod: KubeObject): string | undefined {
  const hostname = pod.spec?.hostname;
  return hostname && pod.spec?.subdomain === svc.metadata.name && pod.metadata.namespace === svc.metadata.namespace ? hostname : undefined;
}

export function podRef(pod: KubeObject): { kind: 'Pod'; namespace: string; name: string; uid: string } {
  return { kind: 'Pod', namespace: pod.metadata.namespace ?? '', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' };
}

/** When a pod last changed in a way endpoints see (readiness, creation, deletion): for the trigger-time annotation. */
export function podChangeTime(pod: KubeObject): string | undefined {
  const ready = (pod.status?.conditions ?? []).find((c: Json) => c.type === 'Ready');
  const times = [pod.metadata.creationTimestamp, ready?.lastTransitionTime, pod.metadata.deletionTimestamp].filter(Boolean) as string[];
  return times.sort().at(-1);
}

export function triggerTime(svc: KubeObject, pods: KubeObject[]): string | undefined {
  const times = [svc.metadata.creationTimestamp, ...pods.map(podChangeTime)].filter(Boolean) as string[];
  return times.sort().at(-1);
}

/** JSON with object keys sorted: equal values give equal text whatever order the server kept. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

export const portKey = (ports: EndpointPort[]) =>
  JSON.stringify([...ports].sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || a.port - b.port || a.protocol.localeCompare(b.protocol)));

type Address = { ip: string; hostname?: string; nodeName?: string; targetRef: ReturnType<typeof podRef> };
type Subset = { addresses?: Address[]; notReadyAddresses?: Address[]; ports?: EndpointPort[] };

const byIp = (a: Address, b: Address) => a.ip.localeCompare(b.ip) || a.targetRef.uid.localeCompare(b.targetRef.uid);

/**
 * Endpoints subsets: ready pods in addresses, not-ready in notReadyAddresses
 * (everyone ready with publishNotReadyAddresses), terminating pods left out;
 * pods whose named ports resolve differently land in different subsets.
 */
export function desiredSubsets(svc: KubeObject, pods: KubeObject[]): { subsets: Subset[]; truncated: boolean } {
  const publish = svc.spec?.publishNotReadyAddresses === true;
  const groups = new Map<string, { ports: EndpointPort[]; ready: Address[]; notReady: Address[] }>();
  for (const pod of pods) {
    if (!selectsPod(svc, pod) || !podEligible(pod, { includeTerminating: publish })) continue;
    // Field order as Kubernetes writes them: ip, hostname, nodeName, targetRef.
    const hostname = hostnameFor(svc, pod);
    const address = {
      ip: podIp(pod),
      ...(hostname ? { hostname } : {}),
      ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
      targetRef: podRef(pod),
    } as Address;
    const ports = podPorts(svc, pod);
    // No resolvable port: only a headless Service without ports lists the bare address.
    if (ports.length === 0 && !((svc.spec?.ports ?? []).length === 0 && isHeadless(svc))) continue;
    const key = portKey(ports);
    const group = groups.get(key) ?? { ports: JSON.parse(key), ready: [], notReady: [] };
    groups.set(key, group);
    (publish || isPodReady(pod) ? group.ready : group.notReady).push(address);
  }
  const sorted = [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, g]) => g);
  let budget = MAX_ENDPOINTS_ADDRESSES;
  let truncated = false;
  // Over capacity: keep ready addresses first, then not-ready ones, until 1000.
  for (const list of ['ready', 'notReady'] as const) {
    for (const g of sorted) {
      g[list].sort(byIp);
      if (g[list].length > budget) {
        g[list] = g[list].slice(0, budget);
        truncated = true;
      }
      budget -= g[list].length;
    }
  }
  const subsets: Subset[] = [];
  for (const g of sorted) {
    if (g.ready.length === 0 && g.notReady.length === 0) continue;
    const subset: Subset = {};
    if (g.ready.length) subset.addresses = g.ready;
    if (g.notReady.length) subset.notReadyAddresses = g.notReady;
    // Endpoints ports omit an empty name (EndpointSlice ports keep it).
    if (g.ports.length) subset.ports = g.ports.map(({ name, ...rest }) => (name ? { name, ...rest } : rest));
    subsets.push(subset);
  }
  return { subsets, truncated };
}

/** Labels an Endpoints or EndpointSlice copies from its Service. */
export function inheritedLabels(svc: KubeObject): Record<string, string> {
  const labels: Record<string, string> = { ...(svc.metadata.labels ?? {}) };
  if (isHeadless(svc)) labels[HEADLESS_LABEL] = '';
  else delete labels[HEADLESS_LABEL];
  return labels;
}

/**
 * The Endpoints object for a Service, or undefined when `existing` already
 * says the same (the trigger time only moves when something changed).
 */
export function desiredEndpoints(svc: KubeObject, pods: KubeObject[], existing: KubeObject | undefined): KubeObject | undefined {
  const selected = pods.filter((p) => selectsPod(svc, p));
  const { subsets, truncated } = desiredSubsets(svc, selected);
  const labels = { ...inheritedLabels(svc), [SKIP_MIRROR_LABEL]: 'true' };
  const annotations: Record<string, string> = { ...(existing?.metadata.annotations ?? {}) };
  if (truncated) annotations[OVER_CAPACITY_ANNOTATION] = 'truncated';
  else delete annotations[OVER_CAPACITY_ANNOTATION];
  const same =
    existing &&
    canonical(existing.subsets ?? []) === canonical(subsets) &&
    canonical(existing.metadata.labels ?? {}) === canonical(labels) &&
    existing.metadata.annotations?.[OVER_CAPACITY_ANNOTATION] === annotations[OVER_CAPACITY_ANNOTATION];
  if (same) return undefined;
  const trigger = triggerTime(svc, selected);
  if (trigger) annotations[TRIGGER_TIME_ANNOTATION] = trigger;
  const metadata: KubeObject['metadata'] = { name: svc.metadata.name, namespace: svc.metadata.namespace, labels };
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  if (existing?.metadata.resourceVersion) metadata.resourceVersion = existing.metadata.resourceVersion;
  const out: KubeObject = { apiVersion: 'v1', kind: 'Endpoints', metadata };
  if (subsets.length) out.subsets = subsets;
  return out;
}
