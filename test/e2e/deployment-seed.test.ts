// The seed walk-through's Deployments (apps/v1beta1 manifests, verbatim) on
// `skiff server --simulated-nodes 3`: three ready replicas, the label change
// rolls to new pods named <deployment>-<hash>-<5>, and a second Deployment
// with overlapping labels keeps exactly its own two pods.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestServer, eventually, startServer } from './harness.ts';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;

type Pod = { metadata: { name: string; labels: Record<string, string>; deletionTimestamp?: string; ownerReferences?: { name: string }[] }; status: { phase?: string } };

describe('seed deployments', () => {
  let s: TestServer;
  const pods = async (selector: string): Promise<Pod[]> =>
    (JSON.parse(await s.k(['get', 'pods', '-l', selector, '-o', 'json'])).items as Pod[]).filter((p) => !p.metadata.deletionTimestamp);
  /** READY, UP-TO-DATE, AVAILABLE columns of `kubectl get deploy`. */
  const columns = async (name: string) => {
    const out = await s.k(['get', 'deploy', name, '--no-headers']);
    const [, ready, upToDate, available] = out.trim().split(/\s+/);
    return `${ready} ${upToDate} ${available}`;
  };

  before(async () => {
    s = await startServer(['--simulated-nodes', '3']);
  });
  after(async () => {
    await s?.stop();
  });

  test('nginx-deployment comes up with 3 ready, up-to-date and available replicas', async () => {
    await s.k(['apply', '-f', `${FIXTURES}seed-deployment.yaml`]);
    await eventually(async () => (await columns('nginx-deployment')) === '3/3 3 3', 15_000, '3/3 3 3');
    const rs = JSON.parse(await s.k(['get', 'rs', '-o', 'json'])).items;
    assert.equal(rs.length, 1);
    const hash = rs[0].metadata.labels['pod-template-hash'];
    assert.equal(rs[0].metadata.name, `nginx-deployment-${hash}`);
    assert.equal(rs[0].metadata.annotations['deployment.kubernetes.io/revision'], '1');
    const events = await s.k(['get', 'events', '--field-selector', 'involvedObject.name=nginx-deployment', '-o', 'jsonpath={.items[*].message}']);
    assert.match(events, new RegExp(`Scaled up replica set nginx-deployment-${hash} from 0 to 3`));
  });

  test('adding version=v1 to the template rolls to new pods with the hash label', async () => {
    await s.k(['apply', '-f', `${FIXTURES}seed-deployment-v1.yaml`]);
    const out = await s.k(['rollout', 'status', 'deployment/nginx-deployment', '--timeout=20s']);
    assert.match(out, /successfully rolled out/);
    const running = await eventually(async () => {
      const all = await pods('app=nginx');
      return all.length === 3 && all.every((p) => p.metadata.labels.version === 'v1' && p.status.phase === 'Running') ? all : undefined;
    }, 15_000, 'three v1 pods');
    const hash = running[0].metadata.labels['pod-template-hash'];
    for (const p of running) {
      assert.match(p.metadata.name, new RegExp(`^nginx-deployment-${hash}-[a-z0-9]{5}$`));
      assert.deepEqual(p.metadata.labels, { app: 'nginx', 'pod-template-hash': hash, version: 'v1' });
    }
    assert.equal(await columns('nginx-deployment'), '3/3 3 3');
    const history = await s.k(['rollout', 'history', 'deployment/nginx-deployment']);
    assert.match(history, /^1\s+<none>$/m);
    assert.match(history, /^2\s+<none>$/m);
  });

  test('new-nginx-deployment with overlapping labels keeps its own 2 pods; -l version=v1 lists all five', async () => {
    await s.k(['apply', '-f', `${FIXTURES}seed-new-deployment.yaml`]);
    await eventually(async () => (await columns('new-nginx-deployment')) === '2/2 2 2', 15_000, 'new-nginx-deployment 2/2');
    const v1 = await eventually(async () => {
      const found = await pods('version=v1');
      return found.length === 5 && found.every((p) => p.status.phase === 'Running') ? found : undefined;
    }, 15_000, 'five v1 pods');
    const owners = v1.map((p) => p.metadata.ownerReferences?.[0].name ?? '');
    assert.equal(owners.filter((o) => o.startsWith('new-nginx-deployment-')).length, 2);
    assert.equal(owners.filter((o) => o.startsWith('nginx-deployment-')).length, 3);
    // Neither fights over the other's pods: the counts stay put.
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await columns('nginx-deployment'), '3/3 3 3');
    assert.equal(await columns('new-nginx-deployment'), '2/2 2 2');
    assert.equal((await pods('version=v1')).length, 5);
    const listed = await s.k(['get', 'pods', '-l', 'version=v1', '--no-headers']);
    assert.equal(listed.trim().split('\n').length, 5);
  });
});
