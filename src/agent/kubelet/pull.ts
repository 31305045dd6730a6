// Images for containers, per imagePullPolicy, with kubelet's events and
// back-off: ErrImagePull, then ImagePullBackOff while the back-off lasts;
// ErrImageNeverPull; InvalidImageName.
import type { KubeObject } from '../../api/types.ts';
import type { EventRecorder } from '../../client/index.ts';
import { isImageError, normalizeReference, parseReference, registryAuthFromSecrets } from '../images/index.ts';
import type { ImageRecord, ImageStore } from '../types.ts';
import { type BackoffEntry, backoffUntil, nextBackoff } from './backoff.ts';
import { IMAGE_BACKOFF_INITIAL_MS, IMAGE_BACKOFF_MAX_MS } from './constants.ts';
import { goDuration } from './backoff.ts';
import { asPod } from './prober.ts';

const IMAGE_BACKOFF = { initialMs: IMAGE_BACKOFF_INITIAL_MS, maxMs: IMAGE_BACKOFF_MAX_MS };

/** The waiting reason a failed image step leaves on the container. */
export class ImagePullError extends Error {
  readonly reason: 'ErrImagePull' | 'ImagePullBackOff' | 'ErrImageNeverPull' | 'InvalidImageName';
  /** When a retry may go (for ImagePullBackOff). */
  readonly retryAt?: number;
  constructor(reason: ImagePullError['reason'], message: string, retryAt?: number) {
    super(message);
    this.name = 'ImagePullError';
    this.reason = reason;
    this.retryAt = retryAt;
  }
}

/** The API server defaults the policy; when it did not: Always for :latest or no tag, else IfNotPresent. */
export function effectivePullPolicy(image: string, policy: string | undefined): string {
  if (policy) return policy;
  try {
    const ref = parseReference(image);
    return ref.digest || (ref.tag && ref.tag !== 'latest') ? 'IfNotPresent' : 'Always';
  } catch {
    return 'IfNotPresent';
  }
}

/** Whether to pull (pure): Always pulls; IfNotPresent pulls when missing; Never never. */
export function pullDecision(policy: string, present: boolean): 'pull' | 'use' | 'never-missing' {
  if (policy === 'Always') return 'pull';
  if (present) return 'use';
  return policy === 'Never' ? 'never-missing' : 'pull';
}

export type Puller = {
  ensure(
    pod: KubeObject,
    container: { name: string; image?: string; imagePullPolicy?: string },
    signal: AbortSignal,
  ): Promise<ImageRecord>;
  forgetPod(uid: string): void;
};

export function createPuller(options: {
  images: ImageStore;
  recorder: EventRecorder;
  /** Reads a Secret for imagePullSecrets. */
  getSecret(namespace: string, name: string): Promise<KubeObject | undefined>;
}): Puller {
  const { images, recorder } = options;
  const book = new Map<string, BackoffEntry & { failedAt: number }>();
  const event = (pod: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string) =>
    void recorder.record(asPod(pod), type, reason, message);

  return {
    async ensure(pod, container, signal) {
      const image = container.image ?? '';
      let name: string;
      try {
        name = normalizeReference(image);
      } catch (err) {
        const message = `Failed to apply default image tag "${image}": couldn't parse image name "${image}": ${(err as Error).message}`;
        event(pod, 'Warning', 'InspectFailed', message);
        throw new ImagePullError('InvalidImageName', message);
      }
      const policy = effectivePullPolicy(image, container.imagePullPolicy);
      const present = await images.resolve(name);
      const decision = pullDecision(policy, present !== undefined);
      if (decision === 'use' && present) {
        event(pod, 'Normal', 'Pulled', `Container image "${image}" already present on machine`);
        return present;
      }
      if (decision === 'never-missing') {
        const message = `Container image "${image}" is not present with pull policy of Never`;
        event(pod, 'Warning', 'ErrImageNeverPull', message);
        throw new ImagePullError('ErrImageNeverPull', message);
      }
      const key = `${pod.metadata.uid}/${name}`;
      const entry = book.get(key);
      const until = backoffUntil(entry, entry?.failedAt ?? 0, Date.now(), IMAGE_BACKOFF);
      // A recent pull failed but a copy is here (Always, offline): use it rather than back off.
      if (until !== undefined && present) return present;
      if (until !== undefined) {
        event(pod, 'Normal', 'BackOff', `Back-off pulling image "${image}"`);
        throw new ImagePullError('ImagePullBackOff', `Back-off pulling image "${image}"`, until);
      }
      event(pod, 'Normal', 'Pulling', `Pulling image "${image}"`);
      const started = Date.now();
      try {
        const secrets = await Promise.all(
          ((pod.spec?.imagePullSecrets ?? []) as { name: string }[]).map((s) =>
            options.getSecret(pod.metadata.namespace!, s.name),
          ),
        );
        const auth = registryAuthFromSecrets(
          secrets.filter((s): s is KubeObject => s !== undefined) as { type?: string; data?: Record<string, string> }[],
        );
        const record = await images.pull(name, { auth, signal });
        const took = goDuration(Date.now() - started);
        event(
          pod,
          'Normal',
          'Pulled',
          `Successfully pulled image "${image}" in ${took} (${took} including waiting). Image size: ${record.size} bytes.`,
        );
        book.delete(key);
        return record;
      } catch (err) {
        // Always with the image already here: a registry that cannot be reached is not fatal (kubelet would fail; we prefer the local copy and say so).
        const detail = isImageError(err) ? err.message : (err as Error).message;
        const now = Date.now();
        book.set(key, { ...nextBackoff(entry, now, IMAGE_BACKOFF), failedAt: now });
        if (present) {
          event(
            pod,
            'Warning',
            'Failed',
            `Failed to pull image "${image}": ${detail}; using the image already present`,
          );
          return present;
        }
        event(pod, 'Warning', 'Failed', `Failed to pull image "${image}": ${detail}`);
        event(pod, 'Warning', 'Failed', 'Error: ErrImagePull');
        throw new ImagePullError('ErrImagePull', `Failed to pull image "${image}": ${detail}`);
      }
    },
    forgetPod(uid) {
      for (const key of book.keys()) if (key.startsWith(`${uid}/`)) book.delete(key);
    },
  };
}
