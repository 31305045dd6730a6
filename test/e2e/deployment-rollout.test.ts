// Rollouts driven by real kubectl on `skiff server --simulated-nodes 3`: a
// rolling update with maxUnavailable 0 never drops below the desired number
// of available pods, history and undo, pause/resume, restart.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { deploymentJson as deployment, getJson, rolledOut as rolledOutIn } from './deployment-helpers.ts';
import { type TestServer, eventually, startServer } from './harness.ts';

type Pod = { metadata: { deletionTimestamp?: string }; status: { conditions?: { type: string; status: string }[] } };

describe('deployment rollouts', () => {
  let s: TestServer;
  const get = (what: string[]) => getJson(s, what);
  const rolledOut = (name: string) => rolledOutIn(s, name);
  const images = async (selector: string) =>
    (await get(['rs', '-l', selector])).items
      .filter((rs: { spec: { replicas: number } }) => rs.spec.replicas > 0)
      .map((rs: { spec: { template: { spec: { containers: { image: string }[] } } } }) => rs.spec.template.spec.containers[0].image);

  before(async () => {
    s = await startServer(['--simulated-nodes', '3']);
  });
  after(async () => {
    await s?.stop();
  });

  test('maxUnavailable 0: ready pods and available replicas never drop below 3 during the rollout', async () => {
    const spec = { minReadySeconds: 1, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } };
    await s.k(['apply', '-f', '-'], deployment('steady', spec));
    await rolledOut('steady');
    await s.k(['set', 'image', 'deployment/steady', 'c=nginx:1.15']);
    let samples = 0;
    let minReady = Number.POSITIVE_INFINITY;
    let minAvailable = Number.POSITIVE_INFINITY;
    let maxPods = 0;
    for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
      const [d, pods] = await Promise.all([get(['deploy', 'steady']), get(['pods', '-l', 'app=steady'])]);
      const live: Pod[] = pods.items.filter((p: Pod) => !p.metadata.deletionTimestamp);
      const ready = live.filter((p) => p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
      minReady = Math.min(minReady, ready);
      maxPods = Math.max(maxPods, live.length);
      if (d.status.observedGeneration >= d.metadata.generation) minAvailable = Math.min(minAvailable, d.status.availableReplicas ?? 0);
      samples++;
      const done = d.status.updatedReplicas === 3 && d.status.replicas === 3 && d.status.availableReplicas === 3;
      if (done && d.status.observedGeneration >= d.metadata.generation && live.length === 3) break;
    }
    assert.ok(samples > 3, `sampled ${samples} times`);
    assert.ok(minReady >= 3, `ready pods dropped to ${minReady}`);
    assert.ok(minAvailable >= 3, `available replicas dropped to ${minAvailable}`);
    assert.ok(maxPods <= 4, `maxSurge 1 allows 4 pods, saw ${maxPods}`);
    await rolledOut('steady');
    assert.deepEqual(await images('app=steady'), ['nginx:1.15']);
  });

  test('history shows change-causes; undo goes back to the previous template, --to-revision to any', async () => {
    await s.k(['apply', '-f', '-'], deployment('hist'));
    await rolledOut('hist');
    // As the Kubernetes docs do it: change, then annotate; the controller copies the cause to the new ReplicaSet.
    await s.k(['set', 'image', 'deployment/hist', 'c=nginx:1.15']);
    await s.k(['annotate', 'deployment/hist', 'kubernetes.io/change-cause=move to 1.15']);
    await rolledOut('hist');
    await s.k(['set', 'image', 'deployment/hist', 'c=nginx:1.16']);
    await s.k(['annotate', 'deployment/hist', '--overwrite', 'kubernetes.io/change-cause=move to 1.16']);
    await rolledOut('hist');
    await eventually(async () => /^3\s+move to 1\.16$/m.test(await s.k(['rollout', 'history', 'deployment/hist'])), 5000, 'change-cause copied');
    const history = await s.k(['rollout', 'history', 'deployment/hist']);
    assert.match(history, /^1\s+<none>$/m);
    assert.match(history, /^2\s+move to 1\.15$/m);
    assert.match(history, /^3\s+move to 1\.16$/m);
    assert.match(await s.k(['rollout', 'history', 'deployment/hist', '--revision=2']), /Image:\s+nginx:1\.15/);

    assert.match(await s.k(['rollout', 'undo', 'deployment/hist']), /rolled back/);
    await rolledOut('hist');
    assert.deepEqual(await images('app=hist'), ['nginx:1.15']);
    // The revision-2 ReplicaSet is reused as revision 4 and remembers where it was.
    const back = (await get(['rs', '-l', 'app=hist'])).items.find((rs: { spec: { replicas: number } }) => rs.spec.replicas === 3);
    assert.equal(back.metadata.annotations['deployment.kubernetes.io/revision'], '4');
    assert.equal(back.metadata.annotations['deployment.kubernetes.io/revision-history'], '2');
    const d = await get(['deploy', 'hist']);
    assert.equal(d.metadata.annotations['deployment.kubernetes.io/revision'], '4');
    assert.match(await s.k(['rollout', 'history', 'deployment/hist']), /^4\s+move to 1\.15$/m);

    await s.k(['rollout', 'undo', 'deployment/hist', '--to-revision=1']);
    await rolledOut('hist');
    assert.deepEqual(await images('app=hist'), ['nginx:1.14.2']);
    const undo = await s.kubectl(['rollout', 'undo', 'deployment/hist', '--to-revision=42']);
    assert.notEqual(undo.code, 0);
    assert.match(undo.stderr, /unable to find specified revision 42/);
  });

  test('pause holds the rollout but still scales; resume finishes it', async () => {
    await s.k(['apply', '-f', '-'], deployment('held'));
    await rolledOut('held');
    await s.k(['rollout', 'pause', 'deployment/held']);
    await s.k(['set', 'image', 'deployment/held', 'c=nginx:1.15']);
    await s.k(['scale', 'deployment/held', '--replicas=5']);
    const progressing = async () => (await get(['deploy', 'held'])).status.conditions.find((c: { type: string }) => c.type === 'Progressing');
    await eventually(async () => (await progressing())?.reason === 'DeploymentPaused', 10_000, 'DeploymentPaused');
    await eventually(async () => (await get(['deploy', 'held'])).status.availableReplicas === 5, 10_000, '5 available while paused');
    const sets = (await get(['rs', '-l', 'app=held'])).items;
    assert.equal(sets.length, 1, 'no new ReplicaSet while paused');
    assert.equal(sets[0].spec.template.spec.containers[0].image, 'nginx:1.14.2');

    await s.k(['rollout', 'resume', 'deployment/held']);
    await rolledOut('held');
    assert.deepEqual(await images('app=held'), ['nginx:1.15']);
    assert.equal((await progressing())?.reason, 'NewReplicaSetAvailable');
    assert.equal((await get(['deploy', 'held'])).status.updatedReplicas, 5);
  });

  test('restart rolls every pod through a new ReplicaSet', async () => {
    await s.k(['apply', '-f', '-'], deployment('again', { replicas: 2 }));
    await rolledOut('again');
    const before = (await get(['pods', '-l', 'app=again'])).items.map((p: { metadata: { name: string } }) => p.metadata.name);
    await s.k(['rollout', 'restart', 'deployment/again']);
    await rolledOut('again');
    const sets = (await get(['rs', '-l', 'app=again'])).items;
    assert.equal(sets.length, 2);
    const current = sets.find((rs: { spec: { replicas: number } }) => rs.spec.replicas === 2);
    assert.ok(current.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']);
    const after = await eventually(async () => {
      const names = (await get(['pods', '-l', 'app=again'])).items.map((p: { metadata: { name: string } }) => p.metadata.name);
      return names.length === 2 ? names : undefined;
    }, 10_000, 'two pods');
    assert.ok(after.every((n: string) => !before.includes(n)));
  });
});
