// Main-thread handle on the writer worker (sqlite-writer.ts): request/reply
// by id. The worker is referenced only while a request is outstanding, so an
// idle store never keeps the process alive (as a plain connection would not).
import { Worker } from 'node:worker_threads';
import {
  type BatchReply,
  type FromWriter,
  fromWire,
  type ToWriter,
  type WriteRequest,
  type WriterInit,
} from './sqlite-protocol.ts';

type Waiter = { resolve: (batch: BatchReply | undefined) => void; reject: (err: Error) => void };
type Request = ToWriter extends infer T ? (T extends { id: number } ? Omit<T, 'id'> : never) : never;

export class WriterClient {
  #worker: Worker;
  #waiters = new Map<number, Waiter>();
  #nextId = 1;
  #broken: Error | undefined;
  #closing = false;
  #exited: Promise<void>;

  private constructor(worker: Worker) {
    this.#worker = worker;
    this.#exited = new Promise((resolve) => worker.once('exit', () => resolve()));
    worker.on('message', (m: FromWriter) => this.#onMessage(m));
    worker.on('error', (err) => this.#fail(err));
    worker.on('exit', (code) => this.#fail(new Error(`store writer exited (code ${code})`)));
  }

  /** Start the worker on path; resolves with the revision it found once its connection is open. */
  static start(path: string): Promise<{ client: WriterClient; rev: number }> {
    // The worker inherits the process's flags (so not usable under `node --input-type=module -e`).
    const worker = new Worker(new URL('./sqlite-writer.ts', import.meta.url), {
      workerData: { path } satisfies WriterInit,
    });
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      worker.once('error', onError);
      worker.once('message', (m: FromWriter) => {
        worker.off('error', onError);
        if (m.type === 'ready') {
          const client = new WriterClient(worker);
          worker.unref();
          resolve({ client, rev: m.rev });
        } else {
          reject(m.type === 'open-failed' ? fromWire(m.error) : new Error(`unexpected ${m.type} from store writer`));
        }
      });
    });
  }

  batch(ops: WriteRequest[]): Promise<BatchReply> {
    return this.#request({ type: 'batch', ops }) as Promise<BatchReply>;
  }

  async compact(revision: number): Promise<void> {
    await this.#request({ type: 'compact', revision });
  }

  async reclaim(): Promise<void> {
    await this.#request({ type: 'reclaim' });
  }

  /** Finish queued jobs, close the writer's connection and wait for the thread to end. */
  async close(): Promise<void> {
    // Referenced until it has exited, or an otherwise idle process would end mid-close.
    this.#closing = true;
    this.#worker.ref();
    if (!this.#broken) await this.#request({ type: 'close' }).catch(() => {});
    await this.#exited;
  }

  #request(req: Request): Promise<BatchReply | undefined> {
    if (this.#broken) return Promise.reject(this.#broken);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#waiters.set(id, { resolve, reject });
      if (this.#waiters.size === 1) this.#worker.ref();
      this.#worker.postMessage({ ...req, id } as ToWriter);
    });
  }

  #settle(id: number): Waiter | undefined {
    const w = this.#waiters.get(id);
    this.#waiters.delete(id);
    if (this.#waiters.size === 0 && !this.#closing) this.#worker.unref();
    return w;
  }

  #onMessage(m: FromWriter): void {
    if (m.type === 'reply') this.#settle(m.id)?.resolve(m.batch);
    else if (m.type === 'failed') this.#settle(m.id)?.reject(fromWire(m.error));
  }

  /** The worker died: every outstanding and later request fails with the reason. */
  #fail(err: Error): void {
    this.#broken ??= err;
    for (const [id, w] of [...this.#waiters]) {
      this.#settle(id);
      w.reject(this.#broken);
    }
  }
}
