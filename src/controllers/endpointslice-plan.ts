// What a Service's EndpointSlices should hold and how to get there with few
// writes (Kubernetes' endpointslice reconciler): endpoints keep their slice,
// changed ones are replaced in place, new ones fill slices being written
// anyway before new slices are made, at most 100 per slice. Pure.
import type { KubeObject } from '../api/types.ts';
import {
  canonical,
  type EndpointPort,
  hostnameFor,
  inheritedLabels,
  podEligible,
  podIp,
  podPorts,
  podRef,
  portKey,
  selectsPod,
  TRIGGER_TIME_ANNOTATION,
  triggerTime,
} from './endpoints-plan.ts';
import { isPodReady } from './pod-conditions.ts';

// biome-ignore lint/suspicious/noExplicitAny: specs are plain JSON
type Json = any;

/** kube-controller-manager's --max-endpoints-per-slice default. */
export const MAX_ENDPOINTS_PER_SLICE = 100;
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const CONTROLLER_NAME = 'endpointslice-controller.k8s.io';

export type SliceEndpoint = {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  hostname?: string;
  targetRef: ReturnType<typeof podRef>;
  nodeName?: string;
  zone?: string;
};

export type EndpointGroup = { ports: EndpointPort[]; endpoints: SliceEndpoint[] };

export type SlicePlan = { create: KubeObject[]; update: KubeObject[]; delete: KubeObject[] };

export const endpointKey = (e: SliceEndpoint) => `${e.addresses[0]}/${e.targetRef?.uid ?? ''}`;

/**
 * Desired endpoints by port set. Terminating pods stay, marked terminating
 * and not ready; serving follows readiness (Kubernetes' EndpointSlice conditions).
 */
export function desiredGroups(svc: KubeObject, pods: KubeObject[], zoneOf: (node: string) => string | undefined = () => undefined): Map<string, EndpointGroup> {
  const publish = svc.spec?.publishNotReadyAddresses === true;
  const groups = new Map<string, EndpointGroup>();
  const portless = (svc.spec?.ports ?? []).length === 0;
  for (const pod of pods) {
    if (!selectsPod(svc, pod) || !podEligible(pod, { includeTerminating: true })) continue;
    const ports = podPorts(svc, pod);
    if (ports.length === 0 && !portless) continue;
    const terminating = Boolean(pod.metadata.deletionTimestamp);
    const ready = isPodReady(pod);
    const endpoint: SliceEndpoint = {
      addresses: [podIp(pod)],
      conditions: { ready: publish || (ready && !terminating), serving: publish || ready, terminating },
      targetRef: podRef(pod),
    };
    const hostname = hostnameFor(svc, pod);
    if (hostname) endpoint.hostname = hostname;
    const node = pod.spec?.nodeName;
    if (node) endpoint.nodeName = node;
    const zone = node ? zoneOf(node) : undefined;
    if (zone) endpoint.zone = zone;
    const key = portKey(ports);
    const group: EndpointGroup = groups.get(key) ?? { ports: JSON.parse(key), endpoints: [] };
    groups.set(key, group);
    group.endpoints.push(endpoint);
  }
  for (const g of groups.values()) g.endpoints.sort((a, b) => endpointKey(a).localeCompare(endpointKey(b)));
  return groups;
}

function sliceLabels(svc: KubeObject): Record<string, string> {
  return { ...inheritedLabels(svc), [SERVICE_NAME_LABEL]: svc.metadata.name ?? '', [MANAGED_BY_LABEL]: CONTROLLER_NAME };
}

function newSlice(svc: KubeObject, ports: EndpointPort[] | undefined, endpoints: SliceEndpoint[], trigger: string | undefined): KubeObject {
  const metadata: KubeObject['metadata'] = {
    generateName: `${(svc.metadata.name ?? '').slice(0, 57)}-`,
    namespace: svc.metadata.namespace,
    labels: sliceLabels(svc),
    ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: svc.metadata.name ?? '', uid: svc.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
  };
  if (trigger) metadata.annotations = { [TRIGGER_TIME_ANNOTATION]: trigger };
  const slice: KubeObject = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata, addressType: 'IPv4', endpoints };
  if (ports) slice.ports = ports;
  return slice;
}

