// Deployment controller (Kubernetes' pkg/controller/deployment): manages
// ReplicaSets named <deployment>-<pod-template-hash> — RollingUpdate within
// maxSurge/maxUnavailable, Recreate, proportional scaling while a rollout is
// under way, pause/resume, revision annotations and history clean-up,
// Progressing/Available/ReplicaFailure conditions. ReplicaSets are claimed
// through controllerRef; pods are the ReplicaSet controller's business (this
// one only reads them to know when Recreate may start new ones).
import { type LabelSelector, labelSelectorToRequirements, matchesSelector } from '../api/labels.ts';
import type { KubeObject } from '../api/types.ts';
import { errorText, type Informer, keyOf, refs, runController, WorkQueue } from '../client/index.ts';
import type { ControllerContext } from './context.ts';
import { claimObjects, controllerOf, newControllerRef, recheckOwner } from './controller-ref.ts';
import { withoutHashLabel } from './deployment-hash.ts';
import { DEPLOYMENT_TYPE, type Deployment, type ReplicaSet, ROLLBACK_TO_ANNOTATION } from './deployment-replicasets.ts';
import { isScalingEvent } from './deployment-rolling.ts';
import { pausedConditionUpdate } from './deployment-status.ts';
import { deploymentSync, type PodMap } from './deployment-sync.ts';
import { rollbackTarget } from './deployment-rollback.ts';

/** Parallel reconciles (Kubernetes' --concurrent-deployment-syncs default is 5). */
const WORKERS = 5;
/** After this many failed attempts on one Deployment a Warning Event tells the user. */
const EVENT_AFTER_RETRIES = 5;

