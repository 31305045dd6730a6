// The Deployment controller's writes, one sync of one Deployment at a time
// (Kubernetes' sync.go, rolling.go, recreate.go, progress.go): find or create
// the new ReplicaSet, scale ReplicaSets as the pure planners say, record
// ScalingReplicaSet events, clean up history and write status only when it
// changed. Each step re-reads nothing: it works on the objects it was given
// and on what the API answered, so a stale cache shows up as a 409 and a retry.
import { ApiError } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import { type Client, type EventRecorder, errorText, type ReconcileResult, refs } from '../client/index.ts';
import { controllerOf, newControllerRef } from './controller-ref.ts';
import { equalIgnoreHash } from './deployment-hash.ts';
import { newReplicaSetAnnotations, replicaSetsToCleanUp } from './deployment-history.ts';
import {
  activeReplicaSets,
  actualReplicaCount,
  DEPLOYMENT_TYPE,
  type Deployment,
  findNewReplicaSet,
  findOldReplicaSets,
  maxRevision,
  newReplicaSetFor,
  type ReplicaSet,
  REVISION_ANNOTATION,
  specReplicas,
} from './deployment-replicasets.ts';
import {
  newReplicaSetReplicas,
  oldReplicaSetsScaleDown,
  replicasAnnotations,
  replicasAnnotationsNeedUpdate,
  scalePlan,
} from './deployment-rolling.ts';
import {
  calculateStatus,
  type DeploymentStatus,
  deploymentComplete,
  getCondition,
  hasProgressDeadline,
  newCondition,
  progressRecheckMs,
  REASONS,
  rolloutStatus,
  setCondition,
  statusDiffers,
} from './deployment-status.ts';

const REPLICASET_TYPE = { apiVersion: 'apps/v1', kind: 'ReplicaSet' };
/** Added to the remaining progress deadline before looking again, so the deadline has surely passed (Kubernetes adds 1 s). */
const PROGRESS_CHECK_SKEW_MS = 1000;

export type SyncDeps = {
  client: Client;
  recorder: EventRecorder;
  /** The current time; a parameter so tests can move it. */
  now(): Date;
};

/** Pods by the uid of the ReplicaSet controlling them (getPodMapForDeployment). */
export type PodMap = Map<string, KubeObject[]>;

type Sets = { newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] };

