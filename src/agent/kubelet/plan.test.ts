import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../api/types.ts';
import { type Instance, specHash, viewsOf } from './model.ts';
import { planPod } from './plan.ts';

const pod = (spec: Record<string, unknown>): KubeObject => ({
  metadata: { name: 'p', namespace: 'default', uid: 'u1' },
  spec,
});
let n = 0;
const run = (name: string, over: Partial<Instance> = {}): Instance => ({
  id: `c${n++}`,
  podUid: 'u1',
  name,
  type: 'app',
  restartCount: 0,
  status: 'running',
  image: '',
  imageId: '',
  specHash: '',
  startedAt: '2026-01-01T00:00:00Z',
  ...over,
});
const plan = (
  p: KubeObject,
  runs: Instance[],
  extra: {
    now?: number;
    backoff?: Record<string, { delayMs: number; lastUpdate: number }>;
    unhealthy?: Map<string, 'liveness' | 'startup'>;
  } = {},
) =>
  planPod({
    pod: p,
    views: viewsOf(runs),
    now: extra.now ?? Date.parse('2026-01-01T00:01:00Z'),
    backoff: (name) => extra.backoff?.[name],
    unhealthy: extra.unhealthy ?? new Map(),
  });

describe('planPod: init containers', () => {
  const spec = { initContainers: [{ name: 'i1' }, { name: 'i2' }], containers: [{ name: 'app' }] };

  test('run in order, one at a time, before any app container', () => {
    assert.deepEqual(plan(pod(spec), []).start, [{ name: 'i1', type: 'init', restart: false }]);
    assert.deepEqual(plan(pod(spec), [run('i1', { type: 'init' })]).start, []);
    const i1done = run('i1', { type: 'init', status: 'stopped', exitCode: 0 });
    assert.deepEqual(plan(pod(spec), [i1done]).start, [{ name: 'i2', type: 'init', restart: false }]);
    const i2done = run('i2', { type: 'init', status: 'stopped', exitCode: 0 });
    assert.deepEqual(plan(pod(spec), [i1done, i2done]).start, [{ name: 'app', type: 'app', restart: false }]);
  });

  test('a failed init container is retried, unless restartPolicy is Never (pod Failed)', () => {
    const failed = run('i1', { type: 'init', status: 'stopped', exitCode: 1, finishedAt: '2026-01-01T00:00:30Z' });
    assert.deepEqual(plan(pod(spec), [failed]).start, [{ name: 'i1', type: 'init', restart: true }]);
    const never = plan(pod({ ...spec, restartPolicy: 'Never' }), [failed]);
    assert.equal(never.failed, true);
    assert.deepEqual(never.start, []);
  });

  test('a sidecar (restartPolicy Always) lets the next init container start once running', () => {
    const p = pod({
      initContainers: [{ name: 'side', restartPolicy: 'Always' }, { name: 'i2' }],
      containers: [{ name: 'app' }],
    });
    assert.deepEqual(plan(p, [run('side', { type: 'init' })]).start, [{ name: 'i2', type: 'init', restart: false }]);
  });
});

describe('planPod: restarts', () => {
  const finished = { status: 'stopped' as const, finishedAt: '2026-01-01T00:00:55Z' };

  test('restartPolicy decides whether a stopped container runs again', () => {
    const ok = run('app', { ...finished, exitCode: 0 });
    const bad = run('app', { ...finished, exitCode: 2 });
    assert.equal(plan(pod({ containers: [{ name: 'app' }] }), [ok]).start.length, 1);
    assert.equal(plan(pod({ containers: [{ name: 'app' }], restartPolicy: 'OnFailure' }), [ok]).start.length, 0);
    assert.equal(plan(pod({ containers: [{ name: 'app' }], restartPolicy: 'OnFailure' }), [bad]).start.length, 1);
    assert.equal(plan(pod({ containers: [{ name: 'app' }], restartPolicy: 'Never' }), [bad]).start.length, 0);
  });

  test('CrashLoopBackOff: a restart inside the back-off waits until finishedAt + delay', () => {
    const bad = run('app', { ...finished, exitCode: 1, restartCount: 2 });
    const out = plan(pod({ containers: [{ name: 'app' }] }), [bad], {
      backoff: { app: { delayMs: 20_000, lastUpdate: Date.parse('2026-01-01T00:00:40Z') } },
    });
    assert.deepEqual(out.start, []);
    assert.deepEqual(out.backoff, [
      { name: 'app', type: 'app', until: Date.parse('2026-01-01T00:01:15Z'), delayMs: 20_000 },
    ]);
    const later = plan(pod({ containers: [{ name: 'app' }] }), [bad], {
      now: Date.parse('2026-01-01T00:01:16Z'),
      backoff: { app: { delayMs: 20_000, lastUpdate: Date.parse('2026-01-01T00:00:40Z') } },
    });
    assert.deepEqual(later.start, [{ name: 'app', type: 'app', restart: true }]);
  });

  test('a failed liveness probe or a changed spec kills the running container', () => {
    const c = { name: 'app', image: 'a:1' };
    const live = run('app', { specHash: specHash(c) });
    assert.deepEqual(plan(pod({ containers: [c] }), [live], { unhealthy: new Map([[live.id, 'liveness']]) }).kill, [
      { id: live.id, name: 'app', reason: 'liveness' },
    ]);
    assert.deepEqual(plan(pod({ containers: [c] }), [live]).kill, []);
    assert.deepEqual(plan(pod({ containers: [{ ...c, image: 'a:2' }] }), [live]).kill, [
      { id: live.id, name: 'app', reason: 'spec-changed' },
    ]);
  });

  test('sidecars stop once every app container is done for good', () => {
    const p = pod({
      restartPolicy: 'Never',
      initContainers: [{ name: 'side', restartPolicy: 'Always' }],
      containers: [{ name: 'app' }],
    });
    const side = run('side', { type: 'init' });
    const out = plan(p, [side, run('app', { ...finished, exitCode: 0 })]);
    assert.deepEqual(out.kill, [{ id: side.id, name: 'side', reason: 'pod-done' }]);
  });
});
