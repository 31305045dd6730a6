// StatefulSets driven by real kubectl against `skiff server --simulated-nodes 3`:
// ordinal names and identity, OrderedReady creation (N+1 only after N is
// Ready) and scale-down from the top, rolling update with a partition,
// `kubectl rollout status|history|undo`, and the READY column.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually, startServer, type TestServer } from './harness.ts';

const json = (obj: unknown) => JSON.stringify(obj);
/** A node name no simulated node has: its pods stay Pending until the test plays the kubelet. */
const MANUAL_NODE = 'manual-node';

const statefulSet = (name: string, spec: Record<string, unknown> = {}, podSpec: Record<string, unknown> = {}) =>
  json({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas: 3,
      serviceName: name,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'nginx:1' }], ...podSpec },
      },
      ...spec,
    },
  });
const headlessService = (name: string) =>
  json({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { clusterIP: 'None', selector: { app: name }, ports: [{ port: 80 }] } });

describe('statefulset', () => {
  let s: TestServer;
  const getJson = async (args: string[]) => JSON.parse(await s.k(['get', ...args, '-o', 'json']));
  const podNames = async (app: string) =>
    (await s.k(['get', 'pods', '-l', `app=${app}`, '-o', 'jsonpath={range .items[*]}{.metadata.name}{"\\n"}{end}'])).split('\n').filter(Boolean).sort();
  const exists = async (pod: string) => (await s.kubectl(['get', 'pod', pod, '-o', 'name'])).code === 0;
  const markReady = (pod: string) =>
    s.k(['patch', 'pod', pod, '--subresource=status', '--type=merge', '-p', json({ status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } })]);
  const terminating = async (pod: string) => Boolean((await getJson(['pod', pod])).metadata.deletionTimestamp);

  before(async () => {
    s = await startServer(['--simulated-nodes', '3']);
  });
  after(async () => {
    await s?.stop();
  });

  test('OrderedReady: pod N+1 is created only after pod N is Running and Ready; identity fields are set', async () => {
    await s.k(['create', '-f', '-'], headlessService('db'));
    await s.k(['create', '-f', '-'], statefulSet('db', {}, { nodeName: MANUAL_NODE }));
    await eventually(() => exists('db-0'), 10_000, 'db-0');
    const pod0 = await getJson(['pod', 'db-0']);
    const sts = await eventually(async () => {
      const got = await getJson(['sts', 'db']);
      return got.status?.updateRevision ? got : undefined;
    });
    assert.equal(pod0.spec.hostname, 'db-0');
    assert.equal(pod0.spec.subdomain, 'db');
    assert.equal(pod0.metadata.labels['statefulset.kubernetes.io/pod-name'], 'db-0');
    assert.equal(pod0.metadata.labels['apps.kubernetes.io/pod-index'], '0');
    assert.equal(pod0.metadata.labels['controller-revision-hash'], sts.status.updateRevision);
    assert.match(sts.status.updateRevision, /^db-[bcdfghjklmnpqrstvwxz2456789]+$/);
    assert.deepEqual(pod0.metadata.ownerReferences.map((r: { kind: string; controller: boolean }) => [r.kind, r.controller]), [['StatefulSet', true]]);

    for (const [ready, next] of [
      ['db-0', 'db-1'],
      ['db-1', 'db-2'],
    ]) {
      await new Promise((r) => setTimeout(r, 400)); // time enough for a wrong controller to run ahead
      assert.equal(await exists(next), false, `${next} exists before ${ready} is Ready`);
      await markReady(ready);
      await eventually(() => exists(next), 10_000, next);
    }
    await markReady('db-2');
    await eventually(async () => (await getJson(['sts', 'db'])).status.readyReplicas === 3, 10_000, 'readyReplicas 3');
    const table = await s.k(['get', 'sts', 'db']);
    assert.match(table, /^NAME\s+READY\s+AGE/);
    assert.match(table, /\ndb\s+3\/3\s+/);
    const events = await s.k(['get', 'events', '--field-selector', 'involvedObject.name=db', '-o', 'jsonpath={range .items[*]}{.reason}: {.message}{"\\n"}{end}']);
    assert.match(events, /SuccessfulCreate: create Pod db-0 in StatefulSet db successful/);
    assert.match(events, /SuccessfulCreate: create Pod db-2 in StatefulSet db successful/);
  });

  test('OrderedReady scale down removes the highest ordinal first, one at a time', async () => {
    // Finalizers hold each deleted pod in Terminating until the test lets it go (as a slow kubelet would).
    const hold = (pod: string, finalizers: string[] | null) =>
      s.k(['patch', 'pod', pod, '--type=merge', '-p', json({ metadata: { finalizers } })]);
    await hold('db-2', ['example.com/hold']);
    await hold('db-1', ['example.com/hold']);
    await s.k(['scale', 'sts', 'db', '--replicas=1']);
    await eventually(() => terminating('db-2'), 10_000, 'db-2 terminating');
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(await terminating('db-1'), false, 'db-1 must wait for db-2 to be gone');
    await hold('db-2', null);
    await eventually(() => terminating('db-1'), 10_000, 'db-1 terminating');
    assert.equal(await exists('db-2'), false);
    await hold('db-1', null);
    await eventually(async () => (await podNames('db')).join() === 'db-0', 10_000, 'only db-0 left');
    const events = await s.k(['get', 'events', '--field-selector', 'involvedObject.name=db,reason=SuccessfulDelete', '-o', 'jsonpath={.items[*].message}']);
    assert.match(events, /delete Pod db-2 in StatefulSet db successful/);
    assert.match(events, /delete Pod db-1 in StatefulSet db successful/);
    await eventually(async () => (await getJson(['sts', 'db'])).status.replicas === 1, 10_000, 'status.replicas 1');
  });

  test('rolling update honours the partition and goes from the highest ordinal down; rollout status, history, undo', async () => {
    await s.k(['create', '-f', '-'], statefulSet('web', { podManagementPolicy: 'Parallel' }));
    const status = await s.k(['rollout', 'status', 'sts/web', '--timeout=20s']);
    assert.match(status, /partitioned roll out complete: 3 new pods have been updated/);
    assert.match(await s.k(['get', 'sts', 'web']), /\nweb\s+3\/3\s+/);
    const images = async () => {
      const list = await getJson(['pods', '-l', 'app=web']);
      return Object.fromEntries(list.items.map((p: { metadata: { name: string }; spec: { containers: { image: string }[] } }) => [p.metadata.name, p.spec.containers[0].image]));
    };
    const rev1 = (await getJson(['sts', 'web'])).status.updateRevision;

    await s.k(['patch', 'sts', 'web', '--type=merge', '-p', json({ spec: { updateStrategy: { rollingUpdate: { partition: 2 } } } })]);
    await s.k(['set', 'image', 'sts/web', 'c=nginx:2']);
    await eventually(async () => json(await images()) === json({ 'web-0': 'nginx:1', 'web-1': 'nginx:1', 'web-2': 'nginx:2' }), 15_000, 'web-2 updated');
    assert.match(await s.k(['rollout', 'status', 'sts/web', '--timeout=20s']), /partitioned roll out complete: 1 new pods have been updated/);
    const mid = (await getJson(['sts', 'web'])).status;
    assert.equal(mid.currentRevision, rev1, 'the partitioned pods keep the current revision');
    assert.notEqual(mid.updateRevision, rev1);
    assert.equal(mid.updatedReplicas, 1);
    assert.equal(mid.currentReplicas, 2);

    await s.k(['patch', 'sts', 'web', '--type=merge', '-p', json({ spec: { updateStrategy: { rollingUpdate: { partition: 1 } } } })]);
    await eventually(async () => json(await images()) === json({ 'web-0': 'nginx:1', 'web-1': 'nginx:2', 'web-2': 'nginx:2' }), 15_000, 'web-1 updated');
    await s.k(['patch', 'sts', 'web', '--type=merge', '-p', json({ spec: { updateStrategy: { rollingUpdate: { partition: 0 } } } })]);
    await s.k(['rollout', 'status', 'sts/web', '--timeout=20s']);
    await eventually(async () => (await getJson(['sts', 'web'])).status.currentRevision === mid.updateRevision, 10_000, 'update revision current');
    assert.deepEqual(await images(), { 'web-0': 'nginx:2', 'web-1': 'nginx:2', 'web-2': 'nginx:2' });

    const history = await s.k(['rollout', 'history', 'sts/web']);
    assert.match(history, /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
    await s.k(['rollout', 'undo', 'sts/web']);
    await s.k(['rollout', 'status', 'sts/web', '--timeout=20s']);
    await eventually(async () => Object.values(await images()).every((i) => i === 'nginx:1'), 15_000, 'undo back to nginx:1');
    const revisions = await getJson(['controllerrevisions', '-l', 'app=web']);
    const byName = Object.fromEntries(revisions.items.map((r: { metadata: { name: string }; revision: number }) => [r.metadata.name, r.revision]));
    assert.equal(byName[rev1], 3, 'undo reuses the first revision with the next number');
  });
});
