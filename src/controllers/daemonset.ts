// DaemonSet controller: one pod per eligible node (daemonset-nodes.ts),
// created with required node affinity pinning it to its node — the scheduler
// binds it, as in Kubernetes since 1.12, so resource checks and
// FailedScheduling events apply to daemon pods too — and replaced on template
// changes through ControllerRevisions (RollingUpdate with maxUnavailable /
// maxSurge, or OnDelete). Decisions are in daemonset-plan.ts; this is the I/O.
import { isNotFound } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import { errorText, type Informer, keyOf, refs, runController, WorkQueue } from '../client/index.ts';
import type { ControllerContext } from './context.ts';
import { controllerOf } from './controller-ref.ts';
import { daemonTolerations, nodeShouldRunDaemonPod, pinToNode, targetNodeName } from './daemonset-nodes.ts';
import {
  type DaemonSetChanges,
  daemonSetStatus,
  manage,
  rollingUpdate,
  TEMPLATE_GENERATION_LABEL,
  templateGeneration,
} from './daemonset-plan.ts';
import { Expectations } from './expectations.ts';
import { revisionName, revisionsToPrune } from './revisions.ts';
import { claim, deleteRevisions, slowStartBatch, statusChanged, syncRevisions, watchOwnedPods } from './workload-io.ts';
import { type Pod, podFromTemplate, REVISION_HASH_LABEL } from './workload-pods.ts';

const KIND = 'DaemonSet';
/** DaemonSets reconciled in parallel; each pass is a handful of requests. */
const WORKERS = 2;
/** After this many failed passes on one DaemonSet a Warning Event tells the user. */
const EVENT_AFTER_RETRIES = 3;
/** Kubernetes keeps 10 old revisions unless the DaemonSet says otherwise. */
const DEFAULT_HISTORY_LIMIT = 10;

export async function runDaemonSetController(ctx: ControllerContext): Promise<void> {
  const { informers, recorder, signal, log } = ctx;
  const queue = new WorkQueue({ signal });
  const expectations = new Expectations();
  const sets = informers.for(refs.daemonsets);
  const pods = informers.for(refs.pods);
  const nodes = informers.for(refs.nodes);
  const revisions = informers.for(refs.controllerrevisions);

  sets.addHandlers({
    onAdd: (ds) => queue.add(keyOf(ds)),
    onUpdate: (_o, ds) => queue.add(keyOf(ds)),
    onDelete: (ds) => {
      expectations.delete(keyOf(ds));
      queue.add(keyOf(ds));
    },
  });
  watchOwnedPods({ pods, owners: sets, kind: KIND, queue });
  const ownerKey = (pod: Pod) => {
    const ref = controllerOf(pod);
    return ref?.kind === KIND ? `${pod.metadata.namespace}/${ref.name}` : undefined;
  };
  pods.addHandlers({
    onAdd(pod) {
      const key = ownerKey(pod);
      if (key) expectations.creationObserved(key);
    },
    onUpdate(oldPod, pod) {
      const key = ownerKey(pod);
      if (key && pod.metadata.deletionTimestamp && !oldPod.metadata.deletionTimestamp) expectations.deletionObserved(key, keyOf(pod));
    },
    onDelete(pod) {
      const key = ownerKey(pod);
      if (key) expectations.deletionObserved(key, keyOf(pod));
    },
  });
  const fitChanged = (a: KubeObject, b: KubeObject, ds: KubeObject) => {
    const x = nodeShouldRunDaemonPod(a, ds);
    const y = nodeShouldRunDaemonPod(b, ds);
    return x.shouldRun !== y.shouldRun || x.shouldContinueRunning !== y.shouldContinueRunning;
  };
  nodes.addHandlers({
    onAdd: () => {
      for (const ds of sets.list()) queue.add(keyOf(ds));
    },
    onUpdate: (oldNode, node) => {
      for (const ds of sets.list()) if (fitChanged(oldNode, node, ds)) queue.add(keyOf(ds));
    },
    onDelete: () => {
      for (const ds of sets.list()) queue.add(keyOf(ds));
    },
  });
  if (!(await informers.waitForSync())) return;

  await runController({
    name: 'daemonset',
    queue,
    workers: WORKERS,
    log,
    reconcile: async (key) => {
      const ds = sets.get(key);
      if (!ds) {
        expectations.delete(key);
        return; // the garbage collector removes its pods and revisions
      }
      return syncDaemonSet(ctx, { ds, key, pods, nodes, revisions, expectations });
    },
    onError(key, err, retries) {
      const ds = sets.get(key);
      if (ds && retries >= EVENT_AFTER_RETRIES) void recorder.record(ds, 'Warning', 'FailedSync', `Error syncing DaemonSet: ${errorText(err)}`);
    },
  });
}

type SyncArgs = { ds: KubeObject; key: string; pods: Informer; nodes: Informer; revisions: Informer; expectations: Expectations };

