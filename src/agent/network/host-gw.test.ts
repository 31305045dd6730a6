import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../api/types.ts';
import { hostGwRoutes, routeChanges } from './host-gw.ts';

const node = (name: string, podCIDR?: string, ip?: string): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name },
  spec: podCIDR ? { podCIDR } : {},
  status: { addresses: [{ type: 'Hostname', address: name }, ...(ip ? [{ type: 'InternalIP', address: ip }] : [])] },
});

test('routes every other node with a podCIDR and an InternalIP', () => {
  const routes = hostGwRoutes(
    [node('a', '10.244.0.0/24', '192.0.2.1'), node('b', '10.244.1.0/24', '192.0.2.2'), node('c', undefined, '192.0.2.3'), node('d', '10.244.3.0/24')],
    'a',
  );
  assert.deepEqual([...routes], [['10.244.1.0/24', '192.0.2.2']]);
});

test('no routes to simulated nodes (no pods run there) or via our own address', () => {
  const sim = node('sim-0', '10.244.9.0/24', '198.18.1.129');
  sim.metadata.annotations = { 'skiff.dev/simulated-node': 'true' };
  const routes = hostGwRoutes([sim, node('twin', '10.244.2.0/24', '192.0.2.1'), node('b', '10.244.1.0/24', '192.0.2.2')], 'a', '192.0.2.1');
  assert.deepEqual([...routes], [['10.244.1.0/24', '192.0.2.2']]);
});

test('changes: new and moved routes are replaced, gone ones removed, unchanged ones left', () => {
  const current = new Map([
    ['10.244.1.0/24', '192.0.2.2'],
    ['10.244.2.0/24', '192.0.2.3'],
    ['10.244.4.0/24', '192.0.2.5'],
  ]);
  const desired = new Map([
    ['10.244.1.0/24', '192.0.2.2'],
    ['10.244.2.0/24', '192.0.2.9'],
    ['10.244.3.0/24', '192.0.2.4'],
  ]);
  assert.deepEqual(routeChanges(current, desired), {
    replace: [
      ['10.244.2.0/24', '192.0.2.9'],
      ['10.244.3.0/24', '192.0.2.4'],
    ],
    remove: ['10.244.4.0/24'],
  });
});
