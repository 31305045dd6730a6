// The DNS worker threads' entry (see worker.ts). The primary starts cluster
// DNS with its own client and informers (UDP and TCP) and hands its index on
// to replicas; a replica follows that index over a MessagePort and answers
// UDP on the same port (SO_REUSEPORT) once the primary's informers have
// synced. Each reports where it listens and stops when told to.
import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../lib/log.ts';
import type { ListenAddress } from './server.ts';
import type { FromDnsWorker, ToDnsWorker } from './worker.ts';

const port = parentPort!;
const log = createLogger('dns');
const stop = new AbortController();
/** Replicas asked for before the primary's index exists wait here. */
const waiting: MessagePort[] = [];
let addReplica = (p: MessagePort): void => {
  waiting.push(p);
};
port.on('message', (msg: ToDnsWorker) => {
  if (msg.type === 'stop') stop.abort();
  else addReplica(msg.port);
});
const { clusterDomain, upstream } = workerData as { clusterDomain: string; upstream: boolean | string[] };

async function primary(): Promise<void> {
  const { createClient } = await import('../client/index.ts');
  const { startClusterDns } = await import('./cluster.ts');
  const client = createClient(workerData.api);
  try {
    const { listen, reusePort } = workerData as { listen: ListenAddress[]; reusePort: boolean };
    const dns = await startClusterDns({ client, listen, clusterDomain, upstream, reusePort, signal: stop.signal, log });
    addReplica = (p) => dns.publisher.add(p);
    for (const p of waiting.splice(0)) addReplica(p);
    port.postMessage({ type: 'ready', addresses: dns.addresses } satisfies FromDnsWorker);
    await dns.closed;
  } finally {
    client.close();
  }
}

async function replica(): Promise<void> {
  const { followZone } = await import('./replica.ts');
  const { makeUpstream } = await import('./upstream-config.ts');
  const { startDnsServer } = await import('./server.ts');
  const zone = workerData.zone as MessagePort;
  const listen = workerData.listen as ListenAddress[];
  const stopped = new Promise<undefined>((resolve) => stop.signal.addEventListener('abort', () => resolve(undefined), { once: true }));
  try {
    const replica = await Promise.race([followZone(zone, clusterDomain), stopped]);
    if (!replica) return;
    const { index, synced } = replica;
    // Join the port only once the zone is complete: a socket bound earlier would take its share of clients and answer SERVFAIL.
    await Promise.race([synced, stopped]);
    if (stop.signal.aborted) return;
    const upstreamResolver = makeUpstream({ upstream, listen, log });
    const dns = await startDnsServer({ index, listen, upstream: upstreamResolver, reusePort: true, udpOnly: true, signal: stop.signal, log });
    port.postMessage({ type: 'ready', addresses: dns.addresses } satisfies FromDnsWorker);
    await dns.closed;
  } finally {
    zone.close();
  }
}

try {
  await (workerData.role === 'replica' ? replica() : primary());
} catch (err) {
  port.postMessage({ type: 'failed', message: err instanceof Error ? err.message : String(err) } satisfies FromDnsWorker);
} finally {
  port.close();
}
