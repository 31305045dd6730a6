// kubectl create -f for every built-in kind skiff serves, then get with the
// table columns kubectl users know.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestServer, startServer } from './harness.ts';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;

const HEADERS: [string, RegExp][] = [
  ['pods', /^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/],
  ['services', /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$/],
  ['endpoints', /^NAME\s+ENDPOINTS\s+AGE$/],
  ['configmaps', /^NAME\s+DATA\s+AGE$/],
  ['secrets', /^NAME\s+TYPE\s+DATA\s+AGE$/],
  ['serviceaccounts', /^NAME\s+(SECRETS\s+)?AGE$/],
  ['events', /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$/],
  ['deployments', /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/],
  ['replicasets', /^NAME\s+DESIRED\s+CURRENT\s+READY\s+AGE$/],
  ['daemonsets', /^NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE$/],
  ['statefulsets', /^NAME\s+READY\s+AGE$/],
  ['controllerrevisions', /^NAME\s+CONTROLLER\s+REVISION\s+AGE$/],
  ['jobs', /^NAME\s+STATUS\s+COMPLETIONS\s+DURATION\s+AGE$/],
  ['cronjobs', /^NAME\s+SCHEDULE\s+TIMEZONE\s+SUSPEND\s+ACTIVE\s+LAST SCHEDULE\s+AGE$/],
  ['endpointslices', /^NAME\s+ADDRESSTYPE\s+PORTS\s+ENDPOINTS\s+AGE$/],
  ['ingresses', /^NAME\s+CLASS\s+HOSTS\s+ADDRESS\s+PORTS\s+AGE$/],
  ['networkpolicies', /^NAME\s+POD-SELECTOR\s+AGE$/],
  ['leases', /^NAME\s+HOLDER\s+AGE$/],
];

describe('every built-in kind', () => {
  let s: TestServer;
  before(async () => {
    // The fixture makes the `skiff` IngressClass itself; the server's ingress would create it first.
    s = await startServer(['--disable-ingress']);
  });
  after(async () => {
    await s?.stop();
  });

  test('create -f makes each object', async () => {
    const out = await s.k(['create', '-f', fixture('all-kinds.yaml')]);
    const created = out.trim().split('\n');
    assert.equal(created.length, 22, out);
    for (const line of created) assert.match(line, / created$/);
  });

  for (const [resource, header] of HEADERS) {
    test(`get ${resource} prints kubectl's columns`, async () => {
      const out = await s.k(['get', resource, '-n', 'shop']);
      const [first, second] = out.trim().split('\n');
      assert.match(first, header);
      assert.ok(second, `a row for ${resource}`);
    });
  }

  test('cluster-scoped kinds', async () => {
    const nodes = await s.k(['get', 'nodes']);
    assert.match(nodes, /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$/m);
    assert.match(nodes, /^node-a\s+/m);
    assert.match((await s.k(['get', 'ns', 'shop'])).trim(), /^NAME\s+STATUS\s+AGE\nshop\s+Active\s+\d+s$/);
    assert.match(await s.k(['get', 'ingressclasses']), /^skiff\s+skiff\.dev\/ingress/m);
  });

  test('a pod defaults like Kubernetes and selects by status.phase', async () => {
    const pod = JSON.parse(await s.k(['get', 'pod', 'web-0', '-n', 'shop', '-o', 'json']));
    assert.equal(pod.spec.restartPolicy, 'Always');
    assert.equal(pod.spec.dnsPolicy, 'ClusterFirst');
    assert.equal(pod.spec.terminationGracePeriodSeconds, 30);
    assert.equal(pod.spec.containers[0].imagePullPolicy, 'IfNotPresent');
    assert.equal(pod.spec.containers[0].ports[0].protocol, 'TCP');
    assert.equal(pod.status.phase, 'Pending');
    const pending = await s.k(['get', 'pods', '-n', 'shop', '--field-selector', 'status.phase=Pending', '-o', 'name']);
    assert.ok(pending.trim().split('\n').includes('pod/web-0'), pending);
    const running = await s.kubectl(['get', 'pods', '-n', 'shop', '--field-selector', 'status.phase=Running']);
    assert.match(running.stderr, /No resources found/);
  });

  test('secrets store stringData as base64 data', async () => {
    const secret = JSON.parse(await s.k(['get', 'secret', 'creds', '-n', 'shop', '-o', 'json']));
    assert.equal(Buffer.from(secret.data.password, 'base64').toString(), 'hunter2');
    assert.equal(secret.stringData, undefined);
  });

  test('objects in a namespace that does not exist are refused', async () => {
    const r = await s.kubectl(['create', 'configmap', 'x', '-n', 'nowhere']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /namespaces "nowhere" not found/);
  });

  test('deleting a namespace marks it Terminating until its finalizers are done', async () => {
    // A finalizer of our own holds the namespace in Terminating, so that state can be looked at.
    const held = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'temp' }, spec: { finalizers: ['kubernetes', 'example.com/hold'] } };
    await s.k(['create', '-f', '-'], JSON.stringify(held));
    await s.k(['delete', 'namespace', 'temp', '--wait=false']);
    const ns = JSON.parse(await s.k(['get', 'ns', 'temp', '-o', 'json']));
    assert.equal(ns.status.phase, 'Terminating');
    assert.ok(ns.metadata.deletionTimestamp);
    const refused = await s.kubectl(['create', 'configmap', 'late', '-n', 'temp']);
    assert.match(refused.stderr, /because it is being terminated/);
    const immortal = await s.kubectl(['delete', 'namespace', 'default']);
    assert.match(immortal.stderr, /this namespace may not be deleted/);
    // Unconditional (no resourceVersion): the namespace controller updates its conditions meanwhile.
    const finalize = { ...ns, metadata: { name: 'temp' }, spec: { finalizers: [] } };
    await s.k(['replace', '--raw', '/api/v1/namespaces/temp/finalize', '-f', '-'], JSON.stringify(finalize));
    const gone = await s.kubectl(['get', 'ns', 'temp']);
    assert.match(gone.stderr, /not found/, 'the namespace goes once its finalizers are cleared');
  });
});
