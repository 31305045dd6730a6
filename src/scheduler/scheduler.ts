// The scheduler loop: pending pods come off the queue one at a time, a
// decision is made against the in-memory cache (pure, fast), the pod is
// assumed on its node and bound through pods/<name>/binding in the
// background, so the next decision does not wait for the API.
import { ApiError } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import { type Client, createEventRecorder, type EventRecorder, errorText, refs, type SharedInformers } from '../client/index.ts';
import type { Logger } from '../lib/log.ts';
import { SchedulerCache, podKey } from './cache.ts';
import { SchedulingQueue } from './queue.ts';
import { schedulePod } from './schedule.ts';

/** The schedulerName this scheduler serves (pods without one get it by defaulting). */
export const SCHEDULER_NAME = 'default-scheduler';
/**
 * Bindings in flight at once: decisions take microseconds, a binding a round
 * trip and a store write, so many run side by side; more would only queue
 * inside the API server.
 */
const BIND_CONCURRENCY = 32;
/** Events written at once: they are for people, and must not crowd out bindings in a burst. */
const EVENT_CONCURRENCY = 4;

export function isPendingForUs(pod: KubeObject): boolean {
  const spec = pod.spec ?? {};
  const phase = pod.status?.phase;
  return (
    !spec.nodeName &&
    (spec.schedulerName ?? SCHEDULER_NAME) === SCHEDULER_NAME &&
    !pod.metadata.deletionTimestamp &&
    phase !== 'Succeeded' &&
    phase !== 'Failed' &&
    (spec.schedulingGates ?? []).length === 0
  );
}

