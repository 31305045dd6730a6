// A proxy worker thread: the same listeners as the main thread, on the same
// ports (SO_REUSEPORT), routing by the snapshots the main thread posts.
import { parentPort, workerData } from 'node:worker_threads';
import { createLogger } from '../../lib/log.ts';
import { startListeners } from './listeners.ts';
import { snapshotRouter } from './snapshot.ts';
import { CertificateStore } from './tls.ts';
import type { WorkerMessage, WorkerSetup } from './workers.ts';

const setup = workerData as WorkerSetup;
const log = createLogger(`ingress/worker-${setup.index}`);
const router = snapshotRouter();
const certs = new CertificateStore({ defaultCert: setup.defaultCert, log });
const port = parentPort!;

port.on('message', (message: WorkerMessage) => {
  if (message.type === 'snapshot') {
    router.load(message.snapshot);
    certs.loadSnapshot(message.snapshot.tls);
  } else if (message.type === 'stop') {
    void listeners.then((l) => l.close()).then(() => port.close());
  }
});

const listeners = startListeners({
  pick: router.pick,
  certs,
  httpPort: setup.httpPort,
  httpsPort: setup.httpsPort,
  bind: setup.bind,
  reusePort: true,
  log,
});
listeners.then(
  () => port.postMessage({ type: 'listening' }),
  (err: Error) => port.postMessage({ type: 'failed', message: err.message }),
);
