// StatefulSet controller: pods `<set>-<ordinal>` with a stable identity
// (hostname = pod name, subdomain = spec.serviceName, so `<pod>.<service>`
// resolves through the headless Service), created and removed in ordinal
// order (OrderedReady) or all at once (Parallel), updated through
// ControllerRevisions (RollingUpdate with partition, or OnDelete).
// Decisions are made by planStatefulSet (statefulset-plan.ts); this file does
// the I/O. volumeClaimTemplates are not acted on (no PersistentVolumeClaims yet).
import { ApiError, isNotFound } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import { errorText, type Informer, keyOf, refs, runController, WorkQueue } from '../client/index.ts';
import type { ControllerContext } from './context.ts';
import { revisionsToPrune } from './revisions.ts';
import {
  applyIdentity,
  identityMatches,
  isMemberOf,
  parentAndOrdinal,
  planStatefulSet,
  POD_INDEX_LABEL,
  POD_NAME_LABEL,
  podName,
  podRevision,
  type StatefulSetAction,
} from './statefulset-plan.ts';
import { claim, deleteRevisions, slowStartBatch, statusChanged, syncRevisions, templateOf, watchOwnedPods } from './workload-io.ts';
import { type Pod, podFromTemplate, REVISION_HASH_LABEL } from './workload-pods.ts';

const KIND = 'StatefulSet';
/** Sets reconciled in parallel; each pass is a handful of requests. */
const WORKERS = 4;
/** After this many failed passes on one set a Warning Event tells the user. */
const EVENT_AFTER_RETRIES = 3;
/** Kubernetes keeps 10 old revisions unless the set says otherwise. */
const DEFAULT_HISTORY_LIMIT = 10;
/** Look again this soon when our own write is not in the cache yet (a create that found the pod existing). */
const CACHE_LAG_RECHECK_MS = 200;

export async function runStatefulSetController(ctx: ControllerContext): Promise<void> {
  const { informers, recorder, signal, log } = ctx;
  const queue = new WorkQueue({ signal });
  const sets = informers.for(refs.statefulsets);
  const pods = informers.for(refs.pods);
  const revisions = informers.for(refs.controllerrevisions);
  sets.addHandlers({
    onAdd: (s) => queue.add(keyOf(s)),
    onUpdate: (_o, s) => queue.add(keyOf(s)),
    onDelete: (s) => queue.add(keyOf(s)),
  });
  watchOwnedPods({ pods, owners: sets, kind: KIND, queue });
  if (!(await informers.waitForSync())) return;

  const reconcile = async (key: string) => {
    const set = sets.get(key);
    if (!set) return; // deleted: the garbage collector removes its pods and revisions
    return syncStatefulSet(ctx, set, pods, revisions);
  };

  await runController({
    name: 'statefulset',
    queue,
    workers: WORKERS,
    reconcile,
    log,
    onError(key, err, retries) {
      const set = sets.get(key);
      if (set && retries >= EVENT_AFTER_RETRIES) void recorder.record(set, 'Warning', 'FailedSync', `Error syncing StatefulSet: ${errorText(err)}`);
    },
  });
}

async function syncStatefulSet(ctx: ControllerContext, set: KubeObject, podCache: Informer, revisionCache: Informer) {
  const { client, recorder } = ctx;
  const ns = set.metadata.namespace ?? '';
  const name = set.metadata.name ?? '';
  const pods = await claim(client, set, podCache.list({ namespace: ns }), { kind: KIND, ownerRef: refs.statefulsets, filter: (p) => isMemberOf(set, p) });
  const { sorted, update, collisionCount } = await syncRevisions(client, set, revisionCache.list({ namespace: ns }), { kind: KIND });
  const current = sorted.find((r) => r.metadata.name === set.status?.currentRevision) ?? update;
  const plan = planStatefulSet({
    set,
    pods,
    currentRevision: current.metadata.name ?? '',
    updateRevision: update.metadata.name ?? '',
    collisionCount,
    now: Date.now(),
  });

  let requeueAfterMs = plan.requeueAfterMs;
  const act = async (action: StatefulSetAction) => {
    if (action.type === 'create') {
      const revision = action.revision === 'current' ? current : update;
      const pod = podFromTemplate(templateOf(revision) ?? set.spec?.template, set, KIND);
      applyIdentity(set, pod, action.ordinal);
      pod.metadata.labels = { ...pod.metadata.labels, [REVISION_HASH_LABEL]: revision.metadata.name ?? '' };
      const podNameText = podName(set, action.ordinal);
      try {
        await client.create(refs.pods, pod);
      } catch (err) {
        if (err instanceof ApiError && err.reason === 'AlreadyExists') {
          requeueAfterMs = CACHE_LAG_RECHECK_MS; // our cache lags behind a pod created moments ago
          return;
        }
        void recorder.record(set, 'Warning', 'FailedCreate', `create Pod ${podNameText} in StatefulSet ${name} failed error: ${errorText(err)}`);
        throw err;
      }
      void recorder.record(set, 'Normal', 'SuccessfulCreate', `create Pod ${podNameText} in StatefulSet ${name} successful`);
      return;
    }
    const podNameText = action.pod.metadata.name ?? '';
    if (action.type === 'delete') {
      try {
        await client.delete(refs.pods, podNameText, { namespace: ns, preconditions: { uid: action.pod.metadata.uid } });
      } catch (err) {
        if (isNotFound(err)) return;
        void recorder.record(set, 'Warning', 'FailedDelete', `delete Pod ${podNameText} in StatefulSet ${name} failed error: ${errorText(err)}`);
        throw err;
      }
      void recorder.record(set, 'Normal', 'SuccessfulDelete', `delete Pod ${podNameText} in StatefulSet ${name} successful`);
      return;
    }
    await fixIdentity(ctx, set, action.pod);
  };

  const monotonic = set.spec?.podManagementPolicy !== 'Parallel';
  try {
    if (monotonic) for (const action of plan.actions) await act(action);
    else await slowStartBatch(plan.actions, act);
  } finally {
    // Status is written even when an action failed, as Kubernetes does.
    if (statusChanged(set.status, plan.status)) {
      await client.updateStatus(refs.statefulsets, { ...set, status: { ...set.status, ...plan.status } }).catch((err) => {
        if (!isNotFound(err)) throw err;
      });
    }
  }

  const live = new Set([current.metadata.name ?? '', update.metadata.name ?? '', ...pods.map(podRevision)]);
  await deleteRevisions(client, revisionsToPrune(sorted, live, set.spec?.revisionHistoryLimit ?? DEFAULT_HISTORY_LIMIT));
  return requeueAfterMs === undefined ? undefined : { requeueAfterMs };
}

/** Puts back the labels that carry a pod's identity (hostname and subdomain cannot change on a pod). */
async function fixIdentity(ctx: ControllerContext, set: KubeObject, pod: Pod): Promise<void> {
  if (identityMatches(set, pod)) return;
  const { ordinal } = parentAndOrdinal(pod.metadata.name ?? '');
  const labels = { [POD_NAME_LABEL]: pod.metadata.name ?? '', [POD_INDEX_LABEL]: String(ordinal) };
  await ctx.client.patch(refs.pods, pod.metadata.name ?? '', { metadata: { labels, resourceVersion: pod.metadata.resourceVersion } }, {
    type: 'merge',
    namespace: pod.metadata.namespace,
  });
}
