// Cluster DNS in a worker thread: its own API client, informers, index and
// sockets, so answering queries never waits behind the API server (or the
// agent) on the main event loop, and their work never waits behind DNS.
import { Worker } from 'node:worker_threads';
import type { TransportOptions } from '../client/http.ts';
import type { Logger } from '../lib/log.ts';
import type { ListenAddress } from './server.ts';

export type DnsWorkerOptions = {
  /** How the worker reaches the API server (it makes its own client). */
  api: TransportOptions;
  listen: ListenAddress[];
  clusterDomain: string;
  upstream: boolean | string[];
  signal: AbortSignal;
  log: Logger;
};

export type DnsWorker = { addresses: ListenAddress[]; closed: Promise<void> };

/** Messages from the worker thread. */
export type FromDnsWorker = { type: 'ready'; addresses: ListenAddress[] } | { type: 'failed'; message: string };

/** Starts the DNS worker; resolves once it listens (rejects if it cannot bind). */
export function startClusterDnsWorker(options: DnsWorkerOptions): Promise<DnsWorker> {
  const { api, listen, clusterDomain, upstream } = options;
  const worker = new Worker(new URL('./worker-main.ts', import.meta.url), { workerData: { api, listen, clusterDomain, upstream } });
  const closed = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const stop = () => worker.postMessage({ type: 'stop' });
  options.signal.addEventListener('abort', stop, { once: true });
  return new Promise((resolve, reject) => {
    worker.once('error', (err) => {
      options.log.error('DNS worker failed', { err });
      reject(err);
    });
    worker.on('message', (msg: FromDnsWorker) => {
      if (msg.type === 'ready') resolve({ addresses: msg.addresses, closed });
      else reject(new Error(msg.message));
    });
  });
}
