// Restarting skiff server on the same data directory keeps every object with
// the same uid and resourceVersion.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestServer, eventually, startServer } from './harness.ts';

describe('restart', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(async () => {
    await s?.stop();
  });

  test('objects survive with the same uid and resourceVersion', async () => {
    await s.k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'keep' }, data: { a: '1' } }));
    await s.k(['apply', '-f', new URL('./fixtures/seed-deployment.yaml', import.meta.url).pathname]);
    // Controllers write status for a moment after the apply; snapshot once they are done.
    await eventually(async () => {
      const dep = JSON.parse(await s.k(['get', 'deploy', 'nginx-deployment', '-o', 'json']));
      return dep.status?.observedGeneration === dep.metadata.generation && dep.status?.replicas === 3;
    }, 20_000, 'deployment settled');
    await new Promise((r) => setTimeout(r, 1000));
    const before = JSON.parse(await s.k(['get', 'configmap/keep', 'deployment/nginx-deployment', '-o', 'json']));
    const listRv = JSON.parse(await s.k(['get', '--raw', '/api/v1/namespaces/default/configmaps'])).metadata.resourceVersion;
    await s.restart();
    const after = JSON.parse(await s.k(['get', 'configmap/keep', 'deployment/nginx-deployment', '-o', 'json']));
    const ids = (list: { items: { kind: string; metadata: { name: string; uid: string; resourceVersion: string } }[] }) =>
      list.items.map((i) => `${i.kind}/${i.metadata.name}/${i.metadata.uid}/${i.metadata.resourceVersion}`).sort();
    assert.deepEqual(ids(after), ids(before));
    assert.equal(ids(after).length, 2);
    const rvAfter = JSON.parse(await s.k(['get', '--raw', '/api/v1/namespaces/default/configmaps'])).metadata.resourceVersion;
    assert.ok(Number(rvAfter) >= Number(listRv), 'revisions never go back');
    await s.k(['label', 'configmap', 'keep', 'after=restart']);
    const updated = JSON.parse(await s.k(['get', 'configmap', 'keep', '-o', 'json']));
    assert.ok(Number(updated.metadata.resourceVersion) > Number(rvAfter), 'new writes continue the revision sequence');
  });
});
