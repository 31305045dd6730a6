// Routes between nodes' pod networks, as flannel's host-gw backend programs
// them: for every other Node, `<its podCIDR> via <its InternalIP>`, so pods
// reach pods on other nodes unmasqueraded (the nodes share a link). Routes
// carry skiff's own routing-protocol number, so reset finds exactly them.
import type { KubeObject } from '../../api/types.ts';
import { type Client, Informer, listWatcherFor, refs } from '../../client/index.ts';
import type { Logger } from '../../lib/log.ts';
import { SIMULATED_ANNOTATION } from '../simulated/objects.ts';
import { CommandError, run, runIgnoring } from './exec.ts';

/** The `proto` number on skiff's pod-network routes (rtnetlink leaves 5-252 unassigned; flannel's routes use the boot/static ones). */
export const HOST_GW_ROUTE_PROTO = '147';
/** iproute2's answer when deleting a route that is already gone. */
const NO_ROUTE = /No such process|Cannot find/;

/** Desired routes, podCIDR → gateway, for every node but `self` that has both (simulated nodes run no pods: none; nor a node sharing our IP). Pure. */
export function hostGwRoutes(nodes: KubeObject[], self: string, selfIp?: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const node of nodes) {
    if (node.metadata.name === self || node.metadata.annotations?.[SIMULATED_ANNOTATION]) continue;
    const cidr: string | undefined = node.spec?.podCIDR;
    const ip = (node.status?.addresses ?? []).find((a: { type: string }) => a.type === 'InternalIP')?.address as string | undefined;
    if (cidr && ip && ip !== selfIp) out.set(cidr, ip);
  }
  return out;
}

/** What to change to go from `current` to `desired`. Pure. */
export function routeChanges(current: Map<string, string>, desired: Map<string, string>): { replace: [string, string][]; remove: string[] } {
  const replace = [...desired].filter(([cidr, via]) => current.get(cidr) !== via);
  const remove = [...current.keys()].filter((cidr) => !desired.has(cidr));
  return { replace, remove };
}

export type HostGwOptions = { client: Client; nodeName: string; nodeIp: string; signal: AbortSignal; log: Logger };

/** Watches Nodes and keeps this namespace's routes to other nodes' pod CIDRs (a deleted Node's route goes with it). */
export function startHostGwRoutes(o: HostGwOptions): { stopped: Promise<void> } {
  const nodes = new Informer({ source: listWatcherFor(o.client, refs.nodes), signal: o.signal, log: o.log });
  const programmed = new Map<string, string>();
  // Routes the kernel refused (gateway not on a connected link): not retried until the node's address or CIDR changes.
  const refused = new Map<string, string>();
  let syncing = Promise.resolve();
  let queued = false;
  // Every heartbeat updates a Node: coalesce them into one pass over the cache.
  const sync = () => {
    if (queued) return;
    queued = true;
    syncing = syncing.then(async () => {
      queued = false;
      if (o.signal.aborted) return;
      const desired = hostGwRoutes(nodes.list(), o.nodeName, o.nodeIp);
      for (const [cidr, via] of refused) if (desired.get(cidr) !== via) refused.delete(cidr);
      const { replace, remove } = routeChanges(programmed, desired);
      for (const [cidr, via] of replace) {
        if (refused.get(cidr) === via) continue;
        try {
          await run(['ip', 'route', 'replace', cidr, 'via', via, 'proto', HOST_GW_ROUTE_PROTO]);
          programmed.set(cidr, via);
          o.log.info('pod route', { cidr, via });
        } catch (err) {
          refused.set(cidr, via);
          // A node on another link (not reachable directly) needs an overlay; host-gw cannot route to it.
          o.log.warn('pod route not added', { cidr, via, err: err instanceof CommandError ? err.stderr.trim() : String(err) });
        }
      }
      for (const cidr of remove) {
        await runIgnoring(['ip', 'route', 'del', cidr, 'proto', HOST_GW_ROUTE_PROTO], NO_ROUTE).catch(() => undefined);
        programmed.delete(cidr);
        o.log.info('pod route removed', { cidr });
      }
    });
  };
  nodes.addHandlers({ onAdd: sync, onUpdate: sync, onDelete: sync });
  // Routes outlive the agent (as flannel's do), so pods keep talking across agent restarts; `skiff reset` removes them.
  const stopped = nodes.run().then(() => syncing);
  return { stopped };
}

/** Removes every route skiff's host-gw added in this network namespace. */
export async function resetHostGwRoutes(): Promise<void> {
  await run(['ip', 'route', 'flush', 'proto', HOST_GW_ROUTE_PROTO]);
}
