// What the kubelet knows about a pod's containers, rebuilt from the runtime's
// list (labels carry pod uid, container name and restart count, so the view
// survives an agent restart). Pure.
import type { KubeObject } from '../../api/types.ts';
import type { ContainerState } from '../types.ts';
import { LABELS } from './constants.ts';

export type ContainerType = 'init' | 'app';

/** One container instance (one run of a container of the pod spec). */
export type Instance = {
  id: string;
  podUid: string;
  name: string;
  type: ContainerType;
  restartCount: number;
  status: ContainerState['status'];
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  oomKilled?: boolean;
  image: string;
  imageId: string;
  specHash: string;
};

/** A spec container's runs: the newest and the one before (kubectl logs --previous, lastState). */
export type ContainerView = { current?: Instance; previous?: Instance; older: Instance[] };

/** The parts of core/v1 Container the kubelet reads. */
export type ContainerSpec = {
  name: string;
  image?: string;
  imagePullPolicy?: string;
  restartPolicy?: string;
  // biome-ignore lint/suspicious/noExplicitAny: probes, lifecycle, ports etc. are read where used
  [field: string]: any;
};

export function instanceFrom(state: ContainerState): Instance | undefined {
  const l = state.labels ?? {};
  const podUid = l[LABELS.podUid];
  const name = l[LABELS.containerName];
  if (!podUid || !name) return undefined;
  return {
    id: state.id,
    podUid,
    name,
    type: l[LABELS.containerType] === 'init' ? 'init' : 'app',
    restartCount: Number(l[LABELS.restartCount] ?? 0) || 0,
    status: state.status,
    startedAt: state.startedAt,
    finishedAt: state.finishedAt,
    exitCode: state.exitCode,
    oomKilled: state.oomKilled,
    image: l[LABELS.image] ?? '',
    imageId: l[LABELS.imageId] ?? '',
    specHash: l[LABELS.specHash] ?? '',
  };
}

/** Groups one pod's instances by container name, newest (highest restart count) first. */
export function viewsOf(instances: Instance[]): Map<string, ContainerView> {
  const byName = new Map<string, Instance[]>();
  for (const i of instances) {
    const list = byName.get(i.name) ?? [];
    list.push(i);
    byName.set(i.name, list);
  }
  const out = new Map<string, ContainerView>();
  for (const [name, list] of byName) {
    list.sort((a, b) => b.restartCount - a.restartCount || (b.startedAt ?? '').localeCompare(a.startedAt ?? ''));
    out.set(name, { current: list[0], previous: list[1], older: list.slice(2) });
  }
  return out;
}

export const initContainers = (pod: KubeObject): ContainerSpec[] => pod.spec?.initContainers ?? [];
export const appContainers = (pod: KubeObject): ContainerSpec[] => pod.spec?.containers ?? [];
/** A restartable init container (a sidecar): runs beside the app containers. */
export const isSidecar = (c: ContainerSpec) => c.restartPolicy === 'Always';

/** How long an instance ran, in ms (0 when unknown). */
export function ranMs(i: Instance): number {
  if (!i.startedAt || !i.finishedAt) return 0;
  return Math.max(0, Date.parse(i.finishedAt) - Date.parse(i.startedAt));
}

/** Whether restartPolicy asks for another run after this exit. */
export function shouldRestart(restartPolicy: string | undefined, exitCode: number | undefined): boolean {
  if (restartPolicy === 'Never') return false;
  if (restartPolicy === 'OnFailure') return exitCode !== 0;
  return true;
}

/** Stable hash of the parts of a container spec whose change means "run it again" (kubelet's HashContainer). */
export function specHash(c: ContainerSpec): string {
  const text = JSON.stringify(canonical(c));
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    // Resources may be resized in place in newer Kubernetes; keep them out as kubelet does.
    const entries = Object.entries(value as Record<string, unknown>).filter(([k]) => k !== 'resources');
    return Object.fromEntries(entries.sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, canonical(v)]));
  }
  return value;
}
