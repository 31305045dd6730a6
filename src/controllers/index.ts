// The controllers' public surface: startControllers runs leader election and,
// while this process leads, every controller.
import {
  type Client,
  createEventRecorder,
  leaderIdentity,
  runLeaderElection,
  SharedInformers,
} from '../client/index.ts';
import type { Logger } from '../lib/log.ts';
import type { ControllerContext, ControllerRunner } from './context.ts';
import { runGarbageCollector } from './garbage-collector.ts';
import { runNamespaceController } from './namespace.ts';
import { runReplicaSetController } from './replicaset.ts';
import { runScheduler } from '../scheduler/index.ts';

export type { ControllerContext, ControllerRunner } from './context.ts';

/**
 * Every controller the controller manager runs while leading, by name.
 * Add a controller with one line here.
 */
const CONTROLLERS: [name: string, run: ControllerRunner][] = [
  ['namespace', (ctx) => runNamespaceController({ client: ctx.client, signal: ctx.signal, log: ctx.log, recorder: ctx.recorder })],
  ['garbagecollector', (ctx) => runGarbageCollector({ client: ctx.client, signal: ctx.signal, log: ctx.log })],
  ['replicaset', runReplicaSetController],
  ['scheduler', runScheduler],
];

export { runGarbageCollector } from './garbage-collector.ts';
export { runNamespaceController } from './namespace.ts';
export { runReplicaSetController } from './replicaset.ts';

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
      const informers = new SharedInformers({ client, signal: leading, log: log.child('informers') });
      await Promise.all(
        CONTROLLERS.map(([name, run]) => {
          const ctx: ControllerContext = { client, informers, recorder, signal: leading, log: log.child(name), nodeName };
          return run(ctx).catch((err) => {
            if (!leading.aborted) log.error('controller stopped', { controller: name, err });
          });
        }),
      );
    },
  });
}
