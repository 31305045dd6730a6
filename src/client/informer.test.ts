import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../api/types.ts';
import type { KubeList, ListOptions, WatchOptions } from './client.ts';
import { Informer, type ListWatcher } from './informer.ts';
import { GoneError, type WatchEvent } from './watch.ts';

/** An in-memory API for one resource: revisioned objects, an event log, watches that can be ended or expired. */
class FakeServer implements ListWatcher {
  rv = 0;
  objects = new Map<string, KubeObject>();
  log: { rv: number; event: WatchEvent }[] = [];
  lists = 0;
  watches: WatchOptions[] = [];
  #wake: (() => void)[] = [];
  #endWatches = false;
  expireBefore = 0;

  write(type: 'ADDED' | 'MODIFIED' | 'DELETED', name: string, namespace: string, labels?: Record<string, string>) {
    this.rv++;
    const key = `${namespace}/${name}`;
    const obj: KubeObject = { metadata: { name, namespace, labels, resourceVersion: String(this.rv), uid: key } };
    if (type === 'DELETED') this.objects.delete(key);
    else this.objects.set(key, obj);
    this.log.push({ rv: this.rv, event: { type, object: obj } });
    for (const wake of this.#wake.splice(0)) wake();
  }

  /** Ends every open watch normally (as the server does after timeoutSeconds). */
  endWatches() {
    this.#endWatches = true;
    for (const wake of this.#wake.splice(0)) wake();
  }

  async list(_options: ListOptions): Promise<KubeList> {
    this.lists++;
    return { metadata: { resourceVersion: String(this.rv) }, items: [...this.objects.values()] };
  }

  watch(options: WatchOptions): AsyncIterable<WatchEvent> {
    this.watches.push(options);
    this.#endWatches = false;
    const server = this;
    return {
      async *[Symbol.asyncIterator]() {
        let after = Number(options.resourceVersion);
        if (after < server.expireBefore) throw new GoneError('too old resource version');
        while (!options.signal?.aborted) {
          for (const entry of server.log) {
            if (entry.rv > after) {
              after = entry.rv;
              yield entry.event;
            }
          }
          if (server.#endWatches) return;
          await new Promise<void>((resolve) => {
            server.#wake.push(resolve);
            options.signal?.addEventListener('abort', () => resolve(), { once: true });
          });
        }
      },
    };
  }
}

const tick = (ms = 20) => new Promise((r) => setTimeout(r, ms));

describe('Informer', () => {
  test('lists, then watches from the list resourceVersion; handlers, cache, selectors, namespace index', async () => {
    const server = new FakeServer();
    server.write('ADDED', 'a', 'ns1', { app: 'web' });
    server.write('ADDED', 'b', 'ns2', { app: 'db' });
    const ac = new AbortController();
    const informer = new Informer({ source: server, signal: ac.signal });
    const seen: string[] = [];
    informer.addHandlers({
      onAdd: (o) => seen.push(`add ${o.metadata.name}`),
      onUpdate: (old, o) => seen.push(`update ${o.metadata.name} ${old.metadata.resourceVersion}->${o.metadata.resourceVersion}`),
      onDelete: (o) => seen.push(`delete ${o.metadata.name}`),
    });
    const running = informer.run();
    await informer.hasSynced;
    assert.equal(informer.size, 2);
    assert.equal(informer.resourceVersion, '2');
    server.write('MODIFIED', 'a', 'ns1', { app: 'web', v: '2' });
    server.write('ADDED', 'c', 'ns1', { app: 'web' });
    server.write('DELETED', 'b', 'ns2');
    await tick();
    assert.deepEqual(seen, ['add a', 'add b', 'update a 1->3', 'add c', 'delete b']);
    assert.equal(server.watches[0].resourceVersion, '2');
    assert.equal(server.watches[0].allowWatchBookmarks, true);
    assert.ok((server.watches[0].timeoutSeconds ?? 0) >= 60);
    assert.equal(informer.get('ns1/a')?.metadata.labels?.v, '2');
    assert.equal(informer.get('ns2/b'), undefined);
    assert.deepEqual(informer.list({ namespace: 'ns1' }).map((o) => o.metadata.name).sort(), ['a', 'c']);
    assert.deepEqual(informer.list({ namespace: 'ns2' }), []);
    assert.deepEqual(informer.list({ labelSelector: 'v=2' }).map((o) => o.metadata.name), ['a']);
    ac.abort();
    await running;
  });

  test('a watch the server ends resumes from the last resourceVersion without listing again', async () => {
    const server = new FakeServer();
    server.write('ADDED', 'a', 'ns');
    const ac = new AbortController();
    const informer = new Informer({ source: server, signal: ac.signal });
    const running = informer.run();
    await informer.hasSynced;
    server.write('MODIFIED', 'a', 'ns');
    await tick();
    server.endWatches();
    await tick();
    server.write('ADDED', 'b', 'ns');
    await tick(1200); // a watch that ends at once is retried after a short pause
    assert.equal(server.lists, 1);
    assert.ok(server.watches.length >= 2);
    assert.equal(server.watches[1].resourceVersion, '2');
    assert.equal(informer.size, 2);
    ac.abort();
    await running;
  });

  test('410 Gone lists again and reconciles the cache: missed deletes and updates reach the handlers', async () => {
    const server = new FakeServer();
    server.write('ADDED', 'a', 'ns');
    server.write('ADDED', 'b', 'ns');
    const ac = new AbortController();
    const informer = new Informer({ source: server, signal: ac.signal });
    const seen: string[] = [];
    informer.addHandlers({
      onUpdate: (_o, n) => seen.push(`update ${n.metadata.name}`),
      onDelete: (o) => seen.push(`delete ${o.metadata.name}`),
      onAdd: (o) => seen.push(`add ${o.metadata.name}`),
    });
    const running = informer.run();
    await informer.hasSynced;
    // History the informer will never see as events: compacted away.
    server.endWatches();
    server.objects.delete('ns/a');
    server.rv = 10;
    server.objects.set('ns/b', { metadata: { name: 'b', namespace: 'ns', resourceVersion: '9' } });
    server.objects.set('ns/c', { metadata: { name: 'c', namespace: 'ns', resourceVersion: '10' } });
    server.expireBefore = 5;
    await tick(1300);
    assert.equal(server.lists, 2);
    assert.deepEqual(seen, ['add a', 'add b', 'delete a', 'update b', 'add c']);
    assert.equal(informer.resourceVersion, '10');
    ac.abort();
    await running;
  });

  test('waitForSync resolves false when stopped before the first list', async () => {
    const ac = new AbortController();
    const never: ListWatcher = {
      list: () => new Promise(() => {}),
      watch: () => ({ [Symbol.asyncIterator]: async function* () {} }),
    };
    const informer = new Informer({ source: never, signal: ac.signal });
    void informer.run();
    const synced = informer.waitForSync();
    ac.abort();
    assert.equal(await synced, false);
  });
});
