// The scheduler and simulated nodes, driven by real kubectl: pods are bound
// and reported Running; scheduling failures say why in kube-scheduler's words
// and resolve when a node is labelled; cordon, taints and tolerations; pods of
// one owner spread across nodes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestServer, eventually, startServer } from './harness.ts';

const NODES = ['sim-node-0', 'sim-node-1', 'sim-node-2'];

function pod(name: string, spec: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', ...metadata },
    spec: { containers: [{ name: 'c', image: 'nginx' }], ...spec },
  });
}

describe('scheduler on simulated nodes', () => {
  let s: TestServer;
  const nodeOf = async (name: string) => s.k(['get', 'pod', name, '-o', 'jsonpath={.spec.nodeName}']);
  const running = (name: string) =>
    eventually(async () => {
      const out = await s.k(['get', 'pod', name, '-o', 'jsonpath={.status.phase} {.spec.nodeName}']);
      const [phase, node] = out.split(' ');
      return phase === 'Running' && node ? node : undefined;
    }, 10_000, `${name} running`);
  const describePod = (name: string) => s.k(['describe', 'pod', name]);

  before(async () => {
    s = await startServer(['--simulated-nodes', '3']);
  });
  after(async () => {
    await s?.stop();
  });

  test('simulated nodes are Ready and their pods Running with addresses', async () => {
    const nodes = await s.k(['get', 'nodes', '-l', 'type=simulated', '-o', 'jsonpath={.items[*].metadata.name}']);
    assert.deepEqual(nodes.split(' ').sort(), NODES);
    await eventually(async () => (await s.k(['get', 'nodes'])).split('\n').filter((l) => / Ready /.test(l)).length === 3);
    await s.k(['create', '-f', '-'], pod('hello'));
    const node = await running('hello');
    assert.ok(NODES.includes(node));
    const ip = await s.k(['get', 'pod', 'hello', '-o', 'jsonpath={.status.podIP} {.status.containerStatuses[0].ready}']);
    assert.match(ip, /^198\.1[89]\.\d+\.\d+ true$/);
    const leases = await s.k(['get', 'leases', '-n', 'kube-node-lease', '-o', 'name']);
    assert.equal(leases.trim().split('\n').length, 3);
    const events = await describePod('hello');
    assert.match(events, new RegExp(`Scheduled .*default-scheduler +Successfully assigned default/hello to ${node}`));
  });

  test('too much cpu stays Pending with the FailedScheduling reason', async () => {
    await s.k(['create', '-f', '-'], pod('greedy', { containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: '64' } } }] }));
    const text = await eventually(async () => {
      const d = await describePod('greedy');
      return d.includes('FailedScheduling') ? d : undefined;
    }, 10_000, 'FailedScheduling event');
    assert.match(text, /0\/3 nodes are available: 3 Insufficient cpu\. preemption: 0\/3 nodes are available: 3 No preemption victims found for incoming pod\./);
    assert.match(text, /PodScheduled +False/);
    assert.equal(await s.k(['get', 'pod', 'greedy', '-o', 'jsonpath={.status.phase}']), 'Pending');
    assert.equal(await nodeOf('greedy'), '');
  });

  test('a pod waiting for a node label is scheduled once a node is labelled', async () => {
    await s.k(['create', '-f', '-'], pod('picky', { nodeSelector: { disk: 'ssd' } }));
    await eventually(async () => (await describePod('picky')).includes(
      "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
    ), 10_000, 'selector mismatch event');
    await s.k(['label', 'node', 'sim-node-2', 'disk=ssd']);
    assert.equal(await running('picky'), 'sim-node-2');
  });

  test('a cordoned node gets no new pods', async () => {
    await s.k(['cordon', 'sim-node-0']);
    for (let i = 0; i < 4; i++) await s.k(['create', '-f', '-'], pod(`after-cordon-${i}`));
    for (let i = 0; i < 4; i++) assert.notEqual(await running(`after-cordon-${i}`), 'sim-node-0');
    await s.k(['uncordon', 'sim-node-0']);
  });

  test('taints keep pods off unless tolerated', async () => {
    await s.k(['taint', 'node', 'sim-node-1', 'dedicated=db:NoSchedule']);
    for (let i = 0; i < 3; i++) await s.k(['create', '-f', '-'], pod(`untolerating-${i}`));
    for (let i = 0; i < 3; i++) assert.notEqual(await running(`untolerating-${i}`), 'sim-node-1');
    const pinned = { nodeSelector: { 'kubernetes.io/hostname': 'sim-node-1' } };
    await s.k(['create', '-f', '-'], pod('pinned-intolerant', pinned));
    await eventually(async () => (await describePod('pinned-intolerant')).includes(
      "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, 2 node(s) didn't match Pod's node affinity/selector.",
    ), 10_000, 'taint event');
    const tolerations = [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }];
    await s.k(['create', '-f', '-'], pod('pinned-tolerant', { ...pinned, tolerations }));
    assert.equal(await running('pinned-tolerant'), 'sim-node-1');
    await s.k(['taint', 'node', 'sim-node-1', 'dedicated=db:NoSchedule-']);
    assert.equal(await running('pinned-intolerant'), 'sim-node-1', 'removing the taint lets the waiting pod in');
  });

  test('pods of one owner spread evenly across nodes', async () => {
    await s.k(['create', 'configmap', 'spread-owner']);
    const uid = await s.k(['get', 'configmap', 'spread-owner', '-o', 'jsonpath={.metadata.uid}']);
    const ownerReferences = [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'spread-owner', uid, controller: true }];
    for (let i = 0; i < 6; i++) await s.k(['create', '-f', '-'], pod(`spread-${i}`, {}, { ownerReferences }));
    const counts = new Map<string, number>();
    for (let i = 0; i < 6; i++) {
      const node = await running(`spread-${i}`);
      counts.set(node, (counts.get(node) ?? 0) + 1);
    }
    assert.deepEqual([...counts.values()], [2, 2, 2], JSON.stringify([...counts]));
  });

  test('deleting a pod on a simulated node finishes at once', async () => {
    await s.k(['delete', 'pod', 'hello', '--wait=true', '--timeout=10s']);
    assert.notEqual((await s.kubectl(['get', 'pod', 'hello'])).code, 0);
  });
});
