// startClusterDns: the cluster DNS server of a node, fed by informers on
// Services, EndpointSlices and Namespaces through the API client.
import type { KubeObject } from '../api/types.ts';
import { type Client, type Informer, refs, SharedInformers } from '../client/index.ts';
import type { Logger } from '../lib/log.ts';
import { type SourceKind, ZonePublisher } from './replica.ts';
import { type DnsServer, type ListenAddress, startDnsServer } from './server.ts';
import { makeUpstream, parseUpstream } from './upstream-config.ts';
import { ClusterDnsIndex } from './zone-index.ts';

export type ClusterDnsOptions = {
  client: Client;
  /** Where to answer, UDP and TCP on each (port 0 picks one). */
  listen: ListenAddress[];
  /** The cluster domain, e.g. cluster.local. */
  clusterDomain: string;
  /**
   * Forwarding of names outside the cluster: true → the node's /etc/resolv.conf
   * nameservers (loopback stubs such as 127.0.0.53 included: this server runs
   * in the node's network namespace, where they answer); a list → those
   * servers ("10.0.0.2" or "10.0.0.2:5353"); false → such names are REFUSED.
   */
  upstream: boolean | string[];
  /** Reuse the caller's informers (the agent's) instead of starting new ones. */
  informers?: SharedInformers;
  /** Share the UDP port with other threads' sockets (SO_REUSEPORT). */
  reusePort?: boolean;
  signal: AbortSignal;
  log?: Logger;
};

export type ClusterDns = DnsServer & {
  index: ClusterDnsIndex;
  /** Resolves true once the index holds the first full list of Services, EndpointSlices and Namespaces. */
  synced: Promise<boolean>;
  /** Sends the index on to replicas in other threads (see replica.ts). */
  publisher: ZonePublisher;
};

/** Feeds an index from informers (through `publisher`, which passes changes on to replicas); resolves true once all three have synced. */
export function feedIndex(index: ClusterDnsIndex, informers: SharedInformers, publisher = new ZonePublisher(index)): Promise<boolean> {
  const wire = (informer: Informer, kind: SourceKind) =>
    informer.addHandlers({
      onAdd: (o: KubeObject) => publisher.apply(kind, false, o),
      onUpdate: (_old: KubeObject, o: KubeObject) => publisher.apply(kind, false, o),
      onDelete: (o: KubeObject) => publisher.apply(kind, true, o),
    });
  wire(informers.for(refs.namespaces), 'namespace');
  wire(informers.for(refs.services), 'service');
  wire(informers.for(refs.endpointslices), 'slice');
  return informers.waitForSync().then((ok) => {
    if (ok) publisher.markSynced();
    return ok;
  });
}

export { makeUpstream, parseUpstream };

export async function startClusterDns(options: ClusterDnsOptions): Promise<ClusterDns> {
  const { client, signal, log } = options;
  const index = new ClusterDnsIndex({ zone: options.clusterDomain });
  const publisher = new ZonePublisher(index);
  const informers = options.informers ?? new SharedInformers({ client, signal, log: log?.child('informers') });
  const synced = feedIndex(index, informers, publisher);
  const upstream = makeUpstream(options);
  const server = await startDnsServer({ index, listen: options.listen, upstream, synced, reusePort: options.reusePort, signal, log });
  signal.addEventListener('abort', () => publisher.close(), { once: true });
  return { ...server, index, synced, publisher };
}
