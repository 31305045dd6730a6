import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../api/types.ts';
import { type Client, Informer, type ListWatcher, type WatchEvent } from '../client/index.ts';
import { createLogger } from '../lib/log.ts';
import type { ControllerContext } from './context.ts';
import { nextPodCidr, nodePodCidrs, runNodeIpamController } from './node-ipam.ts';

describe('nextPodCidr', () => {
  test('lowest free /24 of the cluster CIDR', () => {
    assert.equal(nextPodCidr('10.244.0.0/16', []), '10.244.0.0/24');
    assert.equal(nextPodCidr('10.244.0.0/16', ['10.244.0.0/24', '10.244.2.0/24']), '10.244.1.0/24');
  });

  test('ranges outside the cluster CIDR (simulated nodes) take nothing; larger hand-set ranges take all they cover', () => {
    assert.equal(nextPodCidr('10.244.0.0/16', ['198.18.0.0/25', 'garbage']), '10.244.0.0/24');
    assert.equal(nextPodCidr('10.244.0.0/16', ['10.244.0.0/23']), '10.244.2.0/24');
    assert.equal(nextPodCidr('10.244.0.0/16', ['10.244.0.128/25']), '10.244.1.0/24');
  });

  test('exhaustion and small cluster CIDRs', () => {
    assert.equal(nextPodCidr('10.244.0.0/23', ['10.244.0.0/24', '10.244.1.0/24']), undefined);
    assert.equal(nextPodCidr('10.244.0.0/25', []), '10.244.0.0/25');
    assert.equal(nextPodCidr('10.244.0.0/25', ['10.244.0.0/25']), undefined);
    assert.equal(nextPodCidr('10.244.0.0/16', ['0.0.0.0/0']), undefined);
  });

  test('nodePodCidrs prefers podCIDRs', () => {
    assert.deepEqual(nodePodCidrs({ metadata: {}, spec: { podCIDR: 'a', podCIDRs: ['b'] } }), ['b']);
    assert.deepEqual(nodePodCidrs({ metadata: {}, spec: { podCIDR: 'a' } }), ['a']);
    assert.deepEqual(nodePodCidrs({ metadata: {} }), []);
  });
});

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

const node = (name: string, podCIDR?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, resourceVersion: '1' },
  spec: podCIDR ? { podCIDR, podCIDRs: [podCIDR] } : {},
});

describe('node IPAM controller loop', () => {
  test('keeps existing ranges after a restart, never hands one out twice while the cache lags, frees deleted nodes, reports exhaustion', async () => {
    const patches: [string, string][] = [];
    const events: string[] = [];
    const client = {
      patch: async (_ref: unknown, name: string, patch: { spec: { podCIDR: string } }) => {
        patches.push([name, patch.spec.podCIDR]);
        return node(name, patch.spec.podCIDR);
      },
    } as unknown as Client;
    // "Restart": n0 already holds .0, a simulated node holds a range outside the cluster CIDR.
    const nodes = manualSource([node('n0', '10.244.0.0/24'), node('sim', '198.18.0.0/25'), node('n1')]);
    const abort = new AbortController();
    const informer = new Informer({ source: nodes.source, signal: abort.signal });
    void informer.run();
    const ctx = {
      client,
      informers: { for: () => informer, waitForSync: () => informer.waitForSync() },
      recorder: { record: async (_o: KubeObject, _t: string, reason: string, message: string) => void events.push(`${reason}: ${message}`) },
      signal: abort.signal,
      log: createLogger('test'),
      nodeName: 'test',
      settings: { clusterCidr: '10.244.0.0/22' },
    } as unknown as ControllerContext;
    const running = runNodeIpamController(ctx);

    await until(() => patches.length === 1, 'n1 allocated');
    assert.deepEqual(patches[0], ['n1', '10.244.1.0/24']);
    // n2 arrives while n1's range is not yet in the cache: it must get a different one.
    nodes.push('ADDED', node('n2'));
    await until(() => patches.length === 2, 'n2 allocated');
    assert.deepEqual(patches[1], ['n2', '10.244.2.0/24']);
    nodes.push('MODIFIED', { ...node('n1', '10.244.1.0/24'), metadata: { name: 'n1', resourceVersion: '2' } });
    nodes.push('MODIFIED', { ...node('n2', '10.244.2.0/24'), metadata: { name: 'n2', resourceVersion: '2' } });
    nodes.push('ADDED', node('n3'));
    await until(() => patches.length === 3, 'n3 allocated');
    assert.deepEqual(patches[2], ['n3', '10.244.3.0/24']);
    nodes.push('MODIFIED', { ...node('n3', '10.244.3.0/24'), metadata: { name: 'n3', resourceVersion: '2' } });

    // The /22 is full: n4 waits with one event, then gets n1's range once n1 is deleted.
    nodes.push('ADDED', node('n4'));
    await until(() => events.length === 1, 'exhaustion event');
    assert.equal(events[0], 'CIDRNotAvailable: Node n4 status is now: CIDRNotAvailable');
    nodes.push('DELETED', node('n1', '10.244.1.0/24'));
    await until(() => patches.length === 4, 'n4 allocated');
    assert.deepEqual(patches[3], ['n4', '10.244.1.0/24']);
    assert.equal(events.length, 1);

    abort.abort();
    await running;
  });
});
