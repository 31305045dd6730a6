// ReplicaSet controller (Kubernetes' pkg/controller/replicaset): keeps
// spec.replicas active pods for each ReplicaSet. Pods are claimed through
// controllerRef (adopting matching orphans, releasing pods that stopped
// matching), created in slow-start bursts and deleted in parallel, with
// expectations so a lagging informer cache never causes double work.
import { ApiError, isNotFound } from '../api/errors.ts';
import { type LabelSelector, labelSelectorToRequirements, matchesSelector } from '../api/labels.ts';
import type { KubeObject } from '../api/types.ts';
import { errorText, type Informer, keyOf, refs, runController, WorkQueue } from '../client/index.ts';
import type { ControllerContext } from './context.ts';
import { claimObjects, controllerOf, newControllerRef, recheckOwner } from './controller-ref.ts';
import { Expectations } from './expectations.ts';
import { isPodActive, isPodReady } from './pod-conditions.ts';
import {
  podFromTemplate,
  podsToDelete,
  type ReplicaFailure,
  relatedPods,
  replicaSetStatus,
  SLOW_START_INITIAL_BATCH,
  scaleDecision,
  slowStartBatch,
  statusChanged,
} from './replicaset-pods.ts';

export const REPLICASET_TYPE = { apiVersion: 'apps/v1', kind: 'ReplicaSet' };
/** Parallel reconciles (Kubernetes' --concurrent-replicaset-syncs default is 5). */
const WORKERS = 5;
/** Added to minReadySeconds before looking again, so the pod is surely available by then (Kubernetes adds 1 s too). */
const MIN_READY_SKEW_MS = 1000;

type Pod = KubeObject;

