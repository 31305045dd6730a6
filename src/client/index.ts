// The client's public surface: typed HTTP client, discovery, informers,
// work queue, controller runner, events and leader election.
export {
  createClient,
  resourcePath,
  METADATA_ACCEPT,
  METADATA_LIST_ACCEPT,
  type Client,
  type ClientOptions,
  type DeleteOptions,
  type KubeList,
  type ListOptions,
  type PatchOptions,
  type PatchType,
  type ResourceRef,
  type WatchOptions,
} from './client.ts';
export { GoneError, type WatchEvent, type WatchEventType } from './watch.ts';
export { discoverResources, hasVerbs, resourceForKind, type DiscoveredResource, type Discovery } from './discovery.ts';
export { Informer, keyOf, listWatcherFor, WATCH_TIMEOUT_SECONDS, type InformerHandlers, type ListWatcher } from './informer.ts';
export { WorkQueue, BASE_RETRY_DELAY_MS, MAX_RETRY_DELAY_MS, type WorkQueueOptions } from './queue.ts';
export { runController, errorText, type ControllerOptions, type ReconcileResult } from './controller.ts';
export { createEventRecorder, EVENTS, type EventRecorder, type EventType } from './events.ts';
export {
  runLeaderElection,
  leaderIdentity,
  LEASES,
  LEASE_DURATION_MS,
  RENEW_DEADLINE_MS,
  RETRY_PERIOD_MS,
  type LeaderElectionOptions,
} from './leader.ts';
export { sleep } from './sleep.ts';
export { refs } from './refs.ts';
export { SharedInformers } from './shared-informers.ts';
