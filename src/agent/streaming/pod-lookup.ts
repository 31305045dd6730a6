// Pure lookups in a pod object: which container a request means, its runtime
// id (current or previous instance) and restart count.
import type { KubeObject } from '../../api/types.ts';

export class StreamError extends Error {
  code: number;
  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

type Status = {
  name: string;
  containerID?: string;
  restartCount?: number;
  state?: { running?: object; waiting?: { reason?: string }; terminated?: { containerID?: string } };
  lastState?: { terminated?: { containerID?: string } };
};

function stripScheme(id: string | undefined): string | undefined {
  if (!id) return undefined;
  const at = id.indexOf('://');
  return at < 0 ? id : id.slice(at + 3);
}

export type ContainerInstance = {
  name: string;
  /** Runtime id, when that instance exists. */
  id?: string;
  /** The instance's restart count: its log file is `<restartCount>.log`. */
  restartCount: number;
  running: boolean;
  waitingReason?: string;
};

/** Finds a container (regular, init or ephemeral) of the pod; `previous` picks the last terminated instance. */
export function containerInstance(pod: KubeObject, name: string, options: { previous: boolean }): ContainerInstance {
  const statuses: Status[] = [
    ...(pod.status?.containerStatuses ?? []),
    ...(pod.status?.initContainerStatuses ?? []),
    ...(pod.status?.ephemeralContainerStatuses ?? []),
  ];
  const specNames = [
    ...(pod.spec?.containers ?? []),
    ...(pod.spec?.initContainers ?? []),
    ...(pod.spec?.ephemeralContainers ?? []),
  ].map((c: { name: string }) => c.name);
  if (!specNames.includes(name)) {
    throw new StreamError(400, `container ${name} is not valid for pod ${pod.metadata.name}`);
  }
  const status = statuses.find((s) => s.name === name);
  const restartCount = status?.restartCount ?? 0;
  if (options.previous) {
    const id = stripScheme(status?.lastState?.terminated?.containerID);
    if (!status || restartCount === 0) {
      throw new StreamError(400, `previous terminated container "${name}" in pod "${pod.metadata.name}" not found`);
    }
    return { name, id, restartCount: restartCount - 1, running: false };
  }
  return {
    name,
    id: stripScheme(status?.containerID ?? status?.state?.terminated?.containerID),
    restartCount,
    running: Boolean(status?.state?.running),
    waitingReason: status?.state?.waiting?.reason,
  };
}
