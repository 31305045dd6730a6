// Extra proxy threads: each runs the listeners on the same ports as the main
// thread (SO_REUSEPORT, the kernel spreads connections), so the data path uses
// more than one core, as HAProxy's and nginx's workers do. The main thread
// keeps the informers and posts routing snapshots.
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../lib/log.ts';
import type { ProxySnapshot } from './snapshot.ts';
import type { Pem } from './tls.ts';

export type WorkerSetup = { index: number; httpPort: number; httpsPort: number; bind: string; defaultCert: Pem };
export type WorkerMessage = { type: 'snapshot'; snapshot: ProxySnapshot } | { type: 'stop' };
type WorkerReport = { type: 'listening' } | { type: 'failed'; message: string };

/** A worker that has not stopped this long after being asked is terminated. */
const STOP_TIMEOUT_MS = 3_000;

export type ProxyWorkers = {
  post(snapshot: ProxySnapshot): void;
  stop(): Promise<void>;
};

/** Starts `count` workers listening on the (already bound, resolved) ports; resolves once all listen. */
export async function startProxyWorkers(options: {
  count: number;
  httpPort: number;
  httpsPort: number;
  bind: string;
  defaultCert: Pem;
  /** What the workers route by until the next post (they listen once they have it). */
  snapshot: ProxySnapshot;
  log?: Logger;
}): Promise<ProxyWorkers> {
  const workers: Worker[] = [];
  const started: Promise<void>[] = [];
  for (let index = 1; index <= options.count; index++) {
    const setup: WorkerSetup = { index, httpPort: options.httpPort, httpsPort: options.httpsPort, bind: options.bind, defaultCert: options.defaultCert };
    const worker = new Worker(new URL('./proxy-worker.ts', import.meta.url), { workerData: setup });
    workers.push(worker);
    worker.postMessage({ type: 'snapshot', snapshot: options.snapshot } satisfies WorkerMessage);
    started.push(
      new Promise((resolve, reject) => {
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`ingress worker ${index} exited with ${code}`)));
        worker.once('message', (m: WorkerReport) => (m.type === 'listening' ? resolve() : reject(new Error(m.message))));
      }),
    );
    worker.on('error', (err) => options.log?.error('ingress worker failed', { worker: index, err: err.message }));
  }
  const stop = async () => {
    await Promise.all(
      workers.map(async (w) => {
        const exited = new Promise((r) => w.once('exit', r));
        w.postMessage({ type: 'stop' } satisfies WorkerMessage);
        const timer = setTimeout(() => void w.terminate(), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }),
    );
  };
  try {
    await Promise.all(started);
  } catch (err) {
    await Promise.all(workers.map((w) => w.terminate()));
    throw err;
  }
  return {
    post(snapshot) {
      for (const w of workers) w.postMessage({ type: 'snapshot', snapshot } satisfies WorkerMessage);
    },
    stop,
  };
}
