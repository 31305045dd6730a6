// Root CA publisher (Kubernetes' root-ca-cert-publisher): every namespace has
// a ConfigMap kube-root-ca.crt holding the cluster CA, which pods' projected
// service-account volumes mount as ca.crt to trust the API server.
import { ApiError, isNotFound } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import { refs, runController, WorkQueue } from '../client/index.ts';
import type { ControllerContext } from './context.ts';

export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
/** Kubernetes marks the ConfigMap with this annotation (empty value). */
const DESCRIPTION_ANNOTATION = 'kubernetes.io/description';
const DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';
/** Namespaces are independent and each needs one write at most. */
const WORKERS = 2;

/** What the namespace's ConfigMap must become, or undefined when it is already right (or must not exist). */
export function desiredRootCa(namespace: KubeObject | undefined, current: KubeObject | undefined, caPem: string): KubeObject | undefined {
  if (!namespace || namespace.metadata.deletionTimestamp) return undefined;
  if (current?.data?.['ca.crt'] === caPem && current.metadata.annotations?.[DESCRIPTION_ANNOTATION] === DESCRIPTION) return undefined;
  const name = namespace.metadata.name!;
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      ...(current?.metadata ?? {}),
      name: ROOT_CA_CONFIGMAP,
      namespace: name,
      annotations: { ...current?.metadata.annotations, [DESCRIPTION_ANNOTATION]: DESCRIPTION },
    },
    data: { 'ca.crt': caPem },
  };
}

export async function runRootCaPublisher(ctx: ControllerContext): Promise<void> {
  const caPem = ctx.settings?.clusterCaPem;
  if (!caPem) return;
  const { client, signal, log } = ctx;
  const namespaces = ctx.informers.for(refs.namespaces);
  const configmaps = ctx.informers.for(refs.configmaps);
  const queue = new WorkQueue({ signal });
  namespaces.addHandlers({ onAdd: (ns) => queue.add(ns.metadata.name ?? '') });
  configmaps.addHandlers({
    onUpdate: (_old, cm) => {
      if (cm.metadata.name === ROOT_CA_CONFIGMAP) queue.add(cm.metadata.namespace ?? '');
    },
    onDelete: (cm) => {
      if (cm.metadata.name === ROOT_CA_CONFIGMAP) queue.add(cm.metadata.namespace ?? '');
    },
  });
  if (!(await ctx.informers.waitForSync())) return;

  const reconcile = async (namespace: string) => {
    const current = configmaps.get(`${namespace}/${ROOT_CA_CONFIGMAP}`);
    const desired = desiredRootCa(namespaces.get(namespace), current, caPem);
    if (!desired) return;
    try {
      if (current) await client.update(refs.configmaps, desired);
      else await client.create(refs.configmaps, desired);
    } catch (err) {
      if (isNotFound(err)) return; // the namespace went away
      if (err instanceof ApiError && err.code === 409) throw err; // retried from a fresh cache
      throw err;
    }
  };
  await runController({ name: 'root-ca-cert-publisher', queue, workers: WORKERS, reconcile, log });
}