const isTerminal = (pod: KubeObject) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/** Did a node change in a way that could let a waiting pod fit (not just a heartbeat)? */
export function nodeSchedulingChanged(old: KubeObject, node: KubeObject): boolean {
  const ready = (n: KubeObject) => (n.status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready')?.status;
  return (
    JSON.stringify(old.spec) !== JSON.stringify(node.spec) ||
    JSON.stringify(old.metadata.labels) !== JSON.stringify(node.metadata.labels) ||
    JSON.stringify(old.status?.allocatable) !== JSON.stringify(node.status?.allocatable) ||
    ready(old) !== ready(node)
  );
}

/** Runs a small number of async tasks at once, the rest wait in order. */
function limiter(concurrency: number) {
  let running = 0;
  const waiting: (() => void)[] = [];
  return (task: () => Promise<unknown>) => {
    const start = () => {
      running++;
      void task().finally(() => {
        running--;
        waiting.shift()?.();
      });
    };
    if (running < concurrency) start();
    else waiting.push(start);
  };
}

/** What the scheduler needs; a controller context has all of it. */
export type SchedulerOptions = {
  client: Client;
  informers: SharedInformers;
  signal: AbortSignal;
  log: Logger;
  nodeName: string;
  /** Events are written as from "default-scheduler", as kubectl describe users expect. */
  recorder?: EventRecorder;
};

/** Runs until the signal aborts (the controllers' leader runs it). */
export async function runScheduler(ctx: SchedulerOptions): Promise<void> {
  const { client, signal, log } = ctx;
  const source = { component: SCHEDULER_NAME, host: ctx.nodeName };
  const recorder = ctx.recorder?.withSource(source) ?? createEventRecorder({ client, ...source, log });
  const cache = new SchedulerCache();
  const queue = new SchedulingQueue({ signal });
  const pods = ctx.informers.for(refs.pods);
  const nodes = ctx.informers.for(refs.nodes);
  const event = limiter(EVENT_CONCURRENCY);

  nodes.addHandlers({
    onAdd: (node) => {
      cache.setNode(node);
      queue.moveAllToActiveOrBackoff();
    },
    onUpdate: (old, node) => {
      cache.setNode(node);
      if (nodeSchedulingChanged(old, node)) queue.moveAllToActiveOrBackoff();
    },
    onDelete: (node) => cache.removeNode(node.metadata.name ?? ''),
  });
  const podChanged = (old: KubeObject | undefined, pod: KubeObject) => {
    const key = podKey(pod);
    if (pod.spec?.nodeName) {
      if (isTerminal(pod)) {
        cache.removePod(key);
        queue.moveAllToActiveOrBackoff();
      } else {
        cache.setPod(pod);
      }
      queue.done(key);
    } else if (isPendingForUs(pod)) {
      // Our own status writes change nothing that matters; spec or label changes might.
      const relevant = !old || JSON.stringify(old.spec) !== JSON.stringify(pod.spec) ||
        JSON.stringify(old.metadata.labels) !== JSON.stringify(pod.metadata.labels);
      if (relevant) queue.add(key);
    } else {
      queue.done(key);
    }
  };
  pods.addHandlers({
    onAdd: (pod) => podChanged(undefined, pod),
    onUpdate: (old, pod) => podChanged(old, pod),
    onDelete: (pod) => {
      const key = podKey(pod);
      queue.done(key);
      if (pod.spec?.nodeName || cache.isAssumed(key)) {
        cache.removePod(key);
        queue.moveAllToActiveOrBackoff();
      }
    },
  });
  if (!(await ctx.informers.waitForSync())) return;
  log.debug('scheduler started', { nodes: cache.nodes().length, pending: queue.length });

  const unschedulable = async (pod: KubeObject, message: string) => {
    event(() => recorder.record(pod, 'Warning', 'FailedScheduling', message));
    const current = (pod.status?.conditions ?? []).find((c: { type: string }) => c.type === 'PodScheduled');
    if (current?.status === 'False' && current.message === message) return;
    const condition = {
      type: 'PodScheduled',
      status: 'False',
      reason: 'Unschedulable',
      message,
      lastProbeTime: null,
      lastTransitionTime: current?.status === 'False' ? current.lastTransitionTime : new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    };
    try {
      await client.patch(refs.pods, pod.metadata.name!, { status: { conditions: [condition] } }, {
        type: 'strategic',
        namespace: pod.metadata.namespace,
        subresource: 'status',
      });
    } catch (err) {
      log.debug('could not record unschedulable condition', { pod: podKey(pod), err: errorText(err) });
    }
  };

  let inFlight = 0;
  const slots: (() => void)[] = [];
  const bind = async (pod: KubeObject, node: string, cycle: number) => {
    const key = podKey(pod);
    try {
      await client.request({
        method: 'POST',
        path: `/api/v1/namespaces/${encodeURIComponent(pod.metadata.namespace ?? '')}/pods/${encodeURIComponent(pod.metadata.name ?? '')}/binding`,
        body: {
          apiVersion: 'v1',
          kind: 'Binding',
          metadata: { name: pod.metadata.name, namespace: pod.metadata.namespace, uid: pod.metadata.uid },
          target: { apiVersion: 'v1', kind: 'Node', name: node },
        },
      });
      queue.done(key);
      event(() => recorder.record(pod, 'Normal', 'Scheduled', `Successfully assigned ${key} to ${node}`));
    } catch (err) {
      cache.forget(key);
      // 409: already bound or being deleted; 404: gone. The informer tells us what is true now.
      if (err instanceof ApiError && (err.code === 404 || err.code === 409)) {
        queue.done(key);
        return;
      }
      log.debug('binding failed', { pod: key, node, err: errorText(err) });
      event(() => recorder.record(pod, 'Warning', 'FailedScheduling', `Binding rejected: ${errorText(err)}`));
      queue.failed(key, { unschedulable: false, cycle });
    } finally {
      inFlight--;
      slots.shift()?.();
    }
  };

  let startIndex = 0;
  for (;;) {
    const key = await queue.pop();
    if (key === undefined || signal.aborted) break;
    const pod = pods.get(key);
    if (!pod || !isPendingForUs(pod) || cache.isAssumed(key)) continue;
    const cycle = queue.cycle;
    const result = schedulePod(pod, cache, { startIndex });
    const total = cache.nodes().length;
    if (result.node === undefined) {
      queue.failed(key, { unschedulable: true, cycle });
      void unschedulable(pod, result.message);
      continue;
    }
    if (total > 0) startIndex = (startIndex + result.evaluated) % total;
    cache.assume(pod, result.node);
    while (inFlight >= BIND_CONCURRENCY) await new Promise<void>((resolve) => slots.push(resolve));
    inFlight++;
    void bind(pod, result.node, cycle);
  }
  while (inFlight > 0) await new Promise<void>((resolve) => slots.push(resolve));
}
