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
import type { ControllerContext, ControllerRunner, ControllerSettings } from './context.ts';
import { runGarbageCollector } from './garbage-collector.ts';
import { runNamespaceController } from './namespace.ts';
import { runPodGcController } from './podgc.ts';
import { runRootCaPublisher } from './root-ca-publisher.ts';
import { runNodeLifecycleController } from './node-lifecycle.ts';
import { runServiceAccountController } from './serviceaccount.ts';
import { runTaintEvictionController } from './taint-eviction.ts';
import { runReplicaSetController } from './replicaset.ts';
import { runStatefulSetController } from './statefulset.ts';
import { runDaemonSetController } from './daemonset.ts';
import { runDeploymentController } from './deployment.ts';
import { runScheduler } from '../scheduler/index.ts';
import { runCronJobController } from './cronjob.ts';
import { runJobController } from './job.ts';
import { runTtlAfterFinishedController } from './ttl-after-finished.ts';
import { runNodeIpamController } from './node-ipam.ts';
import { runEndpointsController } from './endpoints.ts';
import { runEndpointSliceController } from './endpointslice.ts';
import { runEndpointSliceMirroringController } from './endpointslice-mirroring.ts';
import { runServiceLbController } from './service-lb.ts';

export type { ControllerContext, ControllerRunner, ControllerSettings } from './context.ts';

/**
 * Every controller the controller manager runs while leading, by name.
 * Add a controller with one line here.
 */
const CONTROLLERS: [name: string, run: ControllerRunner][] = [
  ['namespace', (ctx) => runNamespaceController({ client: ctx.client, signal: ctx.signal, log: ctx.log, recorder: ctx.recorder })],
  ['garbagecollector', (ctx) => runGarbageCollector({ client: ctx.client, signal: ctx.signal, log: ctx.log })],
  ['replicaset', runReplicaSetController],
  ['deployment', runDeploymentController],
  ['statefulset', runStatefulSetController],
  ['daemonset', runDaemonSetController],
  ['scheduler', runScheduler],
  ['nodelifecycle', (ctx) => runNodeLifecycleController(ctx)],
  ['tainteviction', runTaintEvictionController],
  ['serviceaccount', runServiceAccountController],
  ['job', runJobController],
  ['cronjob', runCronJobController],
  ['ttlafterfinished', runTtlAfterFinishedController],
  ['nodeipam', runNodeIpamController],
  ['podgc', runPodGcController],
  ['endpoints', runEndpointsController],
  ['endpointslice', runEndpointSliceController],
  ['endpointslicemirroring', runEndpointSliceMirroringController],
  ['service-lb', runServiceLbController],
  ['root-ca-cert-publisher', runRootCaPublisher],
];

export { runGarbageCollector } from './garbage-collector.ts';
export { runNamespaceController } from './namespace.ts';
export { runNodeLifecycleController } from './node-lifecycle.ts';
export { runServiceAccountController } from './serviceaccount.ts';
export { runTaintEvictionController } from './taint-eviction.ts';
export { runReplicaSetController } from './replicaset.ts';

/** The Lease in kube-system that decides which server runs the controllers. */
export const CONTROLLERS_LEASE = 'skiff-controller-manager';

export type StartControllersOptions = {
  client: Client;
  signal: AbortSignal;
  nodeName: string;
  log: Logger;
  settings?: ControllerSettings;
};

/** Runs until the signal aborts; the returned promise settles once everything has stopped. */
export async function startControllers(options: StartControllersOptions): Promise<void> {
  const { client, signal, nodeName, log, settings } = options;
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
          // Events name their controller as Kubernetes' do ("replicaset-controller"), without a host.
          const events = recorder.withSource({ component: `${name}-controller` });
          const ctx: ControllerContext = { client, informers, recorder: events, signal: leading, log: log.child(name), nodeName, settings };
          return run(ctx).catch((err) => {
            if (!leading.aborted) log.error('controller stopped', { controller: name, err });
          });
        }),
      );
    },
  });
}