/** A mutable view of one sync: the Deployment as last written, and the writes that go with it. */
export function deploymentSync(deps: SyncDeps, initial: Deployment) {
  const { client, recorder } = deps;
  let d: Deployment = { ...structuredClone(initial), ...DEPLOYMENT_TYPE };
  /** ReplicaSets written in this sync, by uid: later steps use them instead of the older cached copies. */
  const written = new Map<string, ReplicaSet>();
  const wrote = (rs: ReplicaSet): ReplicaSet => {
    written.set(rs.metadata.uid ?? '', rs);
    return rs;
  };

  const event = (type: 'Normal' | 'Warning', reason: string, message: string) => void recorder.record(d, type, reason, message);

  /** Writes status (status subresource) when it differs from what is stored. */
  const writeStatus = async (status: DeploymentStatus): Promise<boolean> => {
    if (!statusDiffers(d.status, status)) return false;
    d = { ...(await client.updateStatus(refs.deployments, { ...d, status: omitZeroCounts(status) })), ...DEPLOYMENT_TYPE };
    return true;
  };

  /**
   * The revision annotation lives in metadata, which skiff's status
   * subresource does not write (Kubernetes' Deployment status strategy
   * does), so it goes through the main resource; metadata-only updates do
   * not bump generation.
   */
  const writeRevision = async (revision: string): Promise<void> => {
    if (revision === '' || d.metadata.annotations?.[REVISION_ANNOTATION] === revision) return;
    const next = { ...d, metadata: { ...d.metadata, annotations: { ...(d.metadata.annotations ?? {}), [REVISION_ANNOTATION]: revision } } };
    d = { ...(await client.update(refs.deployments, next)), ...DEPLOYMENT_TYPE };
  };

  /** Sets the size (and desired/max annotations) of a ReplicaSet; records ScalingReplicaSet when the size changed. */
  const scale = async (rs: ReplicaSet, replicas: number): Promise<{ scaled: boolean; rs: ReplicaSet }> => {
    const from = specReplicas(rs);
    const sizeChanges = from !== replicas;
    if (!sizeChanges && !replicasAnnotationsNeedUpdate(rs, d)) return { scaled: false, rs };
    const next = {
      ...rs,
      ...REPLICASET_TYPE,
      metadata: { ...rs.metadata, annotations: { ...(rs.metadata.annotations ?? {}), ...replicasAnnotations(d) } },
      spec: { ...rs.spec, replicas },
    };
    const updated = wrote(await client.update(refs.replicasets, next));
    if (sizeChanges) {
      const op = from < replicas ? 'up' : 'down';
      event('Normal', 'ScalingReplicaSet', `Scaled ${op} replica set ${rs.metadata.name} from ${from} to ${replicas}`);
    }
    return { scaled: sizeChanges, rs: updated };
  };

  /** The new ReplicaSet (created when asked and missing) and the old ones, with revisions synced (getAllReplicaSetsAndSyncRevision). */
  const replicaSets = async (cached: ReplicaSet[], options: { create: boolean }): Promise<Sets> => {
    const rsList = cached.map((rs) => written.get(rs.metadata.uid ?? '') ?? rs);
    const existing = findNewReplicaSet(d, rsList);
    const oldRSs = findOldReplicaSets(d, rsList, existing);
    const newRevision = maxRevision(oldRSs) + 1;
    if (existing) {
      const annotations = newReplicaSetAnnotations(d, existing, newRevision, { exists: true });
      const minReady = d.spec?.minReadySeconds ?? 0;
      if (annotations || (existing.spec?.minReadySeconds ?? 0) !== minReady) {
        const next = {
          ...existing,
          ...REPLICASET_TYPE,
          metadata: { ...existing.metadata, annotations: annotations ?? existing.metadata.annotations },
          spec: { ...existing.spec, minReadySeconds: minReady },
        };
        return { newRS: wrote(await client.update(refs.replicasets, next)), oldRSs };
      }
      await writeRevision(existing.metadata.annotations?.[REVISION_ANNOTATION] ?? '');
      if (hasProgressDeadline(d) && !getCondition(d.status, 'Progressing')) {
        const status: DeploymentStatus = structuredClone(d.status ?? {});
        setCondition(status, newCondition('Progressing', 'True', REASONS.foundNewRS, `Found new replica set "${existing.metadata.name}"`, deps.now()));
        await writeStatus(status);
      }
      return { newRS: existing, oldRSs };
    }
    if (!options.create) return { newRS: undefined, oldRSs };

    const wanted = newReplicaSetFor(d, [newControllerRef(d, DEPLOYMENT_TYPE)]);
    wanted.spec.replicas = newReplicaSetReplicas(d, [...oldRSs, wanted], wanted);
    wanted.metadata.annotations = newReplicaSetAnnotations(d, wanted, newRevision, { exists: false });
    const name = wanted.metadata.name ?? '';
    let created: ReplicaSet;
    let alreadyExisted = false;
    try {
      created = wrote(await client.create(refs.replicasets, wanted));
    } catch (err) {
      if (err instanceof ApiError && err.reason === 'AlreadyExists') {
        const found = await client.get(refs.replicasets, name, { namespace: d.metadata.namespace });
        if (controllerOf(found)?.uid === d.metadata.uid && equalIgnoreHash(d.spec?.template, found.spec?.template)) {
          created = found;
          alreadyExisted = true;
        } else {
          // A different template owns the name: a hash collision. Another collisionCount gives another hash.
          const status: DeploymentStatus = structuredClone(d.status ?? {});
          status.collisionCount = (status.collisionCount ?? 0) + 1;
          await writeStatus(status);
          throw err;
        }
      } else {
        if (!isNamespaceTerminating(err)) {
          const msg = `Failed to create new replica set "${name}": ${errorText(err)}`;
          if (hasProgressDeadline(d)) {
            const status: DeploymentStatus = structuredClone(d.status ?? {});
            setCondition(status, newCondition('Progressing', 'False', REASONS.failedRSCreate, msg, deps.now()));
            await writeStatus(status).catch(() => undefined); // the create failure is the error to report
          }
          event('Warning', REASONS.failedRSCreate, msg);
        }
        throw err;
      }
    }
    const replicas = specReplicas(created);
    if (!alreadyExisted && replicas > 0) event('Normal', 'ScalingReplicaSet', `Scaled up replica set ${name} from 0 to ${replicas}`);
    await writeRevision(String(newRevision));
    if (!alreadyExisted && hasProgressDeadline(d)) {
      const status: DeploymentStatus = structuredClone(d.status ?? {});
      setCondition(status, newCondition('Progressing', 'True', REASONS.newRS, `Created new replica set "${name}"`, deps.now()));
      await writeStatus(status);
    }
    return { newRS: created, oldRSs };
  };

  /** Deletes old ReplicaSets beyond revisionHistoryLimit (cleanupDeployment). */
  const cleanUp = async (oldRSs: ReplicaSet[]): Promise<void> => {
    for (const rs of replicaSetsToCleanUp(d, oldRSs)) {
      await client.delete(refs.replicasets, rs.metadata.name ?? '', { namespace: rs.metadata.namespace }).catch((err) => {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      });
    }
  };

  /** Status with Progressing estimated; asks to look again when a deadline is pending (syncRolloutStatus). */
  const syncRolloutStatus = async (allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): Promise<ReconcileResult> => {
    const now = deps.now();
    const status = rolloutStatus(d, allRSs, newRS, now);
    if (await writeStatus(status)) return; // the write comes back as an update and is looked at again
    const after = progressRecheckMs(d, status, now);
    return after === undefined ? undefined : { requeueAfterMs: after + PROGRESS_CHECK_SKEW_MS };
  };

  /** Status counts only (syncDeploymentStatus). */
  const syncStatus = async (allRSs: (ReplicaSet | undefined)[], newRS: ReplicaSet | undefined): Promise<void> => {
    await writeStatus(calculateStatus(d, allRSs, newRS, deps.now()));
  };

  const replace = (sets: ReplicaSet[], updated: ReplicaSet) => sets.map((rs) => (rs.metadata.uid === updated.metadata.uid ? updated : rs));

  return {
    get deployment() {
      return d;
    },
    writeStatus,
    replicaSets,
    event,

    /** Only scaling (paused, or resized mid-rollout): no rollout progress (sync). */
    async scaleOnly(rsList: ReplicaSet[], options: { cleanUp: boolean }): Promise<void> {
      const { newRS, oldRSs } = await replicaSets(rsList, { create: false });
      let all: ReplicaSet[] = [...oldRSs, ...(newRS ? [newRS] : [])];
      for (const step of scalePlan(d, newRS, oldRSs)) {
        const { rs } = await scale(step.rs, step.replicas);
        all = replace(all, rs);
      }
      if (options.cleanUp) await cleanUp(oldRSs);
      const latestNew = newRS ? all.find((rs) => rs.metadata.uid === newRS.metadata.uid) : undefined;
      await syncStatus(all, latestNew);
    },

    /** Status only, e.g. while the Deployment is being deleted (syncStatusOnly). */
    async statusOnly(rsList: ReplicaSet[]): Promise<void> {
      const { newRS, oldRSs } = await replicaSets(rsList, { create: false });
      await syncStatus([...oldRSs, newRS], newRS);
    },

    /** One RollingUpdate step: grow the new ReplicaSet, else shrink old ones (rolloutRolling). */
    async rolling(rsList: ReplicaSet[]): Promise<ReconcileResult> {
      const sets = await replicaSets(rsList, { create: true });
      let newRS = sets.newRS as ReplicaSet;
      let oldRSs = sets.oldRSs;
      const desired = specReplicas(d);
      if (specReplicas(newRS) !== desired) {
        const target = specReplicas(newRS) > desired ? desired : newReplicaSetReplicas(d, [...oldRSs, newRS], newRS);
        const result = await scale(newRS, target);
        newRS = result.rs;
        if (result.scaled) return syncRolloutStatus([...oldRSs, newRS], newRS);
      }
      const steps = oldReplicaSetsScaleDown(d, [...oldRSs, newRS], oldRSs, newRS);
      for (const step of steps) oldRSs = replace(oldRSs, (await scale(step.rs, step.replicas)).rs);
      if (steps.length > 0) return syncRolloutStatus([...oldRSs, newRS], newRS);
      if (deploymentComplete(d, d.status ?? {})) await cleanUp(oldRSs);
      return syncRolloutStatus([...oldRSs, newRS], newRS);
    },

    /** Recreate: old ReplicaSets to 0, wait for their pods to go, then the new one to full size (rolloutRecreate). */
    async recreate(rsList: ReplicaSet[], podMap: PodMap): Promise<ReconcileResult> {
      let { newRS, oldRSs } = await replicaSets(rsList, { create: false });
      let scaledDown = false;
      for (const rs of activeReplicaSets(oldRSs)) {
        const result = await scale(rs, 0);
        oldRSs = replace(oldRSs, result.rs);
        scaledDown ||= result.scaled;
      }
      if (scaledDown || oldPodsRunning(newRS, oldRSs, podMap)) return syncRolloutStatus([...oldRSs, newRS], newRS);
      if (!newRS) ({ newRS, oldRSs } = await replicaSets(rsList, { create: true }));
      if (newRS && specReplicas(newRS) !== specReplicas(d)) newRS = (await scale(newRS, specReplicas(d))).rs;
      if (deploymentComplete(d, d.status ?? {})) await cleanUp(oldRSs);
      return syncRolloutStatus([...oldRSs, newRS], newRS);
    },
  };
}

/** Zero counts are left out, as Kubernetes' omitempty leaves them out (collisionCount is a pointer and stays). */
export function omitZeroCounts(status: DeploymentStatus): DeploymentStatus {
  const out: DeploymentStatus = { ...status };
  for (const k of ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas'] as const) {
    if (out[k] === 0) delete out[k];
  }
  return out;
}

/** Old pods still exist or run: Recreate must not start new ones yet (oldPodsRunning). */
export function oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[], podMap: PodMap): boolean {
  if (actualReplicaCount(oldRSs) > 0) return true;
  for (const [uid, pods] of podMap) {
    if (newRS && newRS.metadata.uid === uid) continue;
    if (pods.some((p) => p.status?.phase !== 'Failed' && p.status?.phase !== 'Succeeded')) return true;
  }
  return false;
}

/** Creating in a namespace being deleted is refused; nothing to report then. */
function isNamespaceTerminating(err: unknown): boolean {
  if (!(err instanceof ApiError) || err.code !== 403) return false;
  return Boolean(err.details?.causes?.some((c) => c.reason === 'NamespaceTerminating')) || err.message.includes('because it is being terminated');
}
