// The container runtime (runc): public surface.
export {
  type CgroupMounts,
  cgroupMounts,
  cgroupParentFor,
  detectCgroupVersion,
  hostDevices,
  nofileLimit,
  readCgroupStats,
  removeCgroupTree,
} from './cgroups.ts';
export {
  CONTAINER_LOG_MAX_FILES,
  CONTAINER_LOG_MAX_SIZE,
  type CriEntry,
  CriLogWriter,
  type FollowOptions,
  followLog,
  listLogFiles,
  type LogStream,
  parseCriLine,
} from './cri-log.ts';
export {
  type CgroupVersion,
  type HostInfo,
  LABELS_ANNOTATION,
  labelsFromOciSpec,
  ociSpec,
  RLIMIT_NOFILE,
} from './oci-spec.ts';
export { isRuntimeError, RuntimeError, type RuntimeErrorReason } from './runc.ts';
export { resetRuntime } from './reset.ts';
export { createRuncRuntime, RuncRuntime, type RuncRuntimeOptions, runtimePaths } from './runtime.ts';
export { runtimePreflight } from './preflight.ts';