function rewritten(svc: KubeObject, slice: KubeObject, endpoints: SliceEndpoint[], trigger: string | undefined): KubeObject {
  const annotations = { ...(slice.metadata.annotations ?? {}) };
  if (trigger) annotations[TRIGGER_TIME_ANNOTATION] = trigger;
  return { ...slice, metadata: { ...slice.metadata, labels: sliceLabels(svc), annotations }, endpoints };
}

const slicePortKey = (slice: KubeObject) => portKey(((slice.ports ?? []) as Json[]).map((p) => ({ ...p, name: p.name ?? '' })));

/**
 * The writes that bring `existing` (this controller's slices of the Service)
 * to the desired groups, touching as few slices as it can.
 */
export function planSlices(svc: KubeObject, pods: KubeObject[], existing: KubeObject[], options: { maxPerSlice?: number; zoneOf?: (node: string) => string | undefined } = {}): SlicePlan {
  const max = options.maxPerSlice ?? MAX_ENDPOINTS_PER_SLICE;
  const groups = desiredGroups(svc, pods, options.zoneOf);
  const trigger = triggerTime(svc, pods.filter((p) => selectsPod(svc, p)));
  const plan: SlicePlan = { create: [], update: [], delete: [] };
  const labels = canonical(sliceLabels(svc));
  const kept: KubeObject[] = [];

  for (const slice of existing) {
    const group = slice.addressType === 'IPv4' ? groups.get(slicePortKey(slice)) : undefined;
    if (!group) {
      plan.delete.push(slice);
      continue;
    }
    const wanted = new Map(group.endpoints.map((e) => [endpointKey(e), e]));
    const next: SliceEndpoint[] = [];
    let changed = canonical(slice.metadata.labels ?? {}) !== labels;
    for (const e of (slice.endpoints ?? []) as SliceEndpoint[]) {
      const want = wanted.get(endpointKey(e));
      if (!want) {
        changed = true;
        continue;
      }
      if (canonical(want) !== canonical(e)) changed = true;
      next.push(want);
      // Taken: neither another slice nor the new ones list it again.
      group.endpoints.splice(group.endpoints.indexOf(want), 1);
      wanted.delete(endpointKey(e));
    }
    if (next.length === 0) plan.delete.push(slice);
    else if (changed) plan.update.push(rewritten(svc, slice, next, trigger));
    else kept.push(slice);
  }

  for (const [key, group] of groups) {
    let rest = group.endpoints;
    // Slices of this port set that are written anyway take new endpoints first.
    for (const slice of plan.update) {
      if (rest.length === 0) break;
      if (slicePortKey(slice) !== key) continue;
      const room = max - slice.endpoints.length;
      if (room > 0) {
        slice.endpoints = [...slice.endpoints, ...rest.slice(0, room)];
        rest = rest.slice(room);
      }
    }
    // Then one unchanged slice, if all that is left fits (one write instead of a new slice).
    if (rest.length > 0) {
      const fits = kept
        .filter((s) => slicePortKey(s) === key && max - (s.endpoints ?? []).length >= rest.length)
        .sort((a, b) => (b.endpoints ?? []).length - (a.endpoints ?? []).length)[0];
      if (fits) {
        kept.splice(kept.indexOf(fits), 1);
        plan.update.push(rewritten(svc, fits, [...(fits.endpoints ?? []), ...rest], trigger));
        rest = [];
      }
    }
    for (let i = 0; i < rest.length; i += max) plan.create.push(newSlice(svc, group.ports, rest.slice(i, i + max), trigger));
  }

  // A Service with no endpoints keeps one empty placeholder slice.
  const remaining = kept.length + plan.update.length + plan.create.length;
  if (remaining === 0) {
    const placeholder = plan.delete.findIndex((s) => (s.endpoints ?? []).length === 0 && (s.ports ?? []).length === 0 && s.addressType === 'IPv4');
    if (placeholder >= 0) {
      const [slice] = plan.delete.splice(placeholder, 1);
      if (canonical(slice.metadata.labels ?? {}) !== labels) plan.update.push(rewritten(svc, slice, [], undefined));
    } else {
      plan.create.push(newSlice(svc, undefined, [], trigger));
    }
  }
  return plan;
}
