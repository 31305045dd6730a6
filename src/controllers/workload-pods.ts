// Pure pod helpers the StatefulSet and DaemonSet controllers share (beside
// pod-conditions.ts and controller-ref.ts, which they re-use): pod phases,
// pods from a template with a controllerRef, selectors, int-or-percent.
import { labelSelectorToRequirements, matchesSelector } from '../api/labels.ts';
import type { KubeObject } from '../api/types.ts';
import { newControllerRef } from './controller-ref.ts';
import { podReadySince } from './pod-conditions.ts';

export { isPodAvailable, isPodReady } from './pod-conditions.ts';
export { controllerOf } from './controller-ref.ts';

export type Pod = KubeObject;

/** Label on pods and ControllerRevisions naming the revision a pod was made from. */
export const REVISION_HASH_LABEL = 'controller-revision-hash';

/** Milliseconds until a ready pod becomes available, 0 when it already is or is not ready at all. */
export function msUntilAvailable(pod: Pod, minReadySeconds: number, now: number): number {
  const since = podReadySince(pod);
  if (since === undefined || !minReadySeconds) return 0;
  // isPodAvailable wants the deadline strictly passed.
  return Math.max(0, since + minReadySeconds * 1000 + 1 - now);
}

export const isTerminating = (pod: Pod): boolean => Boolean(pod.metadata.deletionTimestamp);
export const isRunning = (pod: Pod): boolean => pod.status?.phase === 'Running';
export const isFinished = (pod: Pod): boolean => pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded';
export const creationMs = (obj: KubeObject): number => Date.parse(obj.metadata.creationTimestamp ?? '') || 0;

/** A pod from the owner's template (controller.GetPodFromTemplate): labels, annotations, finalizers and spec copied. */
export function podFromTemplate(template: KubeObject | undefined, owner: KubeObject, kind: string): Pod {
  const meta = template?.metadata ?? {};
  const pod: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      namespace: owner.metadata.namespace,
      labels: { ...(meta.labels ?? {}) },
      ownerReferences: [newControllerRef(owner, { apiVersion: 'apps/v1', kind })],
    },
    spec: structuredClone(template?.spec ?? {}),
  };
  if (meta.annotations) pod.metadata.annotations = { ...meta.annotations };
  if (meta.finalizers) pod.metadata.finalizers = [...meta.finalizers];
  return pod;
}

/** The owner's spec.selector as a predicate on labels; a missing or invalid selector matches nothing. */
export function selectorMatcher(selector: unknown): (labels: Record<string, string> | undefined) => boolean {
  try {
    const reqs = labelSelectorToRequirements(selector as Parameters<typeof labelSelectorToRequirements>[0]);
    if (!reqs || reqs.length === 0) return () => false;
    return (labels) => matchesSelector(reqs, labels);
  } catch {
    return () => false;
  }
}

/** Parses an int-or-percent (`2`, `"25%"`) against a total, rounding percentages up or down. */
export function scaledValue(value: number | string | undefined, total: number, options: { roundUp: boolean; fallback: number }): number {
  if (value === undefined || value === null) return options.fallback;
  if (typeof value === 'number') return value;
  const m = /^(\d+)%$/.exec(value);
  if (!m) {
    const n = Number.parseInt(value, 10);
    return Number.isFinite(n) ? n : options.fallback;
  }
  const exact = (Number(m[1]) * total) / 100;
  return options.roundUp ? Math.ceil(exact) : Math.floor(exact);
}
