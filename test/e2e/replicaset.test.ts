// The ReplicaSet controller driven by real kubectl: pods named <rs>-<5 chars>
// with the template's labels and a controller reference, scaling both ways,
// replacement of deleted pods, adoption of orphans, release of relabelled
// pods, overlapping selectors, readiness on simulated nodes, ReplicaFailure.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually, startServer, type TestServer } from './harness.ts';

/** Simulated nodes play the kubelet (the scheduler binds pods to them, they report them Running and Ready). */
const NODES = 2;
const NODE_NAMES = Array.from({ length: NODES }, (_, i) => `sim-node-${i}`);
const POD_NAME = /^[a-z0-9-]+-[bcdfghjklmnpqrstvwxz2456789]{5}$/;

// biome-ignore lint/suspicious/noExplicitAny: kubectl JSON output
type Json = Record<string, any>;

const replicaSet = (name: string, replicas: number, labels: Record<string, string>, extra: Json = {}) =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations: { 'example.com/from-template': name }, ...extra.templateMeta },
        spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
      },
      ...extra.spec,
    },
  });

describe('replicaset controller', () => {
  let s: TestServer;

  const getJson = async (args: string[]): Promise<Json> => JSON.parse(await s.k(['get', ...args, '-o', 'json']));
  /** Active pods (not terminating) matching a label selector. */
  const podsOf = async (selector: string): Promise<Json[]> =>
    (await getJson(['pods', '-l', selector])).items.filter((p: Json) => !p.metadata.deletionTimestamp);
  const ownedBy = async (rs: string): Promise<Json[]> => {
    const uid = (await getJson(['rs', rs])).metadata.uid;
    return (await getJson(['pods'])).items.filter(
      (p: Json) =>
        !p.metadata.deletionTimestamp && p.metadata.ownerReferences?.some((r: Json) => r.uid === uid && r.controller),
    );
  };
  const waitOwned = (rs: string, count: number) =>
    eventually(
      async () => {
        const pods = await ownedBy(rs);
        return pods.length === count ? pods : undefined;
      },
      10_000,
      `${count} pods owned by ${rs}`,
    );
  before(async () => {
    s = await startServer(['--simulated-nodes', String(NODES)]);
  });
  after(async () => {
    await s?.stop();
  });

  test('creates pods <rs>-<5 chars> with the template and a controller reference, and reports them', async () => {
    await s.k(['create', '-f', '-'], replicaSet('web', 3, { app: 'web' }));
    const rs = await getJson(['rs', 'web']);
    const pods = await waitOwned('web', 3);
    for (const pod of pods) {
      assert.match(pod.metadata.name, POD_NAME);
      assert.ok(pod.metadata.name.startsWith('web-'));
      assert.equal(pod.metadata.generateName, 'web-');
      assert.deepEqual(pod.metadata.labels, { app: 'web' });
      assert.equal(pod.metadata.annotations['example.com/from-template'], 'web');
      assert.equal(pod.spec.containers[0].image, 'nginx:1.27');
      assert.deepEqual(pod.metadata.ownerReferences, [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'web',
          uid: rs.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
    }
    await eventually(async () => (await getJson(['rs', 'web'])).status?.replicas === 3, 5000, 'status.replicas 3');
    const status = (await getJson(['rs', 'web'])).status;
    assert.equal(status.fullyLabeledReplicas, 3);
    assert.equal(status.observedGeneration, 1);
    const events = await s.k([
      'get',
      'events',
      '--field-selector',
      'involvedObject.name=web,reason=SuccessfulCreate',
      '-o',
      'json',
    ]);
    const messages = JSON.parse(events)
      .items.map((e: Json) => e.message)
      .sort();
    assert.deepEqual(messages, pods.map((p) => `Created pod: ${p.metadata.name}`).sort());
  });

  test('kubectl scale rs up and down; scale-down removes unscheduled pods before running ones', async () => {
    const running = (await waitOwned('web', 3)).map((p) => p.metadata.name);
    await eventually(
      async () => (await getJson(['rs', 'web'])).status?.readyReplicas === 3,
      10_000,
      'three ready replicas',
    );
    // With every node cordoned, the two new pods stay Pending and unscheduled.
    await s.k(['cordon', ...NODE_NAMES]);
    try {
      await s.k(['scale', 'rs', 'web', '--replicas=5']);
      const five = await waitOwned('web', 5);
      assert.equal(five.filter((p) => !p.spec.nodeName).length, 2);
      await s.k(['scale', 'rs', 'web', '--replicas=2']);
      const two = await waitOwned('web', 2);
      // The two unscheduled pods go first, then one of the running ones.
      assert.equal(two.length, 2);
      assert.ok(two.every((p) => running.includes(p.metadata.name) && p.spec.nodeName));
    } finally {
      await s.k(['uncordon', ...NODE_NAMES]);
    }
    await eventually(
      async () => {
        const st = (await getJson(['rs', 'web'])).status;
        return st.replicas === 2 && st.readyReplicas === 2 && st.availableReplicas === 2;
      },
      10_000,
      'status after scale-down',
    );
    const deleted = JSON.parse(
      await s.k(['get', 'events', '--field-selector', 'involvedObject.name=web,reason=SuccessfulDelete', '-o', 'json']),
    );
    assert.equal(deleted.items.length, 3);
    for (const e of deleted.items) assert.match(e.message, /^Deleted pod: web-[a-z0-9]{5}$/);
  });

  test('kubectl get rs shows DESIRED, CURRENT and READY', async () => {
    const out = await s.k(['get', 'rs', 'web']);
    const [header, row] = out.trim().split('\n');
    assert.match(header, /^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE/);
    assert.match(row, /^web\s+2\s+2\s+2\s+/);
  });

  test('a deleted pod is replaced', async () => {
    const [victim] = await ownedBy('web');
    await s.k(['delete', 'pod', victim.metadata.name, '--wait=false']);
    const pods = await eventually(
      async () => {
        const owned = await ownedBy('web');
        return owned.length === 2 && owned.every((p) => p.metadata.name !== victim.metadata.name) ? owned : undefined;
      },
      10_000,
      'a replacement pod',
    );
    assert.ok(pods.every((p) => POD_NAME.test(p.metadata.name)));
  });

  test('an orphan pod that matches is adopted instead of creating a new one', async () => {
    const orphan = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'stray-cat', namespace: 'default', labels: { app: 'cat' } },
      spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] },
    };
    await s.k(['create', '-f', '-'], JSON.stringify(orphan));
    await s.k(['create', '-f', '-'], replicaSet('cats', 1, { app: 'cat' }));
    const uid = (await getJson(['rs', 'cats'])).metadata.uid;
    await eventually(
      async () => (await getJson(['pod', 'stray-cat'])).metadata.ownerReferences?.[0]?.uid === uid,
      10_000,
      'adoption',
    );
    const ref = (await getJson(['pod', 'stray-cat'])).metadata.ownerReferences;
    assert.deepEqual(ref, [
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'cats', uid, controller: true, blockOwnerDeletion: true },
    ]);
    await eventually(async () => (await getJson(['rs', 'cats'])).status?.replicas === 1, 5000, 'cats status');
    assert.deepEqual(
      (await podsOf('app=cat')).map((p) => p.metadata.name),
      ['stray-cat'],
    );
  });

  test('relabelling a pod releases it and a replacement is created', async () => {
    await s.k(['scale', 'rs', 'cats', '--replicas=2']);
    await waitOwned('cats', 2);
    await s.k(['label', 'pod', 'stray-cat', 'app=dog', '--overwrite']);
    await eventually(
      async () => !(await getJson(['pod', 'stray-cat'])).metadata.ownerReferences?.length,
      10_000,
      'release',
    );
    const pods = await waitOwned('cats', 2);
    assert.ok(pods.every((p) => p.metadata.name !== 'stray-cat'));
    assert.equal(
      (await getJson(['pod', 'stray-cat'])).metadata.deletionTimestamp,
      undefined,
      'the released pod is left alone',
    );
  });

  test('overlapping selectors: each ReplicaSet keeps exactly its own pods', async () => {
    // As in the seed: nginx-deployment selects app=nginx, new-nginx-deployment app=nginx,version=v1.
    await s.k(['create', '-f', '-'], replicaSet('new-nginx', 2, { app: 'nginx', version: 'v1' }));
    await waitOwned('new-nginx', 2);
    await s.k(['create', '-f', '-'], replicaSet('nginx', 3, { app: 'nginx' }));
    await waitOwned('nginx', 3);
    await s.k(['scale', 'rs', 'nginx', '--replicas=1']);
    await s.k(['scale', 'rs', 'new-nginx', '--replicas=3']);
    const broad = await waitOwned('nginx', 1);
    const narrow = await waitOwned('new-nginx', 3);
    // Let any wrong adoption or deletion show up before checking that none happened.
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(
      (await ownedBy('nginx')).map((p) => p.metadata.name),
      broad.map((p) => p.metadata.name),
    );
    assert.deepEqual(
      (await ownedBy('new-nginx')).map((p) => p.metadata.name).sort(),
      narrow.map((p) => p.metadata.name).sort(),
    );
    assert.equal((await podsOf('app=nginx')).length, 4);
    assert.deepEqual(broad[0].metadata.labels, { app: 'nginx' });
    const status = async (name: string) => (await getJson(['rs', name])).status;
    await eventually(
      async () => (await status('nginx')).replicas === 1 && (await status('new-nginx')).replicas === 3,
      5000,
      'statuses',
    );
  });

  test('readyReplicas and availableReplicas follow the pods, with minReadySeconds', async () => {
    await s.k(['create', '-f', '-'], replicaSet('slow', 2, { app: 'slow' }, { spec: { minReadySeconds: 2 } }));
    await waitOwned('slow', 2);
    const ready = await eventually(
      async () => {
        const st = (await getJson(['rs', 'slow'])).status;
        return st.readyReplicas === 2 ? st : undefined;
      },
      10_000,
      'ready',
    );
    assert.ok((ready.availableReplicas ?? 0) < 2, 'not available before minReadySeconds');
    await eventually(
      async () => (await getJson(['rs', 'slow'])).status.availableReplicas === 2,
      10_000,
      'available after minReadySeconds',
    );
  });

  test('failed creates set ReplicaFailure with the API message; fixing the template clears it', async () => {
    // Template metadata is not validated like pod metadata, so this ReplicaSet is accepted but its pods are not.
    await s.k(
      ['create', '-f', '-'],
      replicaSet('broken', 2, { app: 'broken' }, { templateMeta: { finalizers: ['not a finalizer!'] } }),
    );
    const condition = await eventually(
      async () => {
        const st = (await getJson(['rs', 'broken'])).status;
        return st?.conditions?.find((c: Json) => c.type === 'ReplicaFailure');
      },
      10_000,
      'ReplicaFailure',
    );
    assert.equal(condition.status, 'True');
    assert.equal(condition.reason, 'FailedCreate');
    assert.match(condition.message, /^Pod "broken-[a-z0-9]{5}" is invalid: metadata\.finalizers/);
    const events = JSON.parse(
      await s.k(['get', 'events', '--field-selector', 'involvedObject.name=broken,reason=FailedCreate', '-o', 'json']),
    );
    assert.ok(events.items.length > 0);
    assert.equal(events.items[0].type, 'Warning');
    assert.match(events.items[0].message, /^Error creating: Pod "broken-[a-z0-9]{5}" is invalid/);
    await s.k([
      'patch',
      'rs',
      'broken',
      '--type=json',
      '-p',
      '[{"op":"remove","path":"/spec/template/metadata/finalizers"}]',
    ]);
    await waitOwned('broken', 2);
    await eventually(
      async () => {
        const st = (await getJson(['rs', 'broken'])).status;
        return st.replicas === 2 && !st.conditions?.some((c: Json) => c.type === 'ReplicaFailure');
      },
      10_000,
      'ReplicaFailure cleared',
    );
  });
});
