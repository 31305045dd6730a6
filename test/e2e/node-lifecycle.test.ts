// Node lifecycle, taint eviction and service accounts, driven by real kubectl.
// The test plays two nodes itself (Node + kube-node-lease Lease, renewed from
// here): one keeps heartbeating, the other stops, turns NotReady with the
// unreachable taint, and its pods are evicted after their tolerationSeconds;
// the ReplicaSet's pod comes back on the healthy node. Events show up in
// `kubectl describe` and `kubectl get events` as in Kubernetes.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually, startServer, type TestServer } from './harness.ts';

/** Short, so the test is quick; heartbeats come several times per grace period even on a busy machine. */
const GRACE = '3s';
const HEARTBEAT_MS = 500;

const json = (obj: unknown) => JSON.stringify(obj);
const seconds = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const micro = () => new Date().toISOString().replace('Z', '000Z');
const readyCondition = () => ({
  type: 'Ready',
  status: 'True',
  reason: 'KubeletReady',
  message: 'kubelet is posting ready status',
  lastHeartbeatTime: seconds(),
  lastTransitionTime: seconds(),
});
const node = (name: string, spec: Record<string, unknown> = {}) =>
  json({
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name, labels: { 'kubernetes.io/hostname': name } },
    spec,
    status: { conditions: [readyCondition()], capacity: { cpu: '4', memory: '8Gi', pods: '110' } },
  });
const lease = (name: string) =>
  json({
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name, namespace: 'kube-node-lease' },
    spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime: micro() },
  });
const unreachableFor = (tolerationSeconds?: number) => ({
  key: 'node.kubernetes.io/unreachable',
  operator: 'Exists',
  effect: 'NoExecute',
  ...(tolerationSeconds === undefined ? {} : { tolerationSeconds }),
});
const pod = (name: string, nodeName: string, tolerations: unknown[]) =>
  json({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default' },
    spec: { nodeName, tolerations, containers: [{ name: 'c', image: 'nginx:1.27' }] },
  });
const replicaSet = (name: string) =>
  json({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name, namespace: 'default' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { tolerations: [unreachableFor(2)], containers: [{ name: 'c', image: 'nginx:1.27' }] },
      },
    },
  });

