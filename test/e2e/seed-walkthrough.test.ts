// The user's own walk-through (../shared/seed-walkthrough.md), verbatim, with
// real kubectl, real runc containers and real pod networking: three nginx
// pods, the label change rolled out, a second deployment with the same labels
// and another image, five pods each serving HTTP on its pod IP.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { canRunContainers } from '../../src/agent/runtime/testing.ts';
import { buildTestImages } from '../images/build.ts';
import { httpGet } from './agent-helpers.ts';
import { eventually, startServer, type TestServer } from './harness.ts';

const skip = canRunContainers() ?? false;
const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;
/** A rollout of a few real containers takes seconds here; allow for a loaded 2-core machine. */
const ROLLOUT_MS = 60_000;

type Pod = { metadata: { name: string; labels: Record<string, string>; deletionTimestamp?: string }; status: { phase?: string; podIP?: string } };

describe('seed walk-through with real containers', { skip }, () => {
  let s: TestServer;
  const pods = async (selector: string): Promise<Pod[]> =>
    (JSON.parse(await s.k(['get', 'pods', '-l', selector, '-o', 'json'])).items as Pod[]).filter((p) => !p.metadata.deletionTimestamp);
  const deploymentsReady = (expected: Record<string, number>) =>
    eventually(
      async () => {
        const table = await s.k(['get', 'deploy']);
        return Object.entries(expected).every(([name, n]) => new RegExp(`^${name}\\s+${n}/${n}\\s+${n}\\s+${n}\\s`, 'm').test(table)) ? table : undefined;
      },
      ROLLOUT_MS,
      `deployments ready: ${JSON.stringify(expected)}`,
    );

  before(async () => {
    const images = await buildTestImages();
    s = await startServer([], { agent: true, images: [images.nginx1142, images.nginx1141] });
  });
  after(() => s?.stop());

  test('1. three nginx replicas become ready, up to date and available', async () => {
    assert.match(await s.k(['apply', '-f', fixture('seed-deployment.yaml')]), /deployment.apps\/nginx-deployment created/);
    await deploymentsReady({ 'nginx-deployment': 3 });
    const running = await pods('app=nginx');
    assert.equal(running.length, 3);
    for (const pod of running) {
      assert.equal(pod.status.phase, 'Running');
      // Without a readiness probe a pod is Ready once its container starts, a moment before httpd listens.
      const page = await eventually(async () => httpGet(`http://${pod.status.podIP}/`), 5_000, `${pod.metadata.name} serving`);
      assert.match(page, /nginx 1\.14\.2/);
    }
  });

  test('2. the version label rolls out to new pods named <deployment>-<hash>-<5 chars>', async () => {
    assert.match(await s.k(['apply', '-f', fixture('seed-deployment-v1.yaml')]), /configured/);
    const rolled = await eventually(
      async () => {
        const v1 = await pods('version=v1');
        const all = await pods('app=nginx');
        return v1.length === 3 && all.length === 3 && v1.every((p) => p.status.phase === 'Running') ? v1 : undefined;
      },
      ROLLOUT_MS,
      'three running v1 pods and no old ones',
    );
    await deploymentsReady({ 'nginx-deployment': 3 });
    const labels = await s.k(['get', 'pods', '--show-labels']);
    for (const pod of rolled) {
      const hash = pod.metadata.labels['pod-template-hash'];
      assert.match(pod.metadata.name, new RegExp(`^nginx-deployment-${hash}-[a-z0-9]{5}$`));
      assert.match(labels, new RegExp(`^${pod.metadata.name}\\s+1/1\\s+Running\\s+0\\s+\\S+\\s+app=nginx,pod-template-hash=${hash},version=v1$`, 'm'));
    }
    assert.equal((await s.k(['get', 'pods', '-l', 'version=v1', '-o', 'name'])).trim().split('\n').length, 3);
  });

  test('3. a second deployment with the same labels keeps its own pods; both versions serve', async () => {
    assert.match(await s.k(['apply', '-f', fixture('seed-new-deployment.yaml')]), /new-nginx-deployment created/);
    await deploymentsReady({ 'nginx-deployment': 3, 'new-nginx-deployment': 2 });
    const v1 = await eventually(
      async () => {
        const list = await pods('version=v1');
        return list.length === 5 && list.every((p) => p.status.phase === 'Running' && p.status.podIP) ? list : undefined;
      },
      ROLLOUT_MS,
      'five running v1 pods',
    );
    const pages = await Promise.all(
      v1.map((p) => eventually(async () => httpGet(`http://${p.status.podIP}/`), 5_000, `${p.metadata.name} serving`)),
    );
    assert.equal(pages.filter((page) => /nginx 1\.14\.2/.test(page ?? '')).length, 3);
    assert.equal(pages.filter((page) => /nginx 1\.14\.1/.test(page ?? '')).length, 2);
    // Neither deployment steals the other's pods: each ReplicaSet owns exactly its own.
    const owners = JSON.parse(await s.k(['get', 'pods', '-l', 'version=v1', '-o', 'json'])).items.map(
      (p: { metadata: { ownerReferences: { name: string }[] } }) => p.metadata.ownerReferences[0].name.replace(/-[a-z0-9]+$/, ''),
    );
    assert.equal(owners.filter((o: string) => o === 'nginx-deployment').length, 3);
    assert.equal(owners.filter((o: string) => o === 'new-nginx-deployment').length, 2);
  });

  test('a deleted pod is replaced by a new one that serves', async () => {
    const [victim] = await pods('app=nginx,version=v1');
    await s.k(['delete', 'pod', victim.metadata.name]);
    await eventually(
      async () => {
        const list = await pods('version=v1');
        return list.length === 5 && !list.some((p) => p.metadata.name === victim.metadata.name) && list.every((p) => p.status.phase === 'Running');
      },
      ROLLOUT_MS,
      'a replacement pod running',
    );
  });
});