/** Runs until ctx.signal aborts. */
export async function runReplicaSetController(ctx: ControllerContext): Promise<void> {
  const { client, signal, log, recorder } = ctx;
  const queue = new WorkQueue({ signal });
  const expectations = new Expectations();
  const replicaSets: Informer = ctx.informers.for(refs.replicasets);
  const pods: Informer<Pod> = ctx.informers.for(refs.pods);

  // Parsed selectors, remembered per cached object (an update brings a new object, so a new entry).
  const selectors = new WeakMap<KubeObject, LabelSelector | null>();
  const selectorOf = (rs: KubeObject): LabelSelector | null => {
    let sel = selectors.get(rs);
    if (sel === undefined) {
      try {
        sel = labelSelectorToRequirements(rs.spec?.selector) ?? null;
      } catch {
        sel = null;
      }
      // An empty selector would match every pod; Kubernetes' controllers never act on one.
      if (sel?.length === 0) sel = null;
      selectors.set(rs, sel);
    }
    return sel;
  };

  /** The ReplicaSet a pod's controllerRef points at, if it is one we know (resolveControllerRef). */
  const ownerOf = (pod: Pod): KubeObject | undefined => {
    const ref = controllerOf(pod);
    if (ref?.kind !== REPLICASET_TYPE.kind || !ref.apiVersion.startsWith('apps/')) return undefined;
    const rs = replicaSets.get(`${pod.metadata.namespace}/${ref.name}`);
    return rs?.metadata.uid === ref.uid ? rs : undefined;
  };
  /** ReplicaSets whose selector matches an orphan pod: any of them may adopt it. */
  const enqueueMatching = (pod: Pod) => {
    for (const rs of replicaSets.list({ namespace: pod.metadata.namespace ?? '' })) {
      const sel = selectorOf(rs);
      if (sel && matchesSelector(sel, pod.metadata.labels)) queue.add(keyOf(rs));
    }
  };

  const podDeleted = (pod: Pod) => {
    const rs = ownerOf(pod);
    if (!rs) return;
    expectations.deletionObserved(keyOf(rs), keyOf(pod));
    queue.add(keyOf(rs));
  };
  const podAdded = (pod: Pod) => {
    if (pod.metadata.deletionTimestamp) return podDeleted(pod); // e.g. seen only after a restart
    if (controllerOf(pod)) {
      const rs = ownerOf(pod);
      if (!rs) return;
      expectations.creationObserved(keyOf(rs));
      queue.add(keyOf(rs));
      return;
    }
    enqueueMatching(pod);
  };
  const podUpdated = (old: Pod, pod: Pod) => {
    if (old.metadata.resourceVersion === pod.metadata.resourceVersion) return;
    const labelsChanged = JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(pod.metadata.labels ?? {});
    if (pod.metadata.deletionTimestamp) {
      // A pod being deleted counts as deleted now; its final removal is observed again harmlessly.
      podDeleted(pod);
      if (labelsChanged) podDeleted(old);
      return;
    }
    const oldRef = controllerOf(old);
    const newRef = controllerOf(pod);
    if (oldRef && oldRef.uid !== newRef?.uid) {
      const previous = ownerOf(old);
      if (previous) queue.add(keyOf(previous));
    }
    if (newRef) {
      const rs = ownerOf(pod);
      if (!rs) return;
      queue.add(keyOf(rs));
      const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
      if (minReadySeconds > 0 && !isPodReady(old) && isPodReady(pod)) {
        queue.addAfter(keyOf(rs), minReadySeconds * 1000 + MIN_READY_SKEW_MS);
      }
      return;
    }
    if (labelsChanged || oldRef) enqueueMatching(pod);
  };

  replicaSets.addHandlers({
    onAdd: (rs) => queue.add(keyOf(rs)),
    onUpdate: (_old, rs) => queue.add(keyOf(rs)),
    onDelete: (rs) => {
      expectations.delete(keyOf(rs));
      queue.add(keyOf(rs));
    },
  });
  pods.addHandlers({ onAdd: podAdded, onUpdate: podUpdated, onDelete: podDeleted });
  if (!(await ctx.informers.waitForSync())) return;

  /** Creates or deletes pods towards spec.replicas; returns the failure to report, if any. */
  const manageReplicas = async (key: string, rs: KubeObject, owned: Pod[]): Promise<ReplicaFailure | undefined> => {
    const { create, delete: remove } = scaleDecision(rs.spec?.replicas ?? 1, owned.length);
    const rsRef = { ...rs, ...REPLICASET_TYPE };
    if (create > 0) {
      expectations.expectCreations(key, create);
      const template = podFromTemplate(rs, newControllerRef(rs, REPLICASET_TYPE));
      log.debug('creating pods', { replicaset: key, count: create });
      const { succeeded, error } = await slowStartBatch(create, SLOW_START_INITIAL_BATCH, async () => {
        try {
          const pod = await client.create(refs.pods, template);
          void recorder.record(rsRef, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
        } catch (err) {
          if (namespaceTerminating(err)) return; // nothing can be created there any more; not a failure of ours
          void recorder.record(rsRef, 'Warning', 'FailedCreate', `Error creating: ${errorText(err)}`);
          throw err;
        }
      });
      // Creates that failed or never started will not show up in the cache.
      for (let i = succeeded; i < create; i++) expectations.creationObserved(key);
      return error === undefined ? undefined : { reason: 'FailedCreate', message: errorText(error) };
    }
    if (remove > 0) {
      const all = pods.list({ namespace: rs.metadata.namespace ?? '' });
      const victims = podsToDelete(
        owned,
        relatedPods(rs, replicaSets.list({ namespace: rs.metadata.namespace ?? '' }), all),
        remove,
        Date.now(),
      );
      expectations.expectDeletions(key, victims.map(keyOf));
      log.debug('deleting pods', { replicaset: key, count: victims.length });
      const results = await Promise.all(
        victims.map(async (pod) => {
          const name = pod.metadata.name ?? '';
          try {
            await client.delete(refs.pods, name, {
              namespace: pod.metadata.namespace,
              preconditions: { uid: pod.metadata.uid },
            });
            void recorder.record(rsRef, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
            return undefined;
          } catch (err) {
            // This deletion will not be observed; gone already (or replaced by a namesake) is fine.
            expectations.deletionObserved(key, keyOf(pod));
            if (isNotFound(err) || (err instanceof ApiError && err.code === 409)) return undefined;
            void recorder.record(rsRef, 'Warning', 'FailedDelete', `Error deleting: ${errorText(err)}`);
            return err;
          }
        }),
      );
      const error = results.find((e) => e !== undefined);
      return error === undefined ? undefined : { reason: 'FailedDelete', message: errorText(error) };
    }
    return undefined;
  };

  const reconcile = async (key: string) => {
    const rs = replicaSets.get(key);
    if (!rs) {
      expectations.delete(key);
      return;
    }
    const selector = selectorOf(rs);
    if (!selector) {
      log.debug('replicaset has no usable selector', { replicaset: key });
      return;
    }
    const needsSync = expectations.satisfied(key) && !rs.metadata.deletionTimestamp;
    const active = pods.list({ namespace: rs.metadata.namespace ?? '' }).filter(isPodActive);
    const owned = await claimObjects({
      client,
      resource: refs.pods,
      owner: rs,
      controllerRef: newControllerRef(rs, REPLICASET_TYPE),
      matches: (pod) => matchesSelector(selector, pod.metadata.labels),
      objects: active,
      canAdopt: recheckOwner(client, refs.replicasets, rs),
    });
    const failure = needsSync ? await manageReplicas(key, rs, owned) : undefined;
    const status = replicaSetStatus(rs, owned, { failure, nowMs: Date.now() });
    if (statusChanged(rs, status)) {
      try {
        await client.updateStatus(refs.replicasets, { ...rs, ...REPLICASET_TYPE, status });
      } catch (err) {
        if (!isNotFound(err)) throw err;
        return;
      }
    }
    if (failure) throw new Error(`${failure.reason}: ${failure.message}`);
    const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
    const replicas = status.replicas as number;
    if (
      minReadySeconds > 0 &&
      (status.readyReplicas ?? 0) === replicas &&
      (status.availableReplicas ?? 0) !== replicas
    ) {
      return { requeueAfterMs: minReadySeconds * 1000 };
    }
  };

  await runController({ name: 'replicaset', queue, workers: WORKERS, reconcile, log });
}

/** The namespace is being deleted: creating in it is refused (Kubernetes' NamespaceTerminating cause). */
function namespaceTerminating(err: unknown): boolean {
  if (!(err instanceof ApiError) || err.code !== 403) return false;
  return (
    Boolean(err.details?.causes?.some((c) => c.reason === 'NamespaceTerminating')) ||
    err.message.includes('because it is being terminated')
  );
}
