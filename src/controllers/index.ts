// The controllers' public surface: startControllers runs leader election and,
// while this process leads, every controller.
import {
  type Client,
  createEventRecorder,
  leaderIdentity,
  runLeaderElection,
} from '../client/index.ts';
import type { Logger } from '../lib/log.ts';
import { runGarbageCollector } from './garbage-collector.ts';
import { runNamespaceController } from './namespace.ts';

export { runGarbageCollector } from './garbage-collector.ts';
export { runNamespaceController } from './namespace.ts';

/** The Lease in kube-system that decides which server runs the controllers. */
export const CONTROLLERS_LEASE = 'skiff-controller-manager';

export type StartControllersOptions = {
  client: Client;
  signal: AbortSignal;
  nodeName: string;
  log: Logger;
};

/** Runs until the signal aborts; the returned promise settles once everything has stopped. */
export async function startControllers(options: StartControllersOptions): Promise<void> {
  const { client, signal, nodeName, log } = options;
  const identity = leaderIdentity(nodeName);
  const recorder = createEventRecorder({ client, component: 'skiff-controller-manager', host: nodeName, log });
  await runLeaderElection({
    client,
    name: CONTROLLERS_LEASE,
    identity,
    signal,
    log: log.child('leader'),
    async onStartedLeading(leading) {
      const run = (name: string, task: Promise<void>) =>
        task.catch((err) => {
          if (!leading.aborted) log.error('controller stopped', { controller: name, err });
        });
      await Promise.all([
        run('namespace', runNamespaceController({ client, signal: leading, log: log.child('namespace'), recorder })),
        run('garbagecollector', runGarbageCollector({ client, signal: leading, log: log.child('garbagecollector') })),
      ]);
    },
  });
}
