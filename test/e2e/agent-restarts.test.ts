// The node agent's restart machinery with real runc: CrashLoopBackOff with
// growing delays, liveness-probe restarts, and a server restart that
// re-adopts running containers instead of restarting them.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { canRunContainers } from '../../src/agent/runtime/testing.ts';
import { buildTestImages } from '../images/build.ts';
import { httpGet } from './agent-helpers.ts';
import { eventually, startServer, type TestServer } from './harness.ts';

const skip = canRunContainers() ?? false;

type ContainerStatus = {
  restartCount: number;
  containerID?: string;
  state: Record<string, { reason?: string; message?: string }>;
  lastState: Record<string, { exitCode?: number; finishedAt?: string }>;
};

describe('node agent: restarts', { skip }, () => {
  let s: TestServer;
  const pod = async (name: string) => JSON.parse(await s.k(['get', 'pod', name, '-o', 'json']));
  const status = async (name: string): Promise<ContainerStatus | undefined> =>
    (await pod(name)).status?.containerStatuses?.[0];
  const events = (name: string) =>
    s.k([
      'get',
      'events',
      '--field-selector',
      `involvedObject.name=${name}`,
      '-o',
      'custom-columns=R:.reason,M:.message',
      '--no-headers',
    ]);

  before(async () => {
    const images = await buildTestImages();
    s = await startServer([], { agent: true, images: [images.nginx1142, images.busybox] });
  });
  after(() => s?.stop());

  test('a crashing container backs off: CrashLoopBackOff, restartCount grows, 10 s between the later restarts', async () => {
    const manifest = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'crash' },
      spec: {
        containers: [{ name: 'app', image: 'busybox:latest', command: ['sh', '-c', 'echo boom; exit 3'] }],
        terminationGracePeriodSeconds: 1,
      },
    };
    await s.k(['apply', '-f', '-'], JSON.stringify(manifest));
    // The first crash is restarted at once; the second waits 10 s.
    const looping = await eventually(
      async () => {
        const c = await status('crash');
        return c?.state.waiting?.reason === 'CrashLoopBackOff' && c.restartCount >= 1 ? c : undefined;
      },
      20_000,
      'CrashLoopBackOff',
    );
    assert.match(
      looping.state.waiting.message ?? '',
      /^back-off 10s restarting failed container=app pod=crash_default\(/,
    );
    assert.equal(looping.lastState.terminated?.exitCode, 3);
    const p = await pod('crash');
    assert.equal(p.status.phase, 'Running');
    const seenAt = Date.now();
    const next = await eventually(
      async () => {
        const c = await status('crash');
        return c && c.restartCount > looping.restartCount ? c : undefined;
      },
      20_000,
      'the next restart',
    );
    assert.ok(next.restartCount === looping.restartCount + 1);
    const finished = Date.parse(looping.lastState.terminated?.finishedAt ?? '');
    assert.ok(Date.now() - finished >= 9_000, 'the restart waited out the 10 s back-off');
    assert.ok(Date.now() - seenAt < 15_000);
    assert.match(await events('crash'), /BackOff\s+Back-off restarting failed container app in pod crash_default/);
    await s.k(['delete', 'pod', 'crash', '--wait=false']);
  });

  test('a failing liveness probe restarts the container', async () => {
    const manifest = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'sick' },
      spec: {
        containers: [
          {
            name: 'web',
            image: 'nginx:1.14.2',
            livenessProbe: { httpGet: { path: '/missing', port: 80 }, periodSeconds: 1, failureThreshold: 2 },
          },
        ],
        terminationGracePeriodSeconds: 1,
      },
    };
    await s.k(['apply', '-f', '-'], JSON.stringify(manifest));
    await eventually(async () => ((await status('sick'))?.restartCount ?? 0) >= 1, 20_000, 'a liveness restart');
    const text = await events('sick');
    assert.match(text, /Unhealthy\s+Liveness probe failed: HTTP probe failed with statuscode: 404/);
    assert.match(text, /Killing\s+Container web failed liveness probe, will be restarted/);
    await s.k(['delete', 'pod', 'sick', '--wait=false']);
  });

  test('restarting the server re-adopts running containers: same containerID, restartCount unchanged, still serving', async () => {
    await s.k(['run', 'keep', '--image=nginx:1.14.2']);
    const before = await eventually(
      async () => {
        const p = await pod('keep');
        return p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.ready ? p : undefined;
      },
      30_000,
      'keep Running',
    );
    const id = before.status.containerStatuses[0].containerID;
    await s.restart();
    // Give the agent a few syncs and relists after the restart.
    await new Promise((r) => setTimeout(r, 3000));
    const after = await eventually(
      async () => {
        const p = await pod('keep');
        return p.status.containerStatuses?.[0]?.ready ? p : undefined;
      },
      20_000,
      'keep ready again',
    );
    assert.equal(after.status.containerStatuses[0].containerID, id);
    assert.equal(after.status.containerStatuses[0].restartCount, 0);
    assert.equal(after.status.podIP, before.status.podIP);
    assert.equal(after.status.phase, 'Running');
    assert.match(
      (await eventually(() => httpGet(`http://${after.status.podIP}/`), 10_000, 'HTTP')) ?? '',
      /nginx 1\.14\.2 from keep/,
    );
  });
});
