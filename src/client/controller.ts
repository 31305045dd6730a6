// Runs a controller's workers: take a key, reconcile it, forget it on
// success, retry it with growing delay on failure.
import type { Logger } from '../lib/log.ts';
import type { WorkQueue } from './queue.ts';

/** A reconcile may ask to look at the key again later even though it succeeded (e.g. waiting on others). */
// biome-ignore lint/suspicious/noConfusingVoidType: reconciles that never requeue are plain `async (key) => {}`
export type ReconcileResult = void | { requeueAfterMs?: number };

export type ControllerOptions = {
  name: string;
  queue: WorkQueue;
  workers: number;
  reconcile(key: string): Promise<ReconcileResult>;
  log?: Logger;
  /** Called on every failure with the retry count so far (e.g. to record an Event after several). */
  onError?(key: string, err: unknown, retries: number): void;
};

/** Resolves when the queue shuts down and every worker has finished its current key. */
export async function runController(options: ControllerOptions): Promise<void> {
  const { queue, reconcile, log, name } = options;
  const worker = async () => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        const result = await reconcile(key);
        queue.forget(key);
        if (result?.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
      } catch (err) {
        if (queue.shuttingDown) continue;
        const retries = queue.retries(key);
        const delay = queue.addRateLimited(key);
        log?.debug('reconcile failed, will retry', { controller: name, key, retries, delayMs: delay, err: errorText(err) });
        options.onError?.(key, err, retries + 1);
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.workers) }, worker));
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
