// pods/binding and pods/eviction, as the scheduler and kubectl drain use them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestServer, startServer } from './harness.ts';

const pod = (name: string) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
const binding = (name: string, node: string) =>
  JSON.stringify({ apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { apiVersion: 'v1', kind: 'Node', name: node } });

describe('pod subresources', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(async () => {
    await s?.stop();
  });

  test('binding assigns a node once, and marks the pod scheduled', async () => {
    await s.k(['create', '-f', '-'], pod('bound'));
    await s.k(['create', '--raw', '/api/v1/namespaces/default/pods/bound/binding', '-f', '-'], binding('bound', 'node-a'));
    const bound = JSON.parse(await s.k(['get', 'pod', 'bound', '-o', 'json']));
    assert.equal(bound.spec.nodeName, 'node-a');
    assert.equal(bound.status.conditions.find((c: { type: string }) => c.type === 'PodScheduled').status, 'True');
    const again = await s.kubectl(['create', '--raw', '/api/v1/namespaces/default/pods/bound/binding', '-f', '-'], { input: binding('bound', 'node-b') });
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already assigned to node "node-a"/);
    const edit = await s.kubectl(['patch', 'pod', 'bound', '--type=merge', '-p', '{"spec":{"nodeName":"node-c"}}']);
    assert.notEqual(edit.code, 0, 'a plain update may not move a pod');
  });

  test('eviction deletes the pod', async () => {
    await s.k(['create', '-f', '-'], pod('evicted'));
    const eviction = JSON.stringify({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'evicted', namespace: 'default' } });
    await s.k(['create', '--raw', '/api/v1/namespaces/default/pods/evicted/eviction', '-f', '-'], eviction);
    const gone = await s.kubectl(['get', 'pod', 'evicted']);
    assert.match(gone.stderr, /not found/);
  });
});
