// The node agent with real runc: pods run, serve HTTP on their pod IP, see
// their env, ConfigMap and Secret volumes, run init containers first, are
// gated on readiness, and leave nothing behind when deleted.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { canRunContainers } from '../../src/agent/runtime/testing.ts';
import { buildTestImages } from '../images/build.ts';
import { httpGet } from './agent-helpers.ts';
import { eventually, run, startServer, type TestServer } from './harness.ts';

const skip = canRunContainers() ?? false;
/** Pods start within a second or two here; allow for a loaded 2-core machine. */
const RUNNING_MS = 30_000;

describe('node agent: pods', { skip }, () => {
  let s: TestServer;
  const json = async (args: string[]) => JSON.parse(await s.k([...args, '-o', 'json']));
  const podJson = (name: string) => json(['get', 'pod', name]);
  const waitRunning = (name: string) =>
    eventually(
      async () => {
        const p = await podJson(name);
        return p.status?.phase === 'Running' && p.status.podIP ? p : undefined;
      },
      RUNNING_MS,
      `${name} Running`,
    );

  before(async () => {
    const images = await buildTestImages();
    s = await startServer([], { agent: true, images: [images.nginx1142, images.busybox] });
  });
  after(() => s?.stop());

  test('the node is registered, Ready, with capacity and a podCIDR', async () => {
    const nodes = await json(['get', 'nodes']);
    assert.equal(nodes.items.length, 1);
    const node = nodes.items[0];
    assert.equal(node.metadata.labels['node-role.kubernetes.io/control-plane'], '');
    assert.match(node.spec.podCIDR, /^10\.244\.\d+\.0\/24$/);
    assert.match(node.status.nodeInfo.containerRuntimeVersion, /^runc:\/\//);
    assert.equal(node.status.capacity.pods, '110');
    await eventually(
      async () =>
        (await json(['get', 'nodes'])).items[0].status.conditions.find((c: { type: string }) => c.type === 'Ready')
          ?.status === 'True',
      15_000,
      'node Ready',
    );
    const lease = await json(['get', 'lease', '-n', 'kube-node-lease', node.metadata.name]);
    assert.equal(lease.spec.holderIdentity, node.metadata.name);
  });

  test('a pod runs and serves HTTP on its pod IP; deleting it removes its containers and netns', async () => {
    await s.k(['run', 'web', '--image=nginx:1.14.2']);
    const pod = await waitRunning('web');
    const cs = pod.status.containerStatuses[0];
    assert.match(cs.containerID, /^runc:\/\/[0-9a-f]{64}$/);
    assert.equal(cs.ready, true);
    assert.equal(cs.restartCount, 0);
    assert.ok(cs.state.running.startedAt);
    assert.match(pod.status.podIP, /^10\.244\./);
    assert.deepEqual(pod.status.podIPs, [{ ip: pod.status.podIP }]);
    assert.equal(pod.status.qosClass, 'BestEffort');
    const page = await eventually(() => httpGet(`http://${pod.status.podIP}/`), 10_000, 'HTTP answer');
    assert.match(page, /nginx 1\.14\.2 from web/);
    const events = await s.k([
      'get',
      'events',
      '--field-selector',
      'involvedObject.name=web',
      '-o',
      'custom-columns=R:.reason',
      '--no-headers',
    ]);
    for (const reason of ['Pulled', 'Created', 'Started']) assert.match(events, new RegExp(reason));

    const id = cs.containerID.replace('runc://', '');
    const uid = pod.metadata.uid;
    await s.k(['delete', 'pod', 'web', '--wait=true', '--timeout=30s']);
    const list = await run('runc', ['--root', join(s.dataDir, 'agent', 'runc'), 'list', '-q']);
    assert.doesNotMatch(list.stdout, new RegExp(id));
    assert.equal(existsSync(join(s.dataDir, 'agent', 'netns', uid)), false);
    assert.equal(existsSync(join(s.dataDir, 'agent', 'containers', id)), false);
  });

  test('init containers run first, in order; env, ConfigMap and Secret volumes are visible inside', async () => {
    await s.k(['create', 'configmap', 'cfg', '--from-literal=color=blue']);
    await s.k(['create', 'secret', 'generic', 'sec', '--from-literal=password=hunter2']);
    const manifest = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'inits' },
      spec: {
        initContainers: [
          {
            name: 'first',
            image: 'busybox:latest',
            command: ['sh', '-c', 'echo -n 1 > /shared/order'],
            volumeMounts: [{ name: 'shared', mountPath: '/shared' }],
          },
          {
            name: 'second',
            image: 'busybox:latest',
            command: ['sh', '-c', 'echo -n 2 >> /shared/order'],
            volumeMounts: [{ name: 'shared', mountPath: '/shared' }],
          },
        ],
        containers: [
          {
            name: 'web',
            image: 'nginx:1.14.2',
            command: ['sh', '-c', 'echo "$GREETING $COLOR" > /www/env.txt; exec httpd -f -p 80 -h /www'],
            env: [
              { name: 'GREETING', value: 'hello' },
              { name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'color' } } },
            ],
            volumeMounts: [
              { name: 'shared', mountPath: '/www/shared' },
              { name: 'cfg', mountPath: '/www/cfg' },
              { name: 'sec', mountPath: '/www/sec' },
            ],
          },
        ],
        volumes: [
          { name: 'shared', emptyDir: {} },
          { name: 'cfg', configMap: { name: 'cfg' } },
          { name: 'sec', secret: { secretName: 'sec' } },
        ],
      },
    };
    await s.k(['apply', '-f', '-'], JSON.stringify(manifest));
    const pod = await waitRunning('inits');
    for (const init of pod.status.initContainerStatuses) {
      assert.equal(init.state.terminated.reason, 'Completed');
      assert.equal(init.state.terminated.exitCode, 0);
    }
    const [first, second] = pod.status.initContainerStatuses.map(
      (c: { state: { terminated: { finishedAt: string } } }) => Date.parse(c.state.terminated.finishedAt),
    );
    assert.ok(first <= second);
    assert.equal(pod.status.conditions.find((c: { type: string }) => c.type === 'Initialized').status, 'True');
    const ip = pod.status.podIP;
    assert.equal(await eventually(() => httpGet(`http://${ip}/shared/order`), 10_000, 'order'), '12');
    assert.equal((await httpGet(`http://${ip}/env.txt`))?.trim(), 'hello blue');
    assert.equal(await httpGet(`http://${ip}/cfg/color`), 'blue');
    assert.equal(await httpGet(`http://${ip}/sec/password`), 'hunter2');
  });

  test('readiness gates Ready: the pod runs unready until its probe succeeds', async () => {
    const manifest = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'slow' },
      spec: {
        containers: [
          {
            name: 'app',
            image: 'busybox:latest',
            command: ['sh', '-c', 'sleep 3; touch /tmp/ready; exec sleep 3600'],
            readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, periodSeconds: 1 },
          },
        ],
        terminationGracePeriodSeconds: 1,
      },
    };
    await s.k(['apply', '-f', '-'], JSON.stringify(manifest));
    const running = await waitRunning('slow');
    const ready = (p: { status: { conditions: { type: string; status: string }[] } }) =>
      p.status.conditions.find((c) => c.type === 'Ready')?.status;
    assert.equal(ready(running), 'False');
    assert.equal(running.status.containerStatuses[0].ready, false);
    await eventually(async () => ready(await podJson('slow')) === 'True', 15_000, 'Ready');
    await s.k(['delete', 'pod', 'slow', '--wait=true']);
  });
});
