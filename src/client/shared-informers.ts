// One informer per resource, shared by every controller in the process, so
// a resource is listed and watched once however many controllers read it
// (client-go's SharedInformerFactory).
import type { KubeObject } from '../api/types.ts';
import type { Logger } from '../lib/log.ts';
import type { Client, ResourceRef } from './client.ts';
import { Informer, listWatcherFor } from './informer.ts';

export class SharedInformers {
  #client: Client;
  #signal: AbortSignal;
  #log: Logger | undefined;
  #informers = new Map<string, Informer>();

  constructor(options: { client: Client; signal: AbortSignal; log?: Logger }) {
    this.#client = options.client;
    this.#signal = options.signal;
    this.#log = options.log;
  }

  /** The shared, running informer for a resource (all namespaces). */
  for<T extends KubeObject = KubeObject>(ref: ResourceRef): Informer<T> {
    const key = `${ref.group}/${ref.version}/${ref.resource}`;
    let informer = this.#informers.get(key);
    if (!informer) {
      informer = new Informer({ source: listWatcherFor(this.#client, ref), signal: this.#signal, log: this.#log?.child(ref.resource) });
      this.#informers.set(key, informer);
      void informer.run();
    }
    return informer as unknown as Informer<T>;
  }

  /** Resolves true once every informer asked for so far has synced (false if stopped first). */
  async waitForSync(): Promise<boolean> {
    const results = await Promise.all([...this.#informers.values()].map((i) => i.waitForSync()));
    return results.every(Boolean);
  }
}