/** Runs until ctx.signal aborts. */
export async function runDeploymentController(ctx: ControllerContext): Promise<void> {
  const { client, signal, log, recorder } = ctx;
  const queue = new WorkQueue({ signal });
  const deployments: Informer<Deployment> = ctx.informers.for(refs.deployments);
  const replicaSets: Informer<ReplicaSet> = ctx.informers.for(refs.replicasets);
  const pods: Informer = ctx.informers.for(refs.pods);

  const selectors = new WeakMap<KubeObject, LabelSelector | null>();
  /** The parsed selector; null when invalid or empty (an empty one would select everything). */
  const selectorOf = (d: Deployment): LabelSelector | null => {
    let sel = selectors.get(d);
    if (sel === undefined) {
      try {
        sel = labelSelectorToRequirements(d.spec?.selector) ?? null;
      } catch {
        sel = null;
      }
      if (sel?.length === 0) sel = null;
      selectors.set(d, sel);
    }
    return sel;
  };

  /** The Deployment a ReplicaSet's controllerRef names, if we know it (resolveControllerRef). */
  const ownerOf = (rs: ReplicaSet): Deployment | undefined => {
    const ref = controllerOf(rs);
    if (ref?.kind !== 'Deployment' || !ref.apiVersion.startsWith('apps/')) return undefined;
    const d = deployments.get(`${rs.metadata.namespace}/${ref.name}`);
    return d?.metadata.uid === ref.uid ? d : undefined;
  };
  const enqueueOwner = (rs: ReplicaSet) => {
    const d = ownerOf(rs);
    if (d) queue.add(keyOf(d));
  };
  /** An orphan ReplicaSet: every Deployment that could adopt it looks (getDeploymentsForReplicaSet). */
  const enqueueMatching = (rs: ReplicaSet) => {
    for (const d of deployments.list({ namespace: rs.metadata.namespace ?? '' })) {
      const sel = selectorOf(d);
      if (sel && matchesSelector(sel, rs.metadata.labels)) queue.add(keyOf(d));
    }
  };

  deployments.addHandlers({
    onAdd: (d) => queue.add(keyOf(d)),
    onUpdate: (_old, d) => queue.add(keyOf(d)),
    onDelete: (d) => queue.add(keyOf(d)),
  });
  replicaSets.addHandlers({
    onAdd: (rs) => (controllerOf(rs) ? enqueueOwner(rs) : enqueueMatching(rs)),
    onUpdate: (old, rs) => {
      if (old.metadata.resourceVersion === rs.metadata.resourceVersion) return;
      const oldRef = controllerOf(old);
      const newRef = controllerOf(rs);
      if (oldRef && oldRef.uid !== newRef?.uid) enqueueOwner(old);
      if (newRef) return enqueueOwner(rs);
      const labelsChanged = JSON.stringify(old.metadata.labels ?? {}) !== JSON.stringify(rs.metadata.labels ?? {});
      if (labelsChanged || oldRef) enqueueMatching(rs);
    },
    onDelete: enqueueOwner,
  });
  // Recreate waits for old pods to be gone; their deletion is what lets it continue.
  pods.addHandlers({
    onDelete: (pod) => {
      const ref = controllerOf(pod);
      if (ref?.kind !== 'ReplicaSet') return;
      const rs = replicaSets.get(`${pod.metadata.namespace}/${ref.name}`);
      const d = rs && rs.metadata.uid === ref.uid ? ownerOf(rs) : undefined;
      if (d?.spec?.strategy?.type === 'Recreate') queue.add(keyOf(d));
    },
  });
  if (!(await ctx.informers.waitForSync())) return;

  /** The ReplicaSets this Deployment owns after adopting matching orphans and releasing the rest. */
  const claimReplicaSets = (d: Deployment, selector: LabelSelector) =>
    claimObjects({
      client,
      resource: refs.replicasets,
      owner: d,
      controllerRef: newControllerRef(d, DEPLOYMENT_TYPE),
      matches: (rs) => matchesSelector(selector, rs.metadata.labels),
      objects: replicaSets.list({ namespace: d.metadata.namespace ?? '' }),
      canAdopt: recheckOwner(client, refs.deployments, d),
    });

  /** Pods selected by the Deployment, by the uid of their ReplicaSet among ours. */
  const podMapFor = (d: Deployment, selector: LabelSelector, rsList: ReplicaSet[]): PodMap => {
    const map: PodMap = new Map(rsList.map((rs) => [rs.metadata.uid ?? '', []]));
    for (const pod of pods.list({ namespace: d.metadata.namespace ?? '' })) {
      if (!matchesSelector(selector, pod.metadata.labels)) continue;
      const ref = controllerOf(pod);
      if (ref) map.get(ref.uid)?.push(pod);
    }
    return map;
  };

  const deps = { client, recorder, now: () => new Date() };

  const reconcile = async (key: string) => {
    const cached = deployments.get(key);
    if (!cached) return;
    const selector = selectorOf(cached);
    const sync = deploymentSync(deps, cached);
    if (!selector) {
      sync.event('Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((cached.status?.observedGeneration ?? 0) < (cached.metadata.generation ?? 0)) {
        await sync.writeStatus({ ...(cached.status ?? {}), observedGeneration: cached.metadata.generation });
      }
      return;
    }
    const rsList = await claimReplicaSets(cached, selector);
    if (cached.metadata.deletionTimestamp) return sync.statusOnly(rsList);

    // Pausing and resuming show in Progressing, so a resumed rollout does not time out at once.
    const paused = pausedConditionUpdate(sync.deployment, deps.now());
    if (paused) await sync.writeStatus(paused);
    const d = sync.deployment;
    if (d.spec?.paused) return sync.scaleOnly(rsList, { cleanUp: !d.metadata.annotations?.[ROLLBACK_TO_ANNOTATION] });
    if (d.metadata.annotations?.[ROLLBACK_TO_ANNOTATION] !== undefined) return rollback(sync, rsList);

    const { newRS, oldRSs } = await sync.replicaSets(rsList, { create: false });
    if (isScalingEvent(sync.deployment, [...oldRSs, newRS])) return sync.scaleOnly(rsList, { cleanUp: false });
    if (d.spec?.strategy?.type === 'Recreate') return sync.recreate(rsList, podMapFor(d, selector, rsList));
    return sync.rolling(rsList);
  };

  /** apps/v1beta1 spec.rollbackTo (kept as an annotation): the template of that revision comes back. */
  const rollback = async (sync: ReturnType<typeof deploymentSync>, rsList: ReplicaSet[]) => {
    const { newRS, oldRSs } = await sync.replicaSets(rsList, { create: true });
    const d = sync.deployment;
    const wanted = Number(d.metadata.annotations?.[ROLLBACK_TO_ANNOTATION] ?? '0') || 0;
    const target = rollbackTarget(d, [...oldRSs, ...(newRS ? [newRS] : [])], wanted);
    let annotations: Record<string, string> = { ...(d.metadata.annotations ?? {}) };
    let spec = d.spec;
    if (target.kind === 'found') {
      spec = { ...d.spec, template: withoutHashLabel(target.rs.spec?.template) };
      annotations = target.annotations;
    } else if (target.kind === 'unchanged') {
      sync.event('Warning', 'DeploymentRollbackTemplateUnchanged', `The rollback revision contains the same template as current deployment "${d.metadata.name}"`);
    } else {
      const message = target.kind === 'noLast' ? 'Unable to find last revision.' : 'Unable to find the revision to rollback to.';
      sync.event('Warning', 'DeploymentRollbackRevisionNotFound', message);
    }
    delete annotations[ROLLBACK_TO_ANNOTATION];
    await client.update(refs.deployments, { ...d, metadata: { ...d.metadata, annotations }, spec });
    if (target.kind === 'found') {
      sync.event('Normal', 'DeploymentRollback', `Rolled back deployment "${d.metadata.name}" to revision ${target.revision}`);
    }
  };

  await runController({
    name: 'deployment',
    queue,
    workers: WORKERS,
    reconcile,
    log,
    onError(key, err, retries) {
      const d = deployments.get(key);
      log.debug('deployment sync failed', { deployment: key, retries, err: errorText(err) });
      if (d && retries === EVENT_AFTER_RETRIES) {
        void recorder.record({ ...d, ...DEPLOYMENT_TYPE }, 'Warning', 'DeploymentSyncFailed', `Failed to sync deployment: ${errorText(err)}`);
      }
    },
  });
}
