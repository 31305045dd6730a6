// The DNS worker thread's entry (see worker.ts): starts cluster DNS with its
// own client, reports where it listens, and stops when told to.
import { parentPort, workerData } from 'node:worker_threads';
import { createClient } from '../client/index.ts';
import { createLogger } from '../lib/log.ts';
import { startClusterDns } from './cluster.ts';
import type { FromDnsWorker } from './worker.ts';

const port = parentPort!;
const { api, listen, clusterDomain, upstream } = workerData;
const log = createLogger('dns');
const stop = new AbortController();
const client = createClient(api);
port.on('message', (msg: { type: string }) => {
  if (msg.type === 'stop') stop.abort();
});

try {
  const dns = await startClusterDns({ client, listen, clusterDomain, upstream, signal: stop.signal, log });
  port.postMessage({ type: 'ready', addresses: dns.addresses } satisfies FromDnsWorker);
  await dns.closed;
} catch (err) {
  port.postMessage({ type: 'failed', message: err instanceof Error ? err.message : String(err) } satisfies FromDnsWorker);
} finally {
  client.close();
  port.close();
}
