// The scheduler's public surface: runScheduler (a ControllerRunner, run on
// the leader with the controllers) and the pure pieces it is made of.
export { runScheduler, type SchedulerOptions, SCHEDULER_NAME, isPendingForUs, nodeSchedulingChanged } from './scheduler.ts';
export { schedulePod, feasibleNodesToFind, type ScheduleResult, type ScheduleOptions } from './schedule.ts';
export { filterNode, fitErrorMessage, type NodeFailure, type FilterInput } from './filters.ts';
export { scoreNodes, leastAllocatedScore, balancedAllocationScore, spreadScores, normalize, WEIGHTS } from './scores.ts';
export { SchedulerCache, type NodeInfo, type PodInfo } from './cache.ts';
export { SchedulingQueue, INITIAL_BACKOFF_MS, MAX_BACKOFF_MS } from './queue.ts';
export { podRequests, nodeAllocatable, type Resources } from './resources.ts';