describe('node lifecycle', () => {
  let s: TestServer;
  const beating = new Set<string>();
  let beats: NodeJS.Timeout | undefined;
  const get = (args: string[]) => s.k(['get', ...args]);
  /** Evicted: marked for deletion, or already gone (this API server removes a pod without finalizers at once). */
  const evicted = async (pod: string) => {
    const out = await s.kubectl(['get', 'pod', pod, '-o', 'jsonpath={.metadata.deletionTimestamp}']);
    return out.code !== 0 ? /NotFound/.test(out.stderr) : out.stdout !== '';
  };

  before(async () => {
    s = await startServer(['--node-monitor-grace-period', GRACE]);
    // Lease renewals, as a kubelet sends them.
    const renew = async () => {
      await Promise.all(
        [...beating].map((name) =>
          s.kubectl(['patch', 'lease', '-n', 'kube-node-lease', name, '--type=merge', '-p', json({ spec: { renewTime: micro() } })]),
        ),
      );
      if (beats) beats = setTimeout(renew, HEARTBEAT_MS);
    };
    beats = setTimeout(renew, HEARTBEAT_MS);
  });
  after(async () => {
    clearTimeout(beats);
    beats = undefined;
    await s?.stop();
  });

  test('a silent node turns NotReady and tainted, its pods are evicted and replaced; heartbeats bring it back', async (t) => {
    // fake-b starts cordoned, so the ReplicaSet's pod lands on fake-a.
    await s.k(['create', '-f', '-'], [node('fake-a'), lease('fake-a'), node('fake-b', { unschedulable: true }), lease('fake-b')].join('\n'));
    beating.add('fake-a');
    beating.add('fake-b');
    await eventually(async () => (await get(['node', 'fake-b', '-o', 'jsonpath={.spec.taints[*].key}'])).includes('unschedulable'), 10_000, 'cordon taint');
    await s.k(['create', '-f', '-'], [pod('tolerant', 'fake-a', [unreachableFor(2)]), pod('forever', 'fake-a', [unreachableFor()]), replicaSet('web')].join('\n'));
    const webPod = await eventually(async () => {
      const out = await get(['pods', '-l', 'app=web', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName}{"\\n"}{end}']);
      const [name, nodeName] = out.trim().split(' ');
      return nodeName === 'fake-a' ? name : undefined;
    }, 10_000, 'the ReplicaSet pod scheduled to fake-a');
    // Playing fake-a's kubelet: "forever" runs and is Ready.
    const running = { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: seconds() }] } };
    await s.k(['patch', 'pod', 'forever', '--subresource=status', '--type=merge', '-p', json(running)]);
    await s.k(['uncordon', 'fake-b']);
    await eventually(async () => (await get(['node', 'fake-b', '-o', 'jsonpath={.spec.taints}'])) === '', 10_000, 'uncordoned');

    // fake-a stops heartbeating.
    beating.delete('fake-a');
    const stopped = Date.now();
    await eventually(async () => (await get(['node', 'fake-a', '--no-headers'])).includes('NotReady'), 10_000, 'fake-a NotReady');
    t.diagnostic(`NotReady after ${Date.now() - stopped} ms of silence (grace ${GRACE})`);
    const ready = JSON.parse(await get(['node', 'fake-a', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")]}']));
    assert.equal(ready.status, 'Unknown');
    assert.equal(ready.reason, 'NodeStatusUnknown');
    assert.equal(ready.message, 'Kubelet stopped posting node status.');
    const taints = await eventually(async () => {
      const out = await get(['node', 'fake-a', '-o', 'jsonpath={range .spec.taints[*]}{.key}:{.effect}{"\\n"}{end}']);
      return out.includes('unreachable:NoExecute') ? out : undefined;
    }, 5000, 'the unreachable NoExecute taint');
    const tainted = Date.now();
    assert.match(taints, /node\.kubernetes\.io\/unreachable:NoSchedule/);
    assert.doesNotMatch(await get(['node', 'fake-b', '--no-headers']), /NotReady/, 'the heartbeating node stays Ready');

    // tolerationSeconds: 2 → marked for deletion about 2 s after the taint; the forever-tolerating pod stays.
    await eventually(() => evicted('tolerant'), 6000, 'eviction');
    const evictedAfter = Date.now() - tainted;
    t.diagnostic(`evicted ${evictedAfter} ms after the taint was seen`);
    assert.ok(evictedAfter >= 1000, `evicted too soon: ${evictedAfter} ms`);
    assert.equal(await get(['pod', 'forever', '-o', 'jsonpath={.metadata.deletionTimestamp}']), '');
    assert.equal(await get(['pod', 'forever', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']), 'False', 'pods on the node are not Ready');

    // The ReplicaSet's pod is evicted too, and its replacement goes to the healthy node.
    await eventually(async () => {
      const out = await get(['pods', '-l', 'app=web', '-o', 'jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName}{"\\n"}{end}']);
      return out.split('\n').some((line) => line.trim() !== '' && !line.startsWith(webPod) && line.endsWith(' fake-b'));
    }, 10_000, 'a replacement pod on fake-b');

    assert.ok(await evicted(webPod));

    // Events, readable as kubectl shows them, from each controller.
    const describePod = await s.k(['describe', 'pod', 'forever']);
    assert.match(describePod, /Warning\s+NodeNotReady\s+\S+\s+node-controller\s+Node is not ready/);
    const describeRs = await s.k(['describe', 'rs', 'web']);
    assert.match(describeRs, /Normal\s+SuccessfulCreate\s+\S+\s+replicaset-controller\s+Created pod: web-/);
    const describeNode = await s.k(['describe', 'node', 'fake-a']);
    assert.match(describeNode, /Normal\s+NodeNotReady\s+\S+\s+node-controller\s+Node fake-a status is now: NodeNotReady/);
    assert.match(describeNode, /node\.kubernetes\.io\/unreachable:NoExecute/);
    const events = await s.k(['get', 'events', '--field-selector', 'reason=TaintManagerEviction']);
    assert.match(events, /^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE/);
    assert.match(events, /Normal\s+TaintManagerEviction\s+pod\/tolerant\s+Marking for deletion Pod default\/tolerant/);

    // Heartbeats resume (lease and status, as a kubelet does): Ready, untainted.
    beating.add('fake-a');
    await s.k(['patch', 'node', 'fake-a', '--subresource=status', '--type=merge', '-p', json({ status: { conditions: [readyCondition()] } })]);
    await eventually(async () => (await get(['node', 'fake-a', '-o', 'jsonpath={.spec.taints}'])) === '', 5000, 'taints removed');
    assert.doesNotMatch(await get(['node', 'fake-a', '--no-headers']), /NotReady/);
  });
});

describe('service accounts', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(async () => {
    await s?.stop();
  });

  test('every namespace gets a default ServiceAccount, recreated when deleted', async () => {
    await s.k(['create', 'ns', 'team-x']);
    await eventually(async () => (await s.k(['get', 'sa', '-n', 'team-x'])).match(/^default\s+0\s+/m), 5000, 'default SA');
    const uid = await s.k(['get', 'sa', 'default', '-n', 'team-x', '-o', 'jsonpath={.metadata.uid}']);
    await s.k(['delete', 'sa', 'default', '-n', 'team-x']);
    await eventually(async () => {
      const now = await s.kubectl(['get', 'sa', 'default', '-n', 'team-x', '-o', 'jsonpath={.metadata.uid}']);
      return now.code === 0 && now.stdout !== '' && now.stdout !== uid;
    }, 5000, 'default SA recreated');
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
      assert.match(await s.k(['get', 'sa', 'default', '-n', ns, '-o', 'name']), /serviceaccount\/default/);
    }
  });
});
