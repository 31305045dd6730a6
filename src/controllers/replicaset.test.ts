// The ReplicaSet controller's loop against an in-memory API whose watch is
// delivered by hand: expectations keep it from creating or deleting twice
// while its cache lags behind its own writes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../api/types.ts';
import { type Client, Informer, type ListWatcher, type ResourceRef, type WatchEvent } from '../client/index.ts';
import { createLogger } from '../lib/log.ts';
import type { ControllerContext } from './context.ts';
import { runReplicaSetController } from './replicaset.ts';

/** A list+watch whose events the test pushes. */
function manualSource(items: KubeObject[]) {
  const pending: WatchEvent[] = [];
  let wake: (() => void) | undefined;
  const source: ListWatcher = {
    list: async () => ({ metadata: { resourceVersion: '1' }, items }),
    watch: (o) => ({
      async *[Symbol.asyncIterator]() {
        while (!o.signal?.aborted) {
          const next = pending.shift();
          if (next) yield next;
          else await new Promise<void>((r) => (wake = r));
        }
      },
    }),
  };
  const push = (type: WatchEvent['type'], object: KubeObject) => {
    pending.push({ type, object });
    wake?.();
  };
  return { source, push };
}

const until = async (check: () => boolean, what: string) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(check(), `timed out waiting for ${what}`);
};
const settle = () => new Promise((r) => setTimeout(r, 50));

describe('replicaset controller loop', () => {
  test('creates once per missing pod while the cache lags, replaces a deleted pod, deletes once on scale-down', async () => {
    let rv = 10;
    let seq = 0;
    const rs: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web', namespace: 'default', uid: 'rs-uid', generation: 1, resourceVersion: '5' },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
      },
    };
    const created: KubeObject[] = [];
    const deleted: string[] = [];
    const statuses: Record<string, unknown>[] = [];
    const client = {
      create: async (_ref: ResourceRef, obj: KubeObject) => {
        const pod = structuredClone(obj);
        pod.metadata.name = `${obj.metadata.generateName}${String(++seq).padStart(5, 'x')}`;
        pod.metadata.uid = `pod-${seq}`;
        pod.metadata.resourceVersion = String(++rv);
        created.push(pod);
        return pod;
      },
      delete: async (_ref: ResourceRef, name: string) => {
        deleted.push(name);
        return {};
      },
      updateStatus: async (_ref: ResourceRef, obj: KubeObject) => {
        statuses.push(obj.status);
        return obj;
      },
      get: async () => rs,
    } as unknown as Client;
    const pods = manualSource([]);
    const sets = manualSource([rs]);
    const abort = new AbortController();
    const informers = new Map<string, Informer>();
    const informerFor = (ref: ResourceRef) => {
      let inf = informers.get(ref.resource);
      if (!inf) {
        inf = new Informer({ source: ref.resource === 'pods' ? pods.source : sets.source, signal: abort.signal });
        informers.set(ref.resource, inf);
        void inf.run();
      }
      return inf;
    };
    const ctx = {
      client,
      informers: {
        for: informerFor,
        waitForSync: async () =>
          (await Promise.all([...informers.values()].map((i) => i.waitForSync()))).every(Boolean),
      },
      recorder: { record: async () => {} },
      signal: abort.signal,
      log: createLogger('test'),
      nodeName: 'test',
    } as unknown as ControllerContext;
    const running = runReplicaSetController(ctx);

    await until(() => created.length === 3, 'three creates');
    // More reasons to sync (ReplicaSet updates) while the new pods are not in the cache yet: no more creates.
    for (let i = 0; i < 3; i++)
      sets.push('MODIFIED', { ...rs, metadata: { ...rs.metadata, resourceVersion: String(++rv) } });
    await settle();
    assert.equal(created.length, 3);
    assert.ok(
      created.every((p) => p.metadata.generateName === 'web-' && p.metadata.ownerReferences?.[0]?.uid === 'rs-uid'),
    );

    for (const pod of created) pods.push('ADDED', pod);
    await until(() => statuses.at(-1)?.replicas === 3, 'status replicas 3');
    await settle();
    assert.equal(created.length, 3);

    // A pod goes away: exactly one replacement.
    pods.push('DELETED', created[0]);
    await until(() => created.length === 4, 'a replacement');
    sets.push('MODIFIED', { ...rs, metadata: { ...rs.metadata, resourceVersion: String(++rv) } });
    await settle();
    assert.equal(created.length, 4);
    pods.push('ADDED', created[3]);

    // Scale down to 1: two deletions, not repeated while their removal is unseen.
    const smaller = {
      ...rs,
      metadata: { ...rs.metadata, resourceVersion: String(++rv) },
      spec: { ...rs.spec, replicas: 1 },
    };
    sets.push('MODIFIED', smaller);
    await until(() => deleted.length === 2, 'two deletes');
    sets.push('MODIFIED', { ...smaller, metadata: { ...smaller.metadata, resourceVersion: String(++rv) } });
    await settle();
    assert.equal(deleted.length, 2);
    assert.equal(new Set(deleted).size, 2);

    abort.abort();
    await running;
  });
});
