// startClusterDns: the cluster DNS server of a node, fed by informers on
// Services, EndpointSlices and Namespaces through the API client.
import type { KubeObject } from '../api/types.ts';
import { type Client, type Informer, refs, SharedInformers } from '../client/index.ts';
import type { Logger } from '../lib/log.ts';
import { type DnsServer, type ListenAddress, startDnsServer } from './server.ts';
import { readResolvConf, type UpstreamServer, UpstreamResolver } from './upstream.ts';
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
  signal: AbortSignal;
  log?: Logger;
};

export type ClusterDns = DnsServer & {
  index: ClusterDnsIndex;
  /** Resolves true once the index holds the first full list of Services, EndpointSlices and Namespaces. */
  synced: Promise<boolean>;
};

/** "10.0.0.2" or "10.0.0.2:5353" or "[fd00::2]:53" → a server. */
export function parseUpstream(spec: string): UpstreamServer {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec);
  if (bracketed) return { address: bracketed[1], port: Number(bracketed[2] ?? 53) };
  const parts = spec.split(':');
  if (parts.length === 2) return { address: parts[0], port: Number(parts[1]) };
  return { address: spec, port: 53 };
}

/** Feeds an index from informers; resolves true once all three have synced. */
export function feedIndex(index: ClusterDnsIndex, informers: SharedInformers): Promise<boolean> {
  const wire = (informer: Informer, upsert: (o: KubeObject) => void, remove: (o: KubeObject) => void) =>
    informer.addHandlers({ onAdd: upsert, onUpdate: (_old, obj) => upsert(obj), onDelete: remove });
  wire(informers.for(refs.namespaces), (o) => index.upsertNamespace(o), (o) => index.deleteNamespace(o));
  wire(informers.for(refs.services), (o) => index.upsertService(o), (o) => index.deleteService(o));
  wire(informers.for(refs.endpointslices), (o) => index.upsertSlice(o), (o) => index.deleteSlice(o));
  return informers.waitForSync();
}

export async function startClusterDns(options: ClusterDnsOptions): Promise<ClusterDns> {
  const { client, signal, log } = options;
  const index = new ClusterDnsIndex({ zone: options.clusterDomain });
  const informers = options.informers ?? new SharedInformers({ client, signal, log: log?.child('informers') });
  const synced = feedIndex(index, informers);
  let upstream: UpstreamResolver | undefined;
  if (options.upstream !== false) {
    const own = options.listen.map((l) => l.address);
    const servers = options.upstream === true ? readResolvConf('/etc/resolv.conf', own) : options.upstream.map(parseUpstream);
    if (servers.length === 0) log?.warn('no upstream DNS servers; names outside the cluster will fail');
    upstream = new UpstreamResolver({ servers, log: log?.child('upstream') });
  }
  const server = await startDnsServer({ index, listen: options.listen, upstream, synced, signal, log });
  return { ...server, index, synced };
}
