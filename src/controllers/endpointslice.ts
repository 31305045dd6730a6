// EndpointSlice controller (Kubernetes' endpointslice-controller): every
// Service with a selector gets EndpointSlices of at most 100 endpoints,
// labelled with its name and owned by it, updated in place with few writes.
import { ApiError, isNotFound } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import { type Client, refs, runController, WorkQueue } from '../client/index.ts';
import type { ControllerContext } from './context.ts';
import { servicesForPod } from './endpoints.ts';
import { hasSelector } from './endpoints-plan.ts';
import { CONTROLLER_NAME, MANAGED_BY_LABEL, planSlices, SERVICE_NAME_LABEL } from './endpointslice-plan.ts';

const WORKERS = 4;
/** If the cache has not caught up with our own writes by then, look again anyway (its watch event normally comes first). */
const STALE_RECHECK_MS = 1000;
/** The node label EndpointSlices copy into endpoint.zone. */
const ZONE_LABEL = 'topology.kubernetes.io/zone';

const keyOf = (obj: KubeObject) => `${obj.metadata.namespace}/${obj.metadata.name}`;

/**
 * Remembers this controller's own slice writes per Service, so a reconcile
 * on a cache that has not seen them yet waits instead of creating duplicates
 * (Kubernetes' endpointSliceTracker).
 */
export class SliceTracker {
  #expected = new Map<string, Map<string, number>>();

  /** A write we made: the slice's resourceVersion after it, or -1 for a delete. */
  record(serviceKey: string, sliceName: string, resourceVersion: number): void {
    const m = this.#expected.get(serviceKey) ?? new Map<string, number>();
    this.#expected.set(serviceKey, m);
    m.set(sliceName, resourceVersion);
  }

  /** Whether the cached slices miss any write we made; writes the cache has seen are forgotten. */
  stale(serviceKey: string, cached: KubeObject[]): boolean {
    const m = this.#expected.get(serviceKey);
    if (!m) return false;
    const byName = new Map(cached.map((s) => [s.metadata.name ?? '', Number(s.metadata.resourceVersion ?? 0)]));
    let stale = false;
    for (const [name, rv] of m) {
      const seen = byName.get(name);
      const caughtUp = rv === -1 ? seen === undefined : seen !== undefined && seen >= rv;
      if (caughtUp) m.delete(name);
      else stale = true;
    }
    if (m.size === 0) this.#expected.delete(serviceKey);
    return stale;
  }

  forget(serviceKey: string): void {
    this.#expected.delete(serviceKey);
  }

  /** Creates and updates slices, recording each write so a lagging cache is noticed. */
  async write(client: Client, serviceKey: string, namespace: string, plan: { create: KubeObject[]; update: KubeObject[] }): Promise<void> {
    for (const slice of plan.create) {
      const made = await client.create(refs.endpointslices, slice, { namespace });
      this.record(serviceKey, made.metadata.name ?? '', Number(made.metadata.resourceVersion));
    }
    for (const slice of plan.update) {
      const written = await client.update(refs.endpointslices, slice, { namespace });
      this.record(serviceKey, written.metadata.name ?? '', Number(written.metadata.resourceVersion));
    }
  }
}

export async function runEndpointSliceController(ctx: ControllerContext): Promise<void> {
  const { client, signal, log } = ctx;
  const services = ctx.informers.for(refs.services);
  const pods = ctx.informers.for(refs.pods);
  const slices = ctx.informers.for(refs.endpointslices);
  const nodes = ctx.informers.for(refs.nodes);
  const tracker = new SliceTracker();
  const queue = new WorkQueue({ signal });
  const enqueueFor = (...ps: (KubeObject | undefined)[]) => {
    const ns = ps.find(Boolean)?.metadata.namespace;
    for (const key of servicesForPod(services.list({ namespace: ns }), ps)) queue.add(key);
  };
  const ours = (s: KubeObject) => s.metadata.labels?.[MANAGED_BY_LABEL] === CONTROLLER_NAME;
  const enqueueSlice = (s: KubeObject) => {
    const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
    if (ours(s) && svc) queue.add(`${s.metadata.namespace}/${svc}`);
  };
  services.addHandlers({ onAdd: (s) => queue.add(keyOf(s)), onUpdate: (_o, s) => queue.add(keyOf(s)), onDelete: (s) => queue.add(keyOf(s)) });
  pods.addHandlers({ onAdd: (p) => enqueueFor(p), onUpdate: (o, p) => enqueueFor(o, p), onDelete: (p) => enqueueFor(p) });
  slices.addHandlers({ onAdd: enqueueSlice, onUpdate: (_o, s) => enqueueSlice(s), onDelete: enqueueSlice });
  if (!(await ctx.informers.waitForSync())) return;

  const zoneOf = (node: string) => nodes.get(node)?.metadata.labels?.[ZONE_LABEL];

  const reconcile = async (key: string) => {
    const [namespace, name] = key.split('/');
    const svc = services.get(key);
    const existing = slices.list({ namespace, labelSelector: `${SERVICE_NAME_LABEL}=${name}` }).filter(ours);
    // Gone or selectorless: the garbage collector removes owned slices; nothing else to do.
    if (!svc || !hasSelector(svc) || svc.spec?.type === 'ExternalName' || svc.metadata.deletionTimestamp) {
      tracker.forget(key);
      return;
    }
    if (tracker.stale(key, existing)) return { requeueAfterMs: STALE_RECHECK_MS };
    const plan = planSlices(svc, pods.list({ namespace }), existing.filter((s) => s.metadata.ownerReferences?.some((r) => r.uid === svc.metadata.uid)), { zoneOf });
    // Slices of an earlier Service of the same name go too.
    for (const s of existing) if (!s.metadata.ownerReferences?.some((r) => r.uid === svc.metadata.uid)) plan.delete.push(s);
    try {
      await tracker.write(client, key, namespace, plan);
      for (const slice of plan.delete) {
        try {
          await client.delete(refs.endpointslices, slice.metadata.name ?? '', { namespace });
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
        tracker.record(key, slice.metadata.name ?? '', -1);
      }
    } catch (err) {
      if (err instanceof ApiError && err.code === 403) return; // namespace terminating
      throw err;
    }
    const writes = plan.create.length + plan.update.length + plan.delete.length;
    if (writes) log.debug('endpointslices synced', { service: key, created: plan.create.length, updated: plan.update.length, deleted: plan.delete.length });
  };

  await runController({ name: 'endpointslice', queue, workers: WORKERS, reconcile, log });
}
