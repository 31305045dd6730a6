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

let listeners: ReturnType<typeof startListeners> | undefined;

// Listening starts with the first snapshot, so no connection meets an empty routing table.
function listen(): ReturnType<typeof startListeners> {
  const started = startListeners({
    pick: router.pick,
    certs,
    httpPort: setup.httpPort,
    httpsPort: setup.httpsPort,
    bind: setup.bind,
    reusePort: 'join',
    log,
  });
  started.then(
    () => port.postMessage({ type: 'listening' }),
    (err: Error) => port.postMessage({ type: 'failed', message: err.message }),
  );
  return started;
}

port.on('message', (message: WorkerMessage) => {
  if (message.type === 'snapshot') {
    router.load(message.snapshot);
    certs.loadSnapshot(message.snapshot.tls);
    listeners ??= listen();
  } else if (message.type === 'stop') {
    void (listeners ?? Promise.resolve(undefined)).then((l) => l?.close()).then(() => port.close());
  }
});
