// TTL-after-finished controller (Kubernetes' ttlafterfinished): a finished
// Job with spec.ttlSecondsAfterFinished is deleted (with its pods, in the
// foreground) that long after it completed or failed.
import { ApiError, isNotFound } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import { keyOf, refs, runController, WorkQueue } from '../client/index.ts';
import type { ControllerContext } from './context.ts';
import { jobFinishedCondition } from './job-plan.ts';

/** Jobs checked in parallel (kube-controller-manager --concurrent-ttl-after-finished-syncs default is 5). */
const WORKERS = 5;
/** Longest wait before looking again (timers cannot exceed ~24.8 days; a long TTL is re-checked daily). */
const MAX_REQUEUE_MS = 24 * 3600_000;
const later = (ms: number) => ({ requeueAfterMs: Math.min(ms, MAX_REQUEUE_MS) });

/** When the Job may be deleted (ms since epoch), or undefined when it has no TTL or has not finished. */
export function expiresAtMs(job: KubeObject): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  if (typeof ttl !== 'number' || job.metadata.deletionTimestamp) return undefined;
  const finished = jobFinishedCondition(job);
  if (!finished) return undefined;
  const at = Date.parse(finished.lastTransitionTime ?? job.status?.completionTime ?? '');
  return (Number.isFinite(at) ? at : Date.now()) + ttl * 1000;
}

export async function runTtlAfterFinishedController(options: ControllerContext & { now?: () => Date }): Promise<void> {
  const { client, informers, signal, log } = options;
  const now = options.now ?? (() => new Date());
  const jobs = informers.for(refs.jobs);
  const queue = new WorkQueue({ signal });
  const enqueue = (job: KubeObject) => {
    if (expiresAtMs(job) !== undefined) queue.add(keyOf(job));
  };
  jobs.addHandlers({ onAdd: enqueue, onUpdate: (_o, job) => enqueue(job) });
  if (!(await informers.waitForSync())) return;

  const reconcile = async (key: string) => {
    const cached = jobs.get(key);
    const at = cached && expiresAtMs(cached);
    if (!cached || at === undefined) return;
    if (at > now().getTime()) return later(at - now().getTime());
    // The cache may be stale (TTL changed, Job recreated): decide on the live object.
    let live: KubeObject;
    try {
      live = await client.get(refs.jobs, cached.metadata.name ?? '', { namespace: cached.metadata.namespace });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    const liveAt = expiresAtMs(live);
    if (liveAt === undefined) return;
    if (liveAt > now().getTime()) return later(liveAt - now().getTime());
    try {
      await client.delete(refs.jobs, live.metadata.name ?? '', {
        namespace: live.metadata.namespace,
        propagationPolicy: 'Foreground',
        preconditions: { uid: live.metadata.uid, resourceVersion: live.metadata.resourceVersion },
      });
      log.info('deleted finished job after its TTL', { job: key });
    } catch (err) {
      if (isNotFound(err)) return;
      if (err instanceof ApiError && err.code === 409) return { requeueAfterMs: 0 }; // changed meanwhile: look again
      throw err;
    }
  };

  await runController({ name: 'ttl-after-finished', queue, workers: WORKERS, reconcile, log });
}
