// Pod → what the runtime runs: env, argv, user, cgroup values, volumes and
// mounts. Pure functions plus thin I/O for volume files; the kubelet's pod
// worker calls these and hands the ContainerSpec to the ContainerRuntime.
export { type Payload as AtomicPayload, writeAtomic } from './atomic-writer.ts';
export { expandCommandAndArgs, processArgs } from './command.ts';
export {
  type ContainerSpecOptions,
  containerSpec,
  containerSpecFromRootfs,
  DEFAULT_CAPABILITIES,
  DEFAULT_TERMINATION_MESSAGE_PATH,
  effectiveCapabilities,
  LABELS,
  ociCapabilities,
  podHostname,
} from './container-spec.ts';
export { type InvalidEnvKeys, invalidKeysMessage, isEnvVarName, mergeImageEnv, type ResolvedEnv, type ResolveEnvOptions, resolveEnv } from './env.ts';
export { expand, mappingFor } from './expand.ts';
export { formatMap, type PodRuntimeValues, podFieldValue, resourceFieldValue } from './fieldpath.ts';
export { checkHostPath, hostPathAction } from './hostpath.ts';
export { bindMount, containerMounts, planContainerMounts } from './mounts.ts';
export { cgroupResources, milliCpuToQuota, milliCpuToShares } from './resources.ts';
export { serviceEnvForPod, serviceLinkEnv } from './service-env.ts';
export { prepareTerminationMessageFile } from './termination.ts';
export { podTokenSource, tokenRequestFor } from './token.ts';
export { ContainerConfigError, type EnvVar, type NodeAllocatable, type ObjectGetter, VolumeError } from './types.ts';
export { readUserDb, resolveUser } from './user.ts';
export {
  cleanupPodVolumes,
  emptyDirMemorySize,
  PLUGIN_DIRS,
  type PreparedVolume,
  preparePodVolumes,
  type PrepareVolumesOptions,
  ROOT_CA_CONFIGMAP,
  type TokenSource,
} from './volumes.ts';
