// Shapes shared by the pod → runtime translation.
import type { KubeObject } from '../../api/types.ts';

/** Loose JSON (pod specs are read field by field, as the kubelet does). */
// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are untyped JSON here.
export type Json = any;

export type EnvVar = { name: string; value: string };

/** Reads a ConfigMap or Secret (informer cache or API); undefined when it does not exist. */
export type ObjectGetter = (namespace: string, name: string) => Promise<KubeObject | undefined> | KubeObject | undefined;

/** The node's allocatable resources in base units (cores, bytes), used where a container sets no limit. */
export type NodeAllocatable = { cpu?: number; memory?: number; 'ephemeral-storage'?: number };

/**
 * A failure the kubelet reports as the container's waiting reason:
 * CreateContainerConfigError for a bad or missing reference (configmap,
 * secret, user), CreateContainerError for an unusable spec.
 */
export class ContainerConfigError extends Error {
  readonly reason: 'CreateContainerConfigError' | 'CreateContainerError';
  constructor(message: string, reason: 'CreateContainerConfigError' | 'CreateContainerError' = 'CreateContainerConfigError') {
    super(message);
    this.name = 'ContainerConfigError';
    this.reason = reason;
  }
}

/** A volume that could not be set up; the kubelet records FailedMount and retries. */
export class VolumeError extends Error {
  readonly volume: string;
  constructor(volume: string, message: string) {
    super(message);
    this.name = 'VolumeError';
    this.volume = volume;
  }

  /** The FailedMount event message, as Kubernetes words it. */
  get eventMessage(): string {
    return `MountVolume.SetUp failed for volume "${this.volume}" : ${this.message}`;
  }
}
