import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../api/types.ts';
import { type Instance, viewsOf } from './model.ts';
import { containerStatus, podStatus, truncateBytes } from './status.ts';

const pod = (spec: Record<string, unknown>, status: Record<string, unknown> = {}): KubeObject => ({
  metadata: { name: 'p', namespace: 'default', uid: 'u1' },
  spec,
  status,
});
const run = (name: string, over: Partial<Instance> = {}): Instance => ({
  id: `id-${name}-${over.restartCount ?? 0}`,
  podUid: 'u1',
  name,
  type: 'app',
  restartCount: 0,
  status: 'running',
  image: 'docker.io/library/nginx:1.14.2',
  imageId: 'sha256:abc',
  specHash: '',
  startedAt: '2026-01-01T00:00:00Z',
  ...over,
});
const NOW = '2026-01-01T00:01:00Z';
const status = (p: KubeObject, runs: Instance[], extras: Record<string, object> = {}) =>
  podStatus({
    pod: p,
    views: viewsOf(runs),
    extras: (n) => extras[n] ?? {},
    sandboxReady: true,
    podIp: '10.244.0.5',
    hostIp: '10.0.0.1',
    now: NOW,
  });

describe('container status from runtime state', () => {
  test('running, ready, ids and image', () => {
    const s = containerStatus(
      { name: 'web' },
      viewsOf([run('web')]).get('web'),
      { ready: true, started: true },
      'ContainerCreating',
    );
    assert.deepEqual(s.state, { running: { startedAt: '2026-01-01T00:00:00Z' } });
    assert.equal(s.containerID, 'runc://id-web-0');
    assert.equal(s.ready, true);
    assert.equal(s.started, true);
    assert.equal(s.image, 'docker.io/library/nginx:1.14.2');
  });

  test('terminated reasons: Completed, Error, OOMKilled, with the termination message', () => {
    const done = (over: Partial<Instance>) =>
      containerStatus(
        { name: 'c' },
        viewsOf([run('c', { status: 'stopped', finishedAt: NOW, ...over })]).get('c'),
        { messages: new Map([['id-c-0', 'bye']]) },
        'x',
      ).state as {
        terminated: { reason: string; exitCode: number; message?: string };
      };
    assert.equal(done({ exitCode: 0 }).terminated.reason, 'Completed');
    assert.equal(done({ exitCode: 1 }).terminated.reason, 'Error');
    assert.equal(done({ exitCode: 137, oomKilled: true }).terminated.reason, 'OOMKilled');
    assert.equal(done({ exitCode: 1 }).terminated.message, 'bye');
  });

  test('CrashLoopBackOff: waiting with the last run as lastState and its restart count', () => {
    const dead = run('c', { status: 'stopped', exitCode: 2, restartCount: 3, finishedAt: NOW });
    const s = containerStatus(
      { name: 'c' },
      viewsOf([dead]).get('c'),
      { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } },
      'x',
    );
    assert.deepEqual(s.state, { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } });
    assert.equal((s.lastState as { terminated: { exitCode: number } }).terminated.exitCode, 2);
    assert.equal(s.restartCount, 3);
    assert.equal(s.ready, false);
  });

  test('a restarted container shows the previous run as lastState', () => {
    const s = containerStatus(
      { name: 'c' },
      viewsOf([run('c', { status: 'stopped', exitCode: 1, finishedAt: NOW }), run('c', { restartCount: 1 })]).get('c'),
      {},
      'x',
    );
    assert.ok('running' in s.state);
    assert.equal(s.restartCount, 1);
    assert.equal((s.lastState as { terminated: { exitCode: number } }).terminated.exitCode, 1);
  });
});

