// EndpointSlice mirroring controller (Kubernetes' endpointslicemirroring
// controller): an Endpoints object written by hand for a Service without a
// selector is copied into EndpointSlices, which is all the service proxy and
// cluster DNS read. Its slices go when the Endpoints or the Service goes, when
// the Service gains a selector, or when the Endpoints opts out (skip-mirror).
import { ApiError, isNotFound } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import { refs, runController, WorkQueue } from '../client/index.ts';
import type { ControllerContext } from './context.ts';
import { hasSelector } from './endpoints-plan.ts';
import { SliceTracker } from './endpointslice.ts';
import { MAX_ENDPOINTS_PER_SUBSET, MIRROR_CONTROLLER_NAME, planMirroredSlices, shouldMirror, wantsMirror } from './endpointslice-mirroring-plan.ts';
import { MANAGED_BY_LABEL, SERVICE_NAME_LABEL } from './endpointslice-plan.ts';

const WORKERS = 4;
/** Kubernetes' mirroring controller retries from 1 s up to 100 s: its syncs can mean many slice writes. */
const RETRY_BASE_MS = 1000;
const RETRY_MAX_MS = 100_000;
/** If the cache has not caught up with our own writes by then, look again anyway (its watch event normally comes first). */
const STALE_RECHECK_MS = 1000;
/** Events name the controller as Kubernetes' does. */
const EVENT_COMPONENT = 'endpoint-slice-mirroring-controller';

const keyOf = (obj: KubeObject) => `${obj.metadata.namespace}/${obj.metadata.name}`;

export async function runEndpointSliceMirroringController(ctx: ControllerContext): Promise<void> {
  const { client, signal, log } = ctx;
  const endpoints = ctx.informers.for(refs.endpoints);
  const services = ctx.informers.for(refs.services);
  const slices = ctx.informers.for(refs.endpointslices);
  const recorder = ctx.recorder.withSource({ component: EVENT_COMPONENT });
  const tracker = new SliceTracker();
  const queue = new WorkQueue({ signal, baseDelayMs: RETRY_BASE_MS, maxDelayMs: RETRY_MAX_MS });
  /** The Endpoints resourceVersion last warned about, so one bad object gives one Event per change, not per sync. */
  const warned = new Map<string, string>();

  endpoints.addHandlers({
    onAdd: (e) => shouldMirror(e) && queue.add(keyOf(e)),
    onUpdate: (o, e) => (shouldMirror(o) || shouldMirror(e)) && queue.add(keyOf(e)),
    onDelete: (e) => shouldMirror(e) && queue.add(keyOf(e)),
  });
  // Only selectorless Services concern mirroring, and a selector coming or going.
  services.addHandlers({
    onAdd: (s) => !hasSelector(s) && queue.add(keyOf(s)),
    onUpdate: (o, s) => hasSelector(o) !== hasSelector(s) && queue.add(keyOf(s)),
    onDelete: (s) => !hasSelector(s) && queue.add(keyOf(s)),
  });
  const ours = (s: KubeObject) => s.metadata.labels?.[MANAGED_BY_LABEL] === MIRROR_CONTROLLER_NAME;
  const enqueueSlice = (s: KubeObject) => {
    const name = s.metadata.labels?.[SERVICE_NAME_LABEL];
    if (name) queue.add(`${s.metadata.namespace}/${name}`);
  };
  // Someone else changed, relabelled or removed one of our slices: put it right.
  slices.addHandlers({
    onAdd: (s) => ours(s) && enqueueSlice(s),
    onUpdate: (o, s) => {
      if (!ours(o) && !ours(s)) return;
      enqueueSlice(s);
      if (o.metadata.labels?.[SERVICE_NAME_LABEL] !== s.metadata.labels?.[SERVICE_NAME_LABEL]) enqueueSlice(o);
    },
    onDelete: (s) => ours(s) && enqueueSlice(s),
  });
  if (!(await ctx.informers.waitForSync())) return;

  const deleteSlice = async (key: string, namespace: string, slice: KubeObject) => {
    try {
      await client.delete(refs.endpointslices, slice.metadata.name ?? '', { namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    tracker.record(key, slice.metadata.name ?? '', -1);
  };

  const warn = (key: string, ep: KubeObject, invalid: number, skipped: number) => {
    if (invalid === 0 && skipped === 0) {
      warned.delete(key);
      return;
    }
    if (warned.get(key) === ep.metadata.resourceVersion) return;
    warned.set(key, ep.metadata.resourceVersion ?? '');
    if (invalid > 0) void recorder.record(ep, 'Warning', 'InvalidIPAddress', `Skipped ${invalid} invalid IP addresses when mirroring to EndpointSlices`);
    if (skipped > invalid) {
      void recorder.record(
        ep,
        'Warning',
        'TooManyAddressesToMirror',
        `A max of ${MAX_ENDPOINTS_PER_SUBSET} addresses can be mirrored to EndpointSlices per Endpoints subset. ${skipped} addresses were skipped`,
      );
    }
  };

  const reconcile = async (key: string) => {
    const [namespace, name] = key.split('/');
    const ep = endpoints.get(key);
    const existing = slices.list({ namespace, labelSelector: `${SERVICE_NAME_LABEL}=${name},${MANAGED_BY_LABEL}=${MIRROR_CONTROLLER_NAME}` });
    try {
      if (!ep || !wantsMirror(ep, services.get(key))) {
        // Endpoints or Service gone, a selector now, or opted out: our slices go (the garbage collector would only catch the first case).
        tracker.forget(key);
        warned.delete(key);
        for (const slice of existing) await deleteSlice(key, namespace, slice);
        if (existing.length) log.debug('mirrored endpointslices removed', { endpoints: key, deleted: existing.length });
        return;
      }
      if (tracker.stale(key, existing)) return { requeueAfterMs: STALE_RECHECK_MS };
      const plan = planMirroredSlices(ep, existing);
      warn(key, ep, plan.invalid, plan.skipped);
      // An Endpoints being deleted gets no new slices.
      if (ep.metadata.deletionTimestamp) plan.create = [];
      await tracker.write(client, key, namespace, plan);
      for (const slice of plan.delete) await deleteSlice(key, namespace, slice);
      const writes = plan.create.length + plan.update.length + plan.delete.length;
      if (writes) log.debug('endpointslices mirrored', { endpoints: key, created: plan.create.length, updated: plan.update.length, deleted: plan.delete.length });
    } catch (err) {
      if (err instanceof ApiError && err.code === 403) return; // namespace terminating
      throw err;
    }
  };

  await runController({ name: 'endpointslicemirroring', queue, workers: WORKERS, reconcile, log });
}
