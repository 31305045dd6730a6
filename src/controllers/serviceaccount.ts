// ServiceAccount controller (Kubernetes' serviceaccount-controller): every
// active namespace has a "default" ServiceAccount, created when the namespace
// appears and again whenever it is deleted. (No token Secrets: Kubernetes
// stopped creating them in 1.24.)
import { ApiError, isNotFound } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import { refs, runController, WorkQueue } from '../client/index.ts';
import type { ControllerContext } from './context.ts';

/** The accounts every namespace gets (kube-controller-manager's default list). */
export const DEFAULT_SERVICE_ACCOUNTS = ['default'];
/** Namespaces are independent and each needs one create at most. */
const WORKERS = 2;

/** The accounts a namespace is missing; none while it terminates (they would only be deleted again). */
export function missingServiceAccounts(namespace: KubeObject | undefined, existing: (name: string) => boolean): string[] {
  if (!namespace || namespace.metadata.deletionTimestamp || namespace.status?.phase === 'Terminating') return [];
  return DEFAULT_SERVICE_ACCOUNTS.filter((name) => !existing(name));
}

/** Runs until ctx.signal aborts. */
export async function runServiceAccountController(ctx: ControllerContext): Promise<void> {
  const { client, signal, log } = ctx;
  const namespaces = ctx.informers.for(refs.namespaces);
  const accounts = ctx.informers.for(refs.serviceaccounts);
  const queue = new WorkQueue({ signal });
  namespaces.addHandlers({ onAdd: (ns) => queue.add(ns.metadata.name ?? ''), onUpdate: (_o, ns) => queue.add(ns.metadata.name ?? '') });
  accounts.addHandlers({
    onDelete(sa) {
      if (DEFAULT_SERVICE_ACCOUNTS.includes(sa.metadata.name ?? '')) queue.add(sa.metadata.namespace ?? '');
    },
  });
  if (!(await ctx.informers.waitForSync())) return;

  const reconcile = async (namespace: string) => {
    const missing = missingServiceAccounts(namespaces.get(namespace), (name) => accounts.get(`${namespace}/${name}`) !== undefined);
    for (const name of missing) {
      try {
        await client.create(refs.serviceaccounts, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } });
        log.debug('created service account', { namespace, name });
      } catch (err) {
        if (err instanceof ApiError && err.code === 409) continue; // already there (our cache lagged)
        if (isNotFound(err)) return; // the namespace went away
        throw err; // e.g. 403 while the namespace terminates: retried with backoff
      }
    }
  };

  await runController({ name: 'serviceaccount', queue, workers: WORKERS, reconcile, log });
}