describe('pod phase and conditions', () => {
  test('Pending with ContainerCreating before anything ran; PodInitializing with init containers', () => {
    const s = status(pod({ containers: [{ name: 'a' }] }), []);
    assert.equal(s.phase, 'Pending');
    assert.deepEqual(s.containerStatuses[0].state, { waiting: { reason: 'ContainerCreating' } });
    const withInit = status(pod({ initContainers: [{ name: 'i' }], containers: [{ name: 'a' }] }), [
      run('i', { type: 'init' }),
    ]);
    assert.equal(withInit.phase, 'Pending');
    assert.deepEqual(withInit.containerStatuses[0].state, { waiting: { reason: 'PodInitializing' } });
    const init = withInit.conditions.find((c) => c.type === 'Initialized')!;
    assert.equal(init.status, 'False');
    assert.equal(init.message, 'containers with incomplete status: [i]');
  });

  test('Running and Ready when every container is ready; readiness gates Ready', () => {
    const s = status(pod({ containers: [{ name: 'a' }, { name: 'b' }] }), [run('a'), run('b')], {
      a: { ready: true },
      b: { ready: false },
    });
    assert.equal(s.phase, 'Running');
    const ready = s.conditions.find((c) => c.type === 'Ready')!;
    assert.equal(ready.status, 'False');
    assert.equal(ready.reason, 'ContainersNotReady');
    assert.equal(ready.message, 'containers with unready status: [b]');
    const all = status(pod({ containers: [{ name: 'a' }] }), [run('a')], { a: { ready: true } });
    assert.equal(all.conditions.find((c) => c.type === 'Ready')!.status, 'True');
  });

  test('Succeeded / Failed / Running by restartPolicy when all containers stopped', () => {
    const stopped = (code: number) => run('a', { status: 'stopped', exitCode: code, finishedAt: NOW });
    assert.equal(status(pod({ containers: [{ name: 'a' }], restartPolicy: 'Never' }), [stopped(0)]).phase, 'Succeeded');
    assert.equal(status(pod({ containers: [{ name: 'a' }], restartPolicy: 'Never' }), [stopped(1)]).phase, 'Failed');
    assert.equal(
      status(pod({ containers: [{ name: 'a' }], restartPolicy: 'OnFailure' }), [stopped(1)]).phase,
      'Running',
    );
    assert.equal(status(pod({ containers: [{ name: 'a' }] }), [stopped(0)]).phase, 'Running');
    const done = status(pod({ containers: [{ name: 'a' }], restartPolicy: 'Never' }), [stopped(0)]);
    assert.equal(done.conditions.find((c) => c.type === 'Ready')!.reason, 'PodCompleted');
  });

  test('a crash-looping container leaves the pod Running (restartPolicy Always)', () => {
    const s = status(
      pod({ containers: [{ name: 'a' }] }),
      [run('a', { status: 'stopped', exitCode: 1, finishedAt: NOW })],
      { a: { waiting: { reason: 'CrashLoopBackOff' } } },
    );
    assert.equal(s.phase, 'Running');
  });

  test('conditions keep their transition time while unchanged; PodScheduled is kept', () => {
    const before = pod(
      { containers: [{ name: 'a' }] },
      {
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: 'T0' },
          { type: 'Ready', status: 'True', lastTransitionTime: 'T1' },
        ],
      },
    );
    const s = status(before, [run('a')], { a: { ready: true } });
    assert.equal(s.conditions.find((c) => c.type === 'Ready')!.lastTransitionTime, 'T1');
    assert.equal(s.conditions.find((c) => c.type === 'Initialized')!.lastTransitionTime, NOW);
    assert.ok(s.conditions.find((c) => c.type === 'PodScheduled'));
    assert.equal(s.podIP, '10.244.0.5');
    assert.deepEqual(s.hostIPs, [{ ip: '10.0.0.1' }]);
  });
});

describe('termination messages in the pod status', () => {
  test("a pod's messages share 12 KiB: each container keeps the first 12 KiB / n bytes", () => {
    const names = ['a', 'b', 'c', 'd'];
    const p = pod({ containers: names.map((name) => ({ name })) });
    const runs = names.map((n) =>
      run(n, { status: 'stopped', exitCode: 0, finishedAt: '2026-01-01T00:00:30Z', id: `id-${n}` }),
    );
    const messages = new Map(names.map((n) => [`id-${n}`, `${n.repeat(96)}${'y'.repeat(4000)}`]));
    const s = status(p, runs, Object.fromEntries(names.map((n) => [n, { messages }])));
    for (const cs of s.containerStatuses) {
      const message = (cs.state as { terminated: { message: string } }).terminated.message;
      assert.equal(message.length, 3072);
      assert.ok(message.startsWith(cs.name.repeat(96) + 'y'));
    }
    const one = status(pod({ containers: [{ name: 'a' }] }), [runs[0]], { a: { messages } });
    assert.equal(
      (one.containerStatuses[0].state as { terminated: { message: string } }).terminated.message.length,
      4096,
    );
  });

  test('truncateBytes cuts bytes, not characters', () => {
    assert.equal(truncateBytes('héllo', 2), 'h\ufffd');
    assert.equal(truncateBytes('short', 10), 'short');
  });
});
