// status.loadBalancer.ingress of the Ingresses skiff serves: the node's IPs,
// written through the status subresource; withdrawn when skiff stops serving
// an Ingress (class changed) and the addresses are still skiff's.
import { ApiError } from '../../api/errors.ts';
import type { KubeObject } from '../../api/types.ts';
import { type Client, type Informer, refs, runController, type WorkQueue } from '../../client/index.ts';
import type { Logger } from '../../lib/log.ts';

// biome-ignore lint/suspicious/noExplicitAny: statuses are plain JSON
type Json = any;

/** Status writes in flight at once: a handful is plenty for a few hundred Ingresses. */
const STATUS_WORKERS = 2;

function ipsOf(ing: KubeObject): string[] {
  return ((ing.status?.loadBalancer?.ingress ?? []) as Json[]).map((i) => i.ip ?? i.hostname ?? '').sort();
}

function sameList(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The loadBalancer status to write, or undefined when the Ingress already has it. */
export function desiredIngressStatus(ing: KubeObject, served: boolean, nodeIps: string[]): Json | undefined {
  const current = ipsOf(ing);
  const wanted = [...new Set(nodeIps)].sort();
  if (served)
    return sameList(current, wanted) ? undefined : { loadBalancer: { ingress: wanted.map((ip) => ({ ip })) } };
  // No longer ours: withdraw only addresses skiff itself wrote.
  return current.length > 0 && sameList(current, wanted) ? { loadBalancer: {} } : undefined;
}

export function runStatusWriter(options: {
  client: Client;
  ingresses: Informer;
  served: (ing: KubeObject) => boolean;
  nodeIps: string[];
  queue: WorkQueue;
  log?: Logger;
}): Promise<void> {
  const { client, ingresses, served, nodeIps, queue, log } = options;
  const reconcile = async (key: string) => {
    const ing = ingresses.get(key);
    if (!ing) return;
    const status = desiredIngressStatus(ing, served(ing), nodeIps);
    if (!status) return;
    try {
      await client.patch(
        refs.ingresses,
        ing.metadata.name ?? '',
        { status },
        {
          type: 'merge',
          namespace: ing.metadata.namespace,
          subresource: 'status',
          fieldManager: 'skiff-ingress',
        },
      );
      log?.debug('ingress status', {
        ingress: key,
        ingress_ips: status.loadBalancer.ingress?.map((i: Json) => i.ip) ?? [],
      });
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return;
      throw err;
    }
  };
  return runController({ name: 'ingress-status', queue, workers: STATUS_WORKERS, reconcile, log });
}
