// Endpoints controller (Kubernetes' endpoint-controller): every Service with
// a selector gets an Endpoints object of the same name listing its pods'
// addresses, kept in step with pod readiness, termination and deletion.
// Services without a selector are left to their users.
import { ApiError, isNotFound } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import { refs, runController, WorkQueue } from '../client/index.ts';
import type { ControllerContext } from './context.ts';
import { desiredEndpoints, hasSelector, selectsPod } from './endpoints-plan.ts';

/** Services are independent; a few workers keep one busy namespace from delaying the rest. */
const WORKERS = 4;

const keyOf = (obj: KubeObject) => `${obj.metadata.namespace}/${obj.metadata.name}`;

/** Enqueues the Services in the pod's namespace that select it (before or after a label change). */
export function servicesForPod(services: KubeObject[], pods: (KubeObject | undefined)[]): string[] {
  const keys = new Set<string>();
  for (const svc of services) for (const pod of pods) if (pod && selectsPod(svc, pod)) keys.add(keyOf(svc));
  return [...keys];
}

export async function runEndpointsController(ctx: ControllerContext): Promise<void> {
  const { client, signal, log } = ctx;
  const services = ctx.informers.for(refs.services);
  const pods = ctx.informers.for(refs.pods);
  const endpoints = ctx.informers.for(refs.endpoints);
  const queue = new WorkQueue({ signal });
  const enqueueFor = (...ps: (KubeObject | undefined)[]) => {
    const ns = ps.find(Boolean)?.metadata.namespace;
    for (const key of servicesForPod(services.list({ namespace: ns }), ps)) queue.add(key);
  };
  services.addHandlers({ onAdd: (s) => queue.add(keyOf(s)), onUpdate: (_o, s) => queue.add(keyOf(s)), onDelete: (s) => queue.add(keyOf(s)) });
  pods.addHandlers({ onAdd: (p) => enqueueFor(p), onUpdate: (o, p) => enqueueFor(o, p), onDelete: (p) => enqueueFor(p) });
  // Someone else changed or removed our object: put it back.
  endpoints.addHandlers({ onUpdate: (_o, e) => queue.add(keyOf(e)), onDelete: (e) => queue.add(keyOf(e)) });
  if (!(await ctx.informers.waitForSync())) return;

  const reconcile = async (key: string) => {
    const [namespace, name] = key.split('/');
    const svc = services.get(key);
    if (!svc) {
      // The Service is gone: so are its endpoints (Kubernetes deletes them whatever managed them).
      if (!endpoints.get(key)) return;
      try {
        await client.delete(refs.endpoints, name, { namespace });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      return;
    }
    // ExternalName Services get no endpoints (Kubernetes skips them too).
    if (!hasSelector(svc) || svc.spec?.type === 'ExternalName') return;
    const existing = endpoints.get(key);
    const want = desiredEndpoints(svc, pods.list({ namespace }), existing);
    if (!want) return;
    try {
      if (existing) await client.update(refs.endpoints, want, { namespace });
      else await client.create(refs.endpoints, want, { namespace });
      log.debug('endpoints updated', { service: key, subsets: (want.subsets ?? []).length });
    } catch (err) {
      // The namespace is going away: nothing to keep up. (409/404 mean a stale cache: retried with the current object.)
      if (err instanceof ApiError && err.code === 403) return;
      throw err;
    }
  };

  await runController({ name: 'endpoints', queue, workers: WORKERS, reconcile, log });
}
