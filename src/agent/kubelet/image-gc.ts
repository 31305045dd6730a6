// Image garbage collection by disk use, as the kubelet's image GC manager:
// every few minutes, when the data dir's disk is fuller than the high
// threshold, unused images go (oldest use first) until it is under the low one.
import type { KubeObject } from '../../api/types.ts';
import type { Logger } from '../../lib/log.ts';
import { normalizeReference } from '../images/index.ts';
import type { ImageStore } from '../types.ts';

/** The kubelet's ImageGCPeriod. */
const IMAGE_GC_PERIOD_MS = 5 * 60_000;
/** The kubelet's imageGCHighThresholdPercent / imageGCLowThresholdPercent defaults. */
export const IMAGE_GC_HIGH_PERCENT = 85;
export const IMAGE_GC_LOW_PERCENT = 80;

/** Image references the pods bound here still need (their containers, init containers included), normalised as the store names images. */
export function imagesInUse(pods: KubeObject[]): Set<string> {
  const refs = new Set<string>();
  for (const pod of pods) {
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      if (typeof c.image !== 'string') continue;
      try {
        refs.add(normalizeReference(c.image));
      } catch {
        refs.add(c.image); // an invalid name cannot match a stored image anyway
      }
    }
  }
  return refs;
}

export function runImageGc(options: { images: ImageStore; pods: () => KubeObject[]; signal: AbortSignal; log: Logger }): void {
  const { images, pods, signal, log } = options;
  const collect = async () => {
    try {
      const removed = await images.garbageCollect({
        inUse: imagesInUse(pods()),
        highPercent: IMAGE_GC_HIGH_PERCENT,
        lowPercent: IMAGE_GC_LOW_PERCENT,
      });
      if (removed.length > 0) log.info('removed unused images', { images: removed });
    } catch (err) {
      log.warn('image garbage collection failed', { err });
    }
  };
  const timer = setInterval(() => void collect(), IMAGE_GC_PERIOD_MS);
  timer.unref();
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
}
