// The service proxy of a node (kube-proxy's job): watches Services and
// EndpointSlices through the API and programs ClusterIPs, NodePorts and
// LoadBalancer addresses into the kernel (nftables, iptables fallback). No
// userspace hop: packets are DNATed by the kernel.
import type { KubeObject } from '../api/types.ts';
import { type Client, Informer, listWatcherFor, refs } from '../client/index.ts';
import type { Logger } from '../lib/log.ts';
import { createConntrackCleaner, staleConntrackDeletes } from './conntrack.ts';
import { detectBackend, type ProxyBackend, ProxyRules } from './rules.ts';
import { SyncRunner } from './runner.ts';
import { type ServicePort, servicePorts } from './service-ports.ts';

export {
  resetServiceProxy,
  ProxyRules,
  type ProxyBackend,
  bridgeNetfilterOn,
  detectBackend,
  DEFAULT_BRIDGE,
} from './rules.ts';
export { MIN_SYNC_PERIOD_MS, SYNC_PERIOD_MS, SYNC_BURST } from './runner.ts';
export { servicePorts, type ServicePort, type Endpoint } from './service-ports.ts';
export { desiredNftState, NFT_TABLE } from './nft-state.ts';
export { nftScript } from './nft-script.ts';

/** After a failed sync, try again this soon (the runner's rate limit still applies). */
const RETRY_AFTER_FAILURE_MS = 2000;
/** While the pod bridge does not exist yet (no pod has started), look again this often to route the service CIDR. */
const ROUTE_RETRY_MS = 2000;
const LOOPBACK = /^127\./;

export type ServiceProxyOptions = {
  client: Client;
  nodeName: string;
  /** Addresses NodePorts answer on (loopback ones are ignored, as kube-proxy's nftables mode does). */
  nodeIps: string[];
  /** The pod network: ClusterIP traffic from outside it is masqueraded. */
  clusterCidr: string;
  /** The Service CIDR: unallocated ClusterIPs are dropped, and routed to the bridge when the node has no route for them. */
  serviceCidr?: string;
  /** The pod bridge (default skiff0). */
  bridge?: string;
  signal: AbortSignal;
  log: Logger;
  /** Default: nftables where `nft` exists, else iptables. */
  backend?: ProxyBackend;
};

export type ServiceProxy = {
  backend: ProxyBackend;
  /** Resolves once the first full ruleset is in the kernel (false if stopped first). */
  synced: Promise<boolean>;
  /** Resolves once every sync asked for so far has run (tests and benchmarks). */
  idle(): Promise<void>;
  /** Settles when the informers stop after the signal. */
  stopped: Promise<void>;
};

export async function startServiceProxy(o: ServiceProxyOptions): Promise<ServiceProxy> {
  const { client, signal, log } = o;
  const backend = o.backend ?? detectBackend();
  const nodeIps = o.nodeIps.filter((ip) => !LOOPBACK.test(ip));
  const rules = new ProxyRules({
    backend,
    nodeIps,
    clusterCidr: o.clusterCidr,
    serviceCidr: o.serviceCidr,
    bridge: o.bridge,
    log,
  });
  const services = new Informer({ source: listWatcherFor(client, refs.services), signal, log });
  const slices = new Informer({ source: listWatcherFor(client, refs.endpointslices), signal, log });
  const cleanConntrack = createConntrackCleaner(log);
  let previous: ServicePort[] = [];
  let markSynced: (ok: boolean) => void = () => {};
  const synced = new Promise<boolean>((resolve) => {
    markSynced = resolve;
  });
  signal.addEventListener('abort', () => markSynced(false), { once: true });
  let failures = 0;

  const runner = new SyncRunner(
    async ({ full }) => {
      const started = performance.now();
      const ports = servicePorts(services.list(), slices.list(), o.nodeName);
      try {
        const lines = await rules.sync(ports, { full });
        await cleanConntrack(staleConntrackDeletes(previous, ports));
        previous = ports;
        if (failures > 0) log.info('service rules in sync again', { backend });
        failures = 0;
        markSynced(true);
        if (rules.routePending) setTimeout(() => runner.request(), ROUTE_RETRY_MS).unref();
        log.debug('service rules synced', {
          ports: ports.length,
          lines,
          full,
          ms: Math.round(performance.now() - started),
        });
      } catch (err) {
        failures++;
        rules.invalidate();
        if (failures === 1 || failures % 30 === 0)
          log.warn('service rules sync failed', { err: (err as Error).message, failures });
        setTimeout(() => runner.request({ full: true }), RETRY_AFTER_FAILURE_MS).unref();
      }
    },
    { signal },
  );
  // Nothing is programmed until both caches hold a full list: a Service seen before its slices would be rejected.
  let listed = false;
  const changed = () => listed && runner.request();
  for (const informer of [services, slices]) {
    informer.addHandlers({
      onAdd: changed,
      onUpdate: (a: KubeObject, b: KubeObject) => a !== b && changed(),
      onDelete: changed,
    });
  }
  const stopped = Promise.all([services.run(), slices.run()]).then(() => undefined);
  void Promise.all([services.waitForSync(), slices.waitForSync()]).then(([a, b]) => {
    listed = a && b;
    if (listed) runner.request({ full: true });
  });
  log.info('service proxy starting', { backend, nodeIps });
  return { backend, synced, idle: () => runner.idle(), stopped };
}
