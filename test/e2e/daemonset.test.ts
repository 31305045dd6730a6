// DaemonSets driven by real kubectl against `skiff server --simulated-nodes 3`:
// one pod per node, nodeSelector (labelling a node gives it a pod), taints
// without a toleration keep pods off, rolling updates with `kubectl rollout
// status`, and nodes that come and go.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually, startServer, type TestServer } from './harness.ts';

const json = (obj: unknown) => JSON.stringify(obj);
const NODES = ['sim-node-0', 'sim-node-1', 'sim-node-2'];

const daemonSet = (name: string, podSpec: Record<string, unknown> = {}) =>
  json({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name, namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'agent:1' }], ...podSpec },
      },
    },
  });

describe('daemonset', () => {
  let s: TestServer;
  const getJson = async (args: string[]) => JSON.parse(await s.k(['get', ...args, '-o', 'json']));
  type Pod = { metadata: { name: string; labels: Record<string, string>; deletionTimestamp?: string }; spec: { nodeName?: string; containers: { image: string }[] } };
  const pods = async (app: string): Promise<Pod[]> => (await getJson(['pods', '-l', `app=${app}`])).items;
  /** Node → image of the live pod(s) there, once every pod is bound. */
  const placement = async (app: string) => {
    const list = (await pods(app)).filter((p) => !p.metadata.deletionTimestamp);
    if (list.some((p) => !p.spec.nodeName)) return undefined;
    return list.map((p) => `${p.spec.nodeName}=${p.spec.containers[0].image}`).sort().join(',');
  };

  before(async () => {
    s = await startServer(['--simulated-nodes', '3']);
  });
  after(async () => {
    await s?.stop();
  });

  test('one pod on each of 3 nodes, pinned by node affinity, with daemon tolerations; rollout status and columns', async () => {
    await s.k(['create', '-f', '-'], daemonSet('agent'));
    await eventually(async () => (await placement('agent')) === NODES.map((n) => `${n}=agent:1`).join(','), 15_000, 'a pod per node');
    const status = await s.k(['rollout', 'status', 'ds/agent', '--timeout=20s']);
    assert.match(status, /daemon set "agent" successfully rolled out/);
    const [pod] = await pods('agent');
    const full = await getJson(['pod', pod.metadata.name]);
    assert.deepEqual(full.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms, [
      { matchFields: [{ key: 'metadata.name', operator: 'In', values: [full.spec.nodeName] }] },
    ]);
    const tolerated = full.spec.tolerations.map((t: { key: string; effect: string }) => `${t.key}:${t.effect}`);
    assert.ok(tolerated.includes('node.kubernetes.io/unschedulable:NoSchedule'));
    assert.ok(tolerated.includes('node.kubernetes.io/not-ready:NoExecute'));
    assert.match(full.metadata.name, /^agent-[a-z0-9]{5}$/);
    assert.ok(full.metadata.labels['controller-revision-hash']);
    const table = await s.k(['get', 'ds', 'agent']);
    assert.match(table, /^NAME\s+DESIRED\s+CURRENT\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+NODE SELECTOR\s+AGE/);
    assert.match(table, /\nagent\s+3\s+3\s+3\s+3\s+3\s+<none>\s+/);
    const events = await s.k(['get', 'events', '--field-selector', 'involvedObject.name=agent,reason=SuccessfulCreate', '-o', 'jsonpath={.items[*].message}']);
    assert.match(events, /Created pod: agent-/);
  });

  test('rolling update replaces every pod with the new template; history has both revisions', async () => {
    const before = (await getJson(['ds', 'agent'])).status;
    assert.equal(before.updatedNumberScheduled, 3);
    await s.k(['set', 'image', 'ds/agent', 'c=agent:2']);
    const status = await s.k(['rollout', 'status', 'ds/agent', '--timeout=25s']);
    assert.match(status, /successfully rolled out/);
    assert.equal(await placement('agent'), NODES.map((n) => `${n}=agent:2`).join(','));
    const after = (await getJson(['ds', 'agent'])).status;
    assert.deepEqual(
      [after.desiredNumberScheduled, after.currentNumberScheduled, after.updatedNumberScheduled, after.numberAvailable, after.numberMisscheduled],
      [3, 3, 3, 3, 0],
    );
    assert.equal(after.observedGeneration, 2);
    assert.match(await s.k(['rollout', 'history', 'ds/agent']), /REVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>/);
  });

  test('nodeSelector: no node matches, then labelling a node gives it a pod, unlabelling takes it away', async () => {
    await s.k(['create', '-f', '-'], daemonSet('edge', { nodeSelector: { role: 'edge' } }));
    await eventually(async () => (await getJson(['ds', 'edge'])).status?.observedGeneration === 1, 10_000, 'edge observed');
    assert.equal((await pods('edge')).length, 0);
    await s.k(['label', 'node', 'sim-node-1', 'role=edge']);
    await eventually(async () => (await placement('edge')) === 'sim-node-1=agent:1', 10_000, 'pod on sim-node-1');
    await s.k(['rollout', 'status', 'ds/edge', '--timeout=20s']);
    assert.match(await s.k(['get', 'ds', 'edge']), /\nedge\s+1\s+1\s+1\s+1\s+1\s+role=edge\s+/);
    await s.k(['label', 'node', 'sim-node-1', 'role-']);
    await eventually(async () => (await pods('edge')).length === 0, 10_000, 'pod removed from unlabelled node');
  });

  test('a node tainted NoSchedule gets no pod without a toleration; with one it does', async () => {
    await s.k(['taint', 'node', 'sim-node-2', 'dedicated=db:NoSchedule']);
    try {
      await s.k(['create', '-f', '-'], daemonSet('plain'));
      await s.k(['create', '-f', '-'], daemonSet('tolerant', { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'db', effect: 'NoSchedule' }] }));
      await eventually(async () => (await placement('plain')) === 'sim-node-0=agent:1,sim-node-1=agent:1', 10_000, 'plain on two nodes');
      await eventually(async () => (await placement('tolerant'))?.split(',').length === 3, 10_000, 'tolerant on three nodes');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await placement('plain'), 'sim-node-0=agent:1,sim-node-1=agent:1');
      const status = (await getJson(['ds', 'plain'])).status;
      assert.equal(status.desiredNumberScheduled, 2);
      // The first DaemonSet's pod tolerates nothing but stays: NoSchedule does not evict.
      assert.ok((await placement('agent'))?.includes('sim-node-2='));
    } finally {
      await s.k(['taint', 'node', 'sim-node-2', 'dedicated=db:NoSchedule-']);
    }
    await eventually(async () => (await placement('plain'))?.split(',').length === 3, 10_000, 'plain on sim-node-2 once untainted');
  });

  test('a node added later gets a pod; a node removed loses it', async () => {
    const node = json({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'late-node', labels: { 'kubernetes.io/hostname': 'late-node' } } });
    await s.k(['create', '-f', '-'], node);
    await eventually(async () => (await pods('agent')).some((p) => p.metadata.labels && JSON.stringify(p).includes('"late-node"')), 10_000, 'pod for late-node');
    await s.k(['delete', 'node', 'late-node']);
    await eventually(async () => !(await pods('agent')).some((p) => JSON.stringify(p).includes('"late-node"')), 10_000, 'pod for late-node gone');
    assert.equal((await pods('agent')).length, 3);
  });
});
