// Service load balancer, as k3s' ServiceLB does it: a LoadBalancer Service
// is reachable on every node's address at its port, so its
// status.loadBalancer.ingress lists the nodes' addresses. Services of
// another loadBalancerClass are left to their controller.
import { ApiError } from '../api/errors.ts';
import type { KubeObject } from '../api/types.ts';
import { refs, runController, WorkQueue } from '../client/index.ts';
import { canonical } from './endpoints-plan.ts';
import type { ControllerContext } from './context.ts';

const WORKERS = 2;

// biome-ignore lint/suspicious/noExplicitAny: statuses are plain JSON
type Json = any;

function nodeReady(node: KubeObject): boolean {
  return (node.status?.conditions ?? []).some((c: Json) => c.type === 'Ready' && c.status === 'True');
}

/** A node's address for clients: ExternalIP when it has one, else InternalIP (k3s' choice). */
export function nodeAddress(node: KubeObject): string | undefined {
  const addresses: Json[] = node.status?.addresses ?? [];
  return addresses.find((a) => a.type === 'ExternalIP')?.address ?? addresses.find((a) => a.type === 'InternalIP')?.address;
}

/** The ingress a LoadBalancer Service should report: ready nodes' addresses (all nodes' while none is ready), sorted. */
export function loadBalancerIngress(nodes: KubeObject[]): Json[] {
  const ready = nodes.filter(nodeReady);
  const ips = [...new Set((ready.length ? ready : nodes).map(nodeAddress).filter(Boolean) as string[])].sort();
  return ips.map((ip) => ({ ip, ipMode: 'VIP' }));
}

/** The status the Service should have, or undefined when it already has it or is not ours. */
export function desiredLoadBalancerStatus(svc: KubeObject, nodes: KubeObject[]): Json | undefined {
  const spec = svc.spec ?? {};
  const current = svc.status?.loadBalancer?.ingress ?? [];
  if (spec.type === 'LoadBalancer') {
    if (spec.loadBalancerClass) return undefined;
    const ingress = loadBalancerIngress(nodes);
    return canonical(ingress) === canonical(current) ? undefined : { ...svc.status, loadBalancer: ingress.length ? { ingress } : {} };
  }
  // No longer a LoadBalancer: withdraw the addresses it had.
  return current.length ? { ...svc.status, loadBalancer: {} } : undefined;
}

export async function runServiceLbController(ctx: ControllerContext): Promise<void> {
  const { client, signal, log } = ctx;
  const services = ctx.informers.for(refs.services);
  const nodes = ctx.informers.for(refs.nodes);
  const queue = new WorkQueue({ signal });
  const key = (s: KubeObject) => `${s.metadata.namespace}/${s.metadata.name}`;
  const allBalanced = () => {
    for (const s of services.list()) if (s.spec?.type === 'LoadBalancer') queue.add(key(s));
  };
  services.addHandlers({ onAdd: (s) => queue.add(key(s)), onUpdate: (_o, s) => queue.add(key(s)) });
  // Only a change of address or readiness moves the ingress; heartbeats do not.
  const nodeFacts = (n: KubeObject) => `${nodeAddress(n)}/${nodeReady(n)}`;
  nodes.addHandlers({ onAdd: allBalanced, onUpdate: (o, n) => nodeFacts(o) !== nodeFacts(n) && allBalanced(), onDelete: allBalanced });
  if (!(await ctx.informers.waitForSync())) return;

  const reconcile = async (k: string) => {
    const svc = services.get(k);
    if (!svc) return;
    const status = desiredLoadBalancerStatus(svc, nodes.list());
    if (!status) return;
    try {
      await client.updateStatus(refs.services, { ...svc, status }, { namespace: svc.metadata.namespace });
      log.debug('load balancer status', { service: k, ingress: status.loadBalancer?.ingress?.map((i: Json) => i.ip) });
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return;
      throw err;
    }
  };
  await runController({ name: 'service-lb', queue, workers: WORKERS, reconcile, log });
}
