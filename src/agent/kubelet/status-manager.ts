// Writes pod status through the status subresource: only when it changed
// from what was last written, one write per pod at a time, the latest wins
// (several updates while a write is in flight collapse into one).
import { ApiError } from '../../api/errors.ts';
import type { KubeObject } from '../../api/types.ts';
import { type Client, refs } from '../../client/index.ts';
import type { Logger } from '../../lib/log.ts';
import { STATUS_WRITERS } from './constants.ts';

/** A failed write is retried after this long (the next sync would also bring it). */
const RETRY_MS = 1000;

type Pending = { namespace: string; name: string; uid: string; status: Record<string, unknown> };

/** Status equality that ignores heartbeat-like times of conditions when nothing else moved. */
export function sameStatus(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export class StatusManager {
  #client: Client;
  #log: Logger;
  #written = new Map<string, string>();
  #pending = new Map<string, Pending>();
  #order: string[] = [];
  #active = 0;
  #signal: AbortSignal;

  constructor(options: { client: Client; log: Logger; signal: AbortSignal }) {
    this.#client = options.client;
    this.#log = options.log;
    this.#signal = options.signal;
  }

  /** Queues the pod's status; nothing is written when it equals the last one written or the one in the pod object. */
  set(pod: KubeObject, status: Record<string, unknown>): void {
    const uid = pod.metadata.uid!;
    const text = JSON.stringify(status);
    const inObject = this.#written.get(uid) === undefined && sameAsObject(pod, status);
    if (this.#written.get(uid) === text || inObject) {
      this.#pending.delete(uid);
      if (inObject) this.#written.set(uid, text);
      return;
    }
    if (!this.#pending.has(uid)) this.#order.push(uid);
    this.#pending.set(uid, { namespace: pod.metadata.namespace!, name: pod.metadata.name!, uid, status });
    this.#pump();
  }

  forget(uid: string): void {
    this.#written.delete(uid);
    this.#pending.delete(uid);
  }

  /** Resolves once nothing is pending or in flight (tests, and final writes before a pod is deleted). */
  async flush(): Promise<void> {
    while ((this.#pending.size > 0 || this.#active > 0) && !this.#signal.aborted)
      await new Promise((r) => setTimeout(r, 10));
  }

  #pump(): void {
    while (this.#active < STATUS_WRITERS && this.#order.length > 0) {
      const uid = this.#order.shift()!;
      const item = this.#pending.get(uid);
      if (!item) continue;
      this.#pending.delete(uid);
      this.#active++;
      void this.#write(item).finally(() => {
        this.#active--;
        this.#pump();
      });
    }
  }

  async #write(item: Pending): Promise<void> {
    const text = JSON.stringify(item.status);
    try {
      // The uid in the patch is a precondition: a same-named successor pod is never given our status.
      await this.#client.patch(
        refs.pods,
        item.name,
        { metadata: { uid: item.uid }, status: item.status },
        { type: 'merge', namespace: item.namespace, subresource: 'status' },
      );
      this.#written.set(item.uid, text);
    } catch (err) {
      if (err instanceof ApiError && (err.code === 404 || err.code === 409 || err.code === 422)) return;
      if (this.#signal.aborted) return;
      this.#log.debug('pod status write failed, retrying', {
        pod: `${item.namespace}/${item.name}`,
        err: (err as Error).message,
      });
      setTimeout(() => {
        if (!this.#pending.has(item.uid)) {
          this.#pending.set(item.uid, item);
          this.#order.push(item.uid);
          this.#pump();
        }
      }, RETRY_MS).unref();
    }
  }
}

/** Whether every field we would write already has that value in the object (after an agent restart). */
function sameAsObject(pod: KubeObject, status: Record<string, unknown>): boolean {
  const current = pod.status ?? {};
  return Object.entries(status).every(([k, v]) => JSON.stringify(current[k]) === JSON.stringify(v));
}