async function syncDaemonSet(ctx: ControllerContext, args: SyncArgs) {
  const { client } = ctx;
  const { ds, key, expectations } = args;
  if (ds.metadata.deletionTimestamp) return;
  const ns = ds.metadata.namespace ?? '';
  const nodeList = args.nodes.list();
  const pods = await claim(client, ds, args.pods.list({ namespace: ns }), { kind: KIND, ownerRef: refs.daemonsets });
  const { sorted, update, collisionCount } = await syncRevisions(client, ds, args.revisions.list({ namespace: ns }), { kind: KIND });
  const hash = update.metadata.labels?.[REVISION_HASH_LABEL] ?? '';
  const input = { ds, nodes: nodeList, pods, hash, now: Date.now() };

  const satisfied = expectations.satisfied(key);
  let failure: unknown;
  if (satisfied) {
    let changes = manage(input);
    const idle = changes.createOn.length + changes.deletePods.length + changes.failedPods.length === 0;
    // Like Kubernetes, the update runs only once the core loop has nothing left to do.
    if (idle && (ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate') changes = rollingUpdate(input);
    try {
      await applyChanges(ctx, { ds, key, hash, nodeList, changes, expectations });
    } catch (err) {
      failure = err;
    }
    const live = new Set([update.metadata.name ?? '', ...pods.map((p) => revisionName(ds.metadata.name ?? '', p.metadata.labels?.[REVISION_HASH_LABEL] ?? ''))]);
    await deleteRevisions(client, revisionsToPrune(sorted, live, ds.spec?.revisionHistoryLimit ?? DEFAULT_HISTORY_LIMIT));
  }

  const { status, requeueAfterMs } = daemonSetStatus({ ...input, collisionCount });
  // Not raised while our own writes are unseen: this generation has not been fully processed yet.
  if (!satisfied) status.observedGeneration = ds.status?.observedGeneration;
  if (statusChanged(ds.status, status)) {
    await client.updateStatus(refs.daemonsets, { ...ds, status: { ...ds.status, ...status } }).catch((err) => {
      if (!isNotFound(err)) throw err;
    });
  }
  if (failure) throw failure;
  return requeueAfterMs === undefined ? undefined : { requeueAfterMs };
}

type ApplyArgs = { ds: KubeObject; key: string; hash: string; nodeList: KubeObject[]; changes: DaemonSetChanges; expectations: Expectations };

/** Deletes, then creates, recording what the cache must show before the next pass changes anything. */
async function applyChanges(ctx: ControllerContext, args: ApplyArgs): Promise<void> {
  const { client, recorder } = ctx;
  const { ds, key, hash, changes, expectations } = args;
  const ns = ds.metadata.namespace ?? '';
  const nodeNames = new Set(args.nodeList.map((n) => n.metadata.name));
  for (const pod of changes.failedPods) {
    void recorder.record(ds, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${ns}/${pod.metadata.name} on node ${targetNodeName(pod)}, will try to kill it`);
  }
  const deletions = [...changes.failedPods, ...changes.deletePods];
  expectations.expectDeletions(key, deletions.map(keyOf));
  const deleteOne = async (pod: Pod) => {
    const name = pod.metadata.name ?? '';
    // A pod of a node that is gone has no kubelet to finish its graceful deletion (pod GC would force it).
    const orphaned = !nodeNames.has(targetNodeName(pod));
    try {
      await client.delete(refs.pods, name, { namespace: ns, preconditions: { uid: pod.metadata.uid }, ...(orphaned ? { gracePeriodSeconds: 0 } : {}) });
    } catch (err) {
      expectations.deletionObserved(key, keyOf(pod));
      if (isNotFound(err)) return;
      void recorder.record(ds, 'Warning', 'FailedDelete', `Error deleting: ${errorText(err)}`);
      throw err;
    }
    void recorder.record(ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
  };
  await Promise.all(deletions.map(deleteOne));

  expectations.expectCreations(key, changes.createOn.length);
  let started = 0;
  const createOn = async (nodeName: string) => {
    started++;
    try {
      const created = await client.create(refs.pods, daemonPod(ds, hash, nodeName));
      void recorder.record(ds, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
    } catch (err) {
      expectations.creationObserved(key); // it will never show up
      void recorder.record(ds, 'Warning', 'FailedCreate', `Error creating: ${errorText(err)}`);
      throw err;
    }
  };
  try {
    await slowStartBatch(changes.createOn, createOn);
  } finally {
    // Creations never attempted (a batch failed) will not show up either.
    for (let i = started; i < changes.createOn.length; i++) expectations.creationObserved(key);
  }
}

/** The daemon pod for a node: template, revision labels, daemon tolerations, pinned by node affinity. */
export function daemonPod(ds: KubeObject, hash: string, nodeName: string): Pod {
  const template = ds.spec?.template;
  const pod = podFromTemplate(template, ds, KIND);
  pod.metadata.generateName = `${ds.metadata.name}-`;
  const generation = templateGeneration(ds);
  pod.metadata.labels = {
    ...pod.metadata.labels,
    [REVISION_HASH_LABEL]: hash,
    ...(generation !== undefined ? { [TEMPLATE_GENERATION_LABEL]: generation } : {}),
  };
  pod.spec.tolerations = daemonTolerations(template?.spec);
  pod.spec.affinity = pinToNode(template?.spec?.affinity, nodeName);
  return pod;
}
