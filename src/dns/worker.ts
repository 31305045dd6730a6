// Cluster DNS in worker threads: its own API client, informers, index and
// sockets, so answering queries never waits behind the API server (or the
// agent) on the main event loop, and their work never waits behind DNS.
// With `threads` > 1, more threads answer UDP on the same port (SO_REUSEPORT:
// the kernel spreads clients over the sockets by address and port), each with
// a replica of the primary thread's index (see replica.ts); TCP stays on the
// primary.
import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort, Worker, type ResourceLimits } from 'node:worker_threads';
import type { TransportOptions } from '../client/http.ts';
import type { Logger } from '../lib/log.ts';
import type { ListenAddress } from './server.ts';

/** More UDP threads than this buy nothing: past a few, clients and the kernel are the limit, and each thread costs memory. */
export const MAX_DNS_THREADS = 4;
/**
 * A small young generation: the DNS threads allocate a little per query and
 * keep almost nothing. Measured at 10k–40k queries/s: the default (16 MiB
 * semi-spaces) costs ~20 MiB more RSS per thread once they have grown, and
 * its scavenges pause up to 1.5 ms (~1 ms at 2–4 MiB), for 0.3% against ~1%
 * of the thread's time in GC.
 */
const DNS_RESOURCE_LIMITS: ResourceLimits = { maxYoungGenerationSizeMb: 4 };

export type DnsWorkerOptions = {
  /** How the worker reaches the API server (it makes its own client). */
  api: TransportOptions;
  listen: ListenAddress[];
  clusterDomain: string;
  upstream: boolean | string[];
  /** Threads answering UDP (default 1); 'auto' is one per CPU up to MAX_DNS_THREADS. */
  threads?: number | 'auto';
  signal: AbortSignal;
  log: Logger;
};

export type DnsWorker = {
  addresses: ListenAddress[];
  /** Resolves with the number of threads answering once the replicas have joined (or failed to). */
  allReady: Promise<number>;
  closed: Promise<void>;
};

/** Messages from a worker thread. */
export type FromDnsWorker = { type: 'ready'; addresses: ListenAddress[] } | { type: 'failed'; message: string };
/** Messages to a worker thread. */
export type ToDnsWorker = { type: 'stop' } | { type: 'replica'; port: MessagePort };

/** One per CPU, at most MAX_DNS_THREADS. */
export function defaultDnsThreads(): number {
  return Math.max(1, Math.min(availableParallelism(), MAX_DNS_THREADS));
}

const ENTRY = new URL('./worker-main.ts', import.meta.url);

/** Resolves with the worker's addresses once it listens; rejects if it cannot. */
function started(worker: Worker, log: Logger): Promise<ListenAddress[]> {
  return new Promise((resolve, reject) => {
    worker.on('error', (err) => {
      log.error('DNS worker failed', { err });
      reject(err);
    });
    worker.once('exit', (code) => reject(new Error(`DNS worker exited (${code}) before it listened`)));
    worker.on('message', (msg: FromDnsWorker) => {
      if (msg.type === 'ready') resolve(msg.addresses);
      else reject(new Error(msg.message));
    });
  });
}

/** Starts the DNS worker(s); resolves once the primary listens (rejects if it cannot bind). */
export async function startClusterDnsWorker(options: DnsWorkerOptions): Promise<DnsWorker> {
  const { api, listen, clusterDomain, upstream, log } = options;
  const threads = options.threads === 'auto' ? defaultDnsThreads() : Math.max(1, Math.floor(options.threads ?? 1));
  const primary = new Worker(ENTRY, {
    workerData: { role: 'primary', api, listen, clusterDomain, upstream, reusePort: threads > 1 },
    resourceLimits: DNS_RESOURCE_LIMITS,
  });
  const workers = [primary];
  const exits = [new Promise<void>((resolve) => primary.once('exit', () => resolve()))];
  const stop = () => {
    for (const w of workers) w.postMessage({ type: 'stop' } satisfies ToDnsWorker);
  };
  options.signal.addEventListener('abort', stop, { once: true });
  // Replicas follow the primary's index: without it they would serve a frozen zone.
  void exits[0].then(stop);
  const addresses = await started(primary, log);
  const replicas: Promise<boolean>[] = [];
  for (let i = 1; i < threads && !options.signal.aborted; i++) {
    const { port1, port2 } = new MessageChannel();
    primary.postMessage({ type: 'replica', port: port1 } satisfies ToDnsWorker, [port1]);
    const replica = new Worker(ENTRY, {
      workerData: { role: 'replica', zone: port2, listen: addresses, clusterDomain, upstream },
      transferList: [port2],
      resourceLimits: DNS_RESOURCE_LIMITS,
    });
    workers.push(replica);
    exits.push(new Promise<void>((resolve) => replica.once('exit', () => resolve())));
    replicas.push(
      started(replica, log).then(
        () => true,
        (err: Error) => {
          log.warn('DNS replica thread not started', { err: err.message });
          return false;
        },
      ),
    );
  }
  const allReady = Promise.all(replicas).then((ok) => 1 + ok.filter(Boolean).length);
  return { addresses, allReady, closed: Promise.all(exits).then(() => undefined) };
}
