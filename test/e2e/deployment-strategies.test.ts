// Deployment edge cases with real kubectl on `skiff server --simulated-nodes 3`:
// a rollout stuck on pods that can never run keeps the old pods serving and
// reports ProgressDeadlineExceeded; Recreate never runs old and new pods
// together; a pod-template-hash name collision bumps status.collisionCount.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { deploymentJson as deployment, getJson, rolledOut as rolledOutIn } from './deployment-helpers.ts';
import { type TestServer, eventually, startServer } from './harness.ts';

type Pod = { metadata: { name: string; labels: Record<string, string>; deletionTimestamp?: string }; status: { conditions?: { type: string; status: string }[] } };
const isReady = (p: Pod) => Boolean(p.status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));

describe('deployment strategies and failures', () => {
  let s: TestServer;
  const get = (what: string[]) => getJson(s, what);
  const rolledOut = (name: string) => rolledOutIn(s, name);
  const condition = async (name: string, type: string) =>
    (await get(['deploy', name])).status.conditions?.find((c: { type: string }) => c.type === type);

  before(async () => {
    s = await startServer(['--simulated-nodes', '3']);
  });
  after(async () => {
    await s?.stop();
  });

  test('a rollout to pods that cannot be scheduled keeps the old pods and reports ProgressDeadlineExceeded', async () => {
    await s.k(['apply', '-f', '-'], deployment('stuck', { progressDeadlineSeconds: 3 }));
    await rolledOut('stuck');
    const first: Pod[] = (await get(['pods', '-l', 'app=stuck'])).items;
    const oldPods = first.map((p) => p.metadata.name).sort();
    const oldRS = `stuck-${first[0].metadata.labels['pod-template-hash']}`;
    const started = Date.now();
    await s.k(['patch', 'deployment', 'stuck', '-p', '{"spec":{"template":{"spec":{"nodeSelector":{"disk":"none-has-this"}}}}}']);
    const status = await s.kubectl(['rollout', 'status', 'deployment/stuck', '--timeout=20s']);
    const ms = Date.now() - started;
    assert.equal(status.code, 1);
    assert.match(status.stderr, /deployment "stuck" exceeded its progress deadline/);
    assert.ok(ms < 8000, `reported after ${ms} ms for a 3 s deadline`);
    const progressing = await condition('stuck', 'Progressing');
    assert.deepEqual([progressing.status, progressing.reason], ['False', 'ProgressDeadlineExceeded']);
    assert.match(progressing.message, /^ReplicaSet "stuck-[a-z0-9]+" has timed out progressing\.$/);
    assert.equal((await condition('stuck', 'Available')).status, 'True');
    // The old pods keep serving: the same three, all ready; the new one waits unscheduled.
    const pods: Pod[] = (await get(['pods', '-l', 'app=stuck'])).items;
    const serving = pods.filter((p) => isReady(p) && !p.metadata.deletionTimestamp).map((p) => p.metadata.name).sort();
    assert.deepEqual(serving, oldPods);
    assert.equal(pods.length, 4, 'three old pods and one surge pod (25% of 3 rounds up to 1)');
    const d = await get(['deploy', 'stuck']);
    assert.deepEqual([d.status.availableReplicas, d.status.updatedReplicas, d.status.unavailableReplicas], [3, 1, 1]);
    assert.match(await s.k(['get', 'deploy', 'stuck', '--no-headers']), /^stuck\s+3\/3\s+1\s+3\s/);

    // Scaling mid-rollout spreads the change in proportion: 6 replicas + 2 surge = 8 pods, old:new stays 3:1.
    // Paused, so the rollout step cannot then trade an old pod that is not yet available for a new one
    // (Kubernetes does that too, so an unpaused check would race the simulated nodes).
    await s.k(['rollout', 'pause', 'deployment/stuck']);
    await s.k(['scale', 'deployment/stuck', '--replicas=6']);
    let lastSeen = '';
    const sizes = await eventually(async () => {
      const sets = (await get(['rs', '-l', 'app=stuck'])).items as { metadata: { name: string; annotations: Record<string, string> }; spec: { replicas: number } }[];
      lastSeen = JSON.stringify(sets.map((r) => [r.metadata.name, r.spec.replicas, r.metadata.annotations]));
      const old = sets.find((r) => r.metadata.name === oldRS);
      const fresh = sets.find((r) => r.metadata.name !== oldRS);
      return old?.spec.replicas === 6 && fresh?.spec.replicas === 2 ? [old, fresh] : undefined;
    }, 20_000, 'old 6 and new 2').catch((err) => {
      throw new Error(`${err.message}; last seen ${lastSeen}`);
    });
    for (const rs of sizes) {
      assert.equal(rs.metadata.annotations['deployment.kubernetes.io/desired-replicas'], '6');
      assert.equal(rs.metadata.annotations['deployment.kubernetes.io/max-replicas'], '8');
    }

    // Fixing the template and resuming lets the rollout finish.
    await s.k(['patch', 'deployment', 'stuck', '--type=json', '-p', '[{"op":"remove","path":"/spec/template/spec/nodeSelector"}]']);
    await s.k(['rollout', 'resume', 'deployment/stuck']);
    await rolledOut('stuck');
    assert.equal((await condition('stuck', 'Progressing')).reason, 'NewReplicaSetAvailable');
  });

  test('Recreate removes every old pod before the first new one is created', async () => {
    await s.k(['apply', '-f', '-'], deployment('recreate', { strategy: { type: 'Recreate' } }));
    await rolledOut('recreate');
    const oldHash = (await get(['pods', '-l', 'app=recreate'])).items[0].metadata.labels['pod-template-hash'];
    await s.k(['set', 'image', 'deployment/recreate', 'c=nginx:1.15']);
    let mixed = 0;
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; ) {
      const pods: Pod[] = (await get(['pods', '-l', 'app=recreate'])).items;
      const hashes = new Set(pods.map((p) => p.metadata.labels['pod-template-hash']));
      if (hashes.size > 1) mixed++;
      if (pods.length === 3 && !hashes.has(oldHash) && pods.every(isReady)) break;
    }
    assert.equal(mixed, 0, 'old and new pods were seen together');
    await rolledOut('recreate');
    const events = await s.k(['get', 'events', '--field-selector', 'involvedObject.name=recreate', '-o', 'jsonpath={range .items[*]}{.message}{"\\n"}{end}']);
    assert.match(events, new RegExp(`Scaled down replica set recreate-${oldHash} from 3 to 0`));
    assert.match(events, /Scaled up replica set recreate-[a-z0-9]+ from 0 to 3/);
  });

  test('a ReplicaSet of another template under the hashed name bumps collisionCount and uses another name', async () => {
    await s.k(['apply', '-f', '-'], deployment('clash', { replicas: 1 }));
    await rolledOut('clash');
    const [rs] = (await get(['rs', '-l', 'app=clash'])).items;
    // Keep the ReplicaSet, give it another template, and create the Deployment again: it adopts the
    // ReplicaSet, whose template no longer matches, so the name it wants is taken.
    await s.k(['delete', 'deployment', 'clash', '--cascade=orphan']);
    await s.k(['patch', 'rs', rs.metadata.name, '--type=json', '-p', '[{"op":"replace","path":"/spec/template/spec/containers/0/image","value":"nginx:other"}]']);
    await s.k(['apply', '-f', '-'], deployment('clash', { replicas: 1 }));
    await rolledOut('clash');
    const d = await get(['deploy', 'clash']);
    assert.equal(d.status.collisionCount, 1);
    const sets = (await get(['rs', '-l', 'app=clash'])).items;
    const current = sets.find((r: { spec: { replicas: number } }) => r.spec.replicas === 1);
    assert.notEqual(current.metadata.name, rs.metadata.name);
    assert.equal(current.spec.template.spec.containers[0].image, 'nginx:1.14.2');
    assert.equal(current.metadata.ownerReferences[0].uid, d.metadata.uid);
    const adopted = sets.find((r: { metadata: { name: string } }) => r.metadata.name === rs.metadata.name);
    assert.equal(adopted.metadata.ownerReferences[0].uid, d.metadata.uid, 'the orphan was adopted');
  });
});
