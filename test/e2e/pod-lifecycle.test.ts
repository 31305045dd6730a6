// Container lifecycle with real runc, as kubectl users see it: postStart and
// preStop hooks (exec and httpGet), graceful termination (SIGTERM, the grace
// period, SIGKILL), termination messages, exit codes and reasons.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { canRunContainers } from '../../src/agent/runtime/testing.ts';
import { buildTestImages } from '../images/build.ts';
import { eventually, startServer, type TestServer } from './harness.ts';

const skip = canRunContainers() ?? false;
/** Pods start within a second or two here; allow for a loaded 2-core machine. */
const WAIT_MS = 30_000;
/** The postStart hook of "hooks" sleeps this long before it writes its file. */
const POST_START_SLEEP_S = 2;
/** Grace period of the pod that ignores SIGTERM. */
const SHORT_GRACE_S = 2;

// biome-ignore lint/suspicious/noExplicitAny: pod JSON as kubectl prints it
type Json = any;

const busybox = (name: string, script: string, extra: Json = {}, spec: Json = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: {
    containers: [{ name: 'main', image: 'busybox:latest', command: ['sh', '-c', script], ...extra }],
    ...spec,
  },
});
const never = { restartPolicy: 'Never' };
/** sh as PID 1 that exits on SIGTERM at once (`wait` is interrupted by the trapped signal). */
const exitOnTerm = (onTerm = 'exit 0') => `trap '${onTerm}' TERM; sleep 1000 & wait`;

describe('node agent: container lifecycle', { skip }, () => {
  let s: TestServer;
  let dir: string;
  const podJson = async (name: string): Promise<Json> => JSON.parse(await s.k(['get', 'pod', name, '-o', 'json']));
  const apply = (objects: Json[]) =>
    s.k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  const waitFor = (name: string, what: string, ok: (p: Json) => boolean) =>
    eventually(
      async () => {
        const p = await podJson(name);
        return ok(p) ? p : undefined;
      },
      WAIT_MS,
      `${name} ${what}`,
    );
  const main = (p: Json) => p.status?.containerStatuses?.[0];
  const terminated = (name: string) => waitFor(name, 'terminated', (p) => main(p)?.state?.terminated !== undefined);
  const running = (name: string) =>
    waitFor(name, 'Running', (p) => p.status?.phase === 'Running' && main(p)?.ready === true);
  const events = async (name: string) => {
    const list = JSON.parse(
      await s.k(['get', 'events', '--field-selector', `involvedObject.name=${name}`, '-o', 'json']),
    );
    return list.items as { type: string; reason: string; message: string }[];
  };
  const timedDelete = async (name: string) => {
    const t0 = Date.now();
    await s.k(['delete', 'pod', name, '--wait=true', '--timeout=60s']);
    return Date.now() - t0;
  };

  before(async () => {
    const images = await buildTestImages();
    s = await startServer([], { agent: true, images: [images.nginx1142, images.busybox] });
    dir = mkdtempSync(join(tmpdir(), 'skiff-lifecycle-'));
    mkdirSync(join(dir, 'hooks'));
    const shared = (extra: Json) => ({ ...extra, volumeMounts: [{ name: 'shared', mountPath: '/shared' }] });
    const hostVolume = { volumes: [{ name: 'shared', hostPath: { path: join(dir, 'hooks'), type: 'Directory' } }] };
    // Everything that does not need another pod's IP starts at once.
    await apply([
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'witness' },
        // httpd -vv logs each request's path: the witness of the httpGet hooks.
        spec: {
          containers: [{ name: 'web', image: 'nginx:1.14.2', args: ['httpd', '-f', '-vv', '-p', '80', '-h', '/www'] }],
        },
      },
      busybox(
        'hooks',
        `trap 'echo term >> /shared/order; exit 0' TERM; until [ -f /shared/poststart ]; do sleep 0.1; done; echo main saw poststart; sleep 1000 & wait`,
        shared({
          lifecycle: {
            postStart: {
              exec: { command: ['sh', '-c', `sleep ${POST_START_SLEEP_S}; echo done > /shared/poststart`] },
            },
            preStop: { exec: { command: ['sh', '-c', 'echo prestop >> /shared/order'] } },
          },
        }),
        hostVolume,
      ),
      busybox(
        'hook-fail',
        exitOnTerm('exit 143'),
        { lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo boom; exit 3'] } } } },
        { ...never, terminationGracePeriodSeconds: 5 },
      ),
      busybox(
        'poststart-hang',
        exitOnTerm(),
        { lifecycle: { postStart: { exec: { command: ['sleep', '600'] } } } },
        { terminationGracePeriodSeconds: 30 },
      ),
      busybox('grace-ignore', `trap '' TERM; sleep 1000`, {}, { terminationGracePeriodSeconds: SHORT_GRACE_S }),
      busybox('grace-exit', exitOnTerm(), {}, { terminationGracePeriodSeconds: 30 }),
      busybox(
        'prestop-fail',
        exitOnTerm(),
        { lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo nope; exit 7'] } } } },
        { terminationGracePeriodSeconds: 30 },
      ),
      busybox(
        'prestop-slow',
        `trap '' TERM; sleep 1000`,
        { lifecycle: { preStop: { exec: { command: ['sleep', '20'] } } } },
        { terminationGracePeriodSeconds: SHORT_GRACE_S },
      ),
      busybox('msg-file', `printf 'bye from file' > /dev/termination-log`, {}, never),
      busybox('msg-path', `printf 'custom path' > /tmp/why; exit 4`, { terminationMessagePath: '/tmp/why' }, never),
      busybox(
        'msg-fallback',
        'echo line1; echo line2 >&2; exit 2',
        { terminationMessagePolicy: 'FallbackToLogsOnError' },
        never,
      ),
      busybox('msg-fallback-ok', 'echo fine', { terminationMessagePolicy: 'FallbackToLogsOnError' }, never),
      busybox(
        'msg-file-wins',
        `echo from-log; printf 'from file' > /dev/termination-log; exit 1`,
        { terminationMessagePolicy: 'FallbackToLogsOnError' },
        never,
      ),
      busybox(
        'msg-big',
        `head -c 5000 /dev/zero | tr '\\0' a > /dev/termination-log; printf END >> /dev/termination-log`,
        {},
        never,
      ),
      {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'msg-many' },
        spec: {
          ...never,
          // 1000 x then 4000 y: kubelet keeps the file's last 4096 bytes, then the first 12 KiB / 4 of those.
          containers: ['a', 'b', 'c', 'd'].map((name) => ({
            name,
            image: 'busybox:latest',
            command: [
              'sh',
              '-c',
              `(head -c 1000 /dev/zero | tr '\\0' x; head -c 4000 /dev/zero | tr '\\0' y) > /dev/termination-log`,
            ],
          })),
        },
      },
      busybox('msg-restart', `printf attempt > /dev/termination-log; exit 1`, {}, { restartPolicy: 'OnFailure' }),
      busybox(
        'oom',
        'exec dd if=/dev/zero of=/dev/null bs=64M count=1',
        { resources: { limits: { memory: '20Mi' } } },
        never,
      ),
    ]);
  });
  after(async () => {
    await s?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('postStart runs before the container counts as Running; preStop runs before SIGTERM', async () => {
    const pod = await running('hooks');
    // The hook wrote its file only after sleeping: Running (and so Ready) was not reported before it finished.
    assert.ok(existsSync(join(dir, 'hooks', 'poststart')), 'postStart wrote its file before Running was reported');
    const startedAt = Date.parse(main(pod).state.running.startedAt);
    const readySince = Date.parse(pod.status.conditions.find((c: Json) => c.type === 'Ready').lastTransitionTime);
    assert.ok(
      readySince - startedAt >= (POST_START_SLEEP_S - 1) * 1000,
      `Ready ${readySince - startedAt} ms after start`,
    );
    assert.equal((await s.k(['exec', 'hooks', '--', 'cat', '/shared/poststart'])).trim(), 'done');
    assert.match(
      await eventually(async () => (await s.k(['logs', 'hooks'])) || undefined, 5000, 'logs'),
      /main saw poststart/,
    );

    const ms = await timedDelete('hooks');
    assert.equal(readFileSync(join(dir, 'hooks', 'order'), 'utf8'), 'prestop\nterm\n');
    const killing = (await events('hooks')).filter((e) => e.reason === 'Killing').map((e) => e.message);
    assert.deepEqual(killing, ['Stopping container main']);
    assert.ok(ms < 10_000, `deletion took ${ms} ms`);
  });

  test('a failing postStart hook kills the container and is reported as FailedPostStartHook', async () => {
    const pod = await waitFor('hook-fail', 'Failed', (p) => p.status?.phase === 'Failed');
    const t = main(pod).state.terminated;
    assert.equal(t.exitCode, 143);
    assert.equal(t.reason, 'Error');
    const evs = await eventually(
      async () => {
        const list = await events('hook-fail');
        return list.some((e) => e.reason === 'FailedPostStartHook') && list.some((e) => e.reason === 'Killing')
          ? list
          : undefined;
      },
      10_000,
      'hook events',
    );
    const failed = evs.find((e) => e.reason === 'FailedPostStartHook')!;
    assert.equal(failed.type, 'Warning');
    // Kubernetes keeps the hook's output out of events (it may hold secrets).
    assert.equal(failed.message, 'PostStartHook failed');
    assert.equal(evs.find((e) => e.reason === 'Killing')!.message, 'FailedPostStartHook');
  });

  test('while postStart runs the pod stays Pending; deleting it cancels the hook', async () => {
    await eventually(
      async () => (await events('poststart-hang')).some((e) => e.reason === 'Started'),
      WAIT_MS,
      'poststart-hang Started',
    );
    await new Promise((r) => setTimeout(r, 1500)); // a few relists: still not Running
    const pod = await podJson('poststart-hang');
    assert.equal(pod.status.phase, 'Pending');
    assert.deepEqual(main(pod).state, { waiting: { reason: 'ContainerCreating' } });
    assert.equal(main(pod).ready, false);
    const ms = await timedDelete('poststart-hang');
    assert.ok(ms < 10_000, `deleting a pod in its postStart hook took ${ms} ms`);
    const evs = await events('poststart-hang');
    assert.ok(evs.some((e) => e.reason === 'FailedPostStartHook' && e.message === 'PostStartHook failed'));
  });

  test('httpGet hooks call the server at host:port/path', async () => {
    const witness = await running('witness');
    const ip = witness.status.podIP;
    const http = (path: string) => ({ httpGet: { host: ip, port: 80, path } });
    await apply([
      busybox('http-hooks', exitOnTerm(), {
        lifecycle: { postStart: http('/poststart-hook'), preStop: http('/prestop-hook') },
      }),
    ]);
    await running('http-hooks');
    await eventually(async () => /poststart-hook/.test(await s.k(['logs', 'witness'])), 10_000, 'postStart GET');
    await timedDelete('http-hooks');
    assert.match(await s.k(['logs', 'witness']), /prestop-hook/);
  });

  test('SIGTERM, then SIGKILL after terminationGracePeriodSeconds; preStop failures and overruns', async () => {
    const names = ['grace-ignore', 'grace-exit', 'prestop-fail', 'prestop-slow'];
    await Promise.all(names.map(running));
    const [ignoring, exiting, failing, slow] = await Promise.all(names.map(timedDelete));
    assert.ok(ignoring >= SHORT_GRACE_S * 1000, `a container ignoring SIGTERM went after ${ignoring} ms`);
    assert.ok(ignoring < SHORT_GRACE_S * 1000 + 8000, `a container ignoring SIGTERM took ${ignoring} ms`);
    assert.ok(exiting < 5000, `a container exiting on SIGTERM took ${exiting} ms (grace 30 s)`);
    // A failed preStop hook does not hold up the stop; users see a Warning without the hook's output.
    assert.ok(failing < 5000, `a container whose preStop failed took ${failing} ms`);
    const evs = await eventually(
      async () => {
        const list = await events('prestop-fail');
        return list.some((e) => e.reason === 'FailedPreStopHook') ? list : undefined;
      },
      10_000,
      'FailedPreStopHook',
    );
    assert.deepEqual(
      evs.filter((e) => e.reason === 'FailedPreStopHook').map((e) => [e.type, e.message]),
      [['Warning', 'PreStopHook failed']],
    );
    // A preStop hook is cut off at the grace period; SIGTERM still gets kubelet's 2 s window before SIGKILL.
    assert.ok(slow >= (SHORT_GRACE_S + 2) * 1000, `a slow preStop hook's container went after ${slow} ms`);
    assert.ok(slow < (SHORT_GRACE_S + 2) * 1000 + 8000, `a slow preStop hook's container took ${slow} ms`);
  });

  test('termination messages: the file, a custom path, the log tail on error, the 4096-byte limit', async () => {
    const [file, path, fallback, fallbackOk, fileWins, big] = await Promise.all(
      ['msg-file', 'msg-path', 'msg-fallback', 'msg-fallback-ok', 'msg-file-wins', 'msg-big'].map(terminated),
    );
    assert.deepEqual(pick(main(file).state.terminated), { exitCode: 0, reason: 'Completed', message: 'bye from file' });
    assert.equal(file.status.phase, 'Succeeded');
    assert.match(
      await s.k(['describe', 'pod', 'msg-file']),
      /Reason:\s+Completed\s+Message:\s+bye from file\s+Exit Code:\s+0/,
    );
    assert.deepEqual(pick(main(path).state.terminated), { exitCode: 4, reason: 'Error', message: 'custom path' });
    assert.equal(path.status.phase, 'Failed');
    assert.deepEqual(pick(main(fallback).state.terminated), {
      exitCode: 2,
      reason: 'Error',
      message: 'line1\nline2\n',
    });
    assert.deepEqual(pick(main(fallbackOk).state.terminated), { exitCode: 0, reason: 'Completed', message: undefined });
    assert.deepEqual(pick(main(fileWins).state.terminated), { exitCode: 1, reason: 'Error', message: 'from file' });
    // kubelet keeps the last 4096 bytes of the file.
    const message: string = main(big).state.terminated.message;
    assert.equal(message.length, 4096);
    assert.ok(message.endsWith('aaaEND'), message.slice(-20));
  });

  test("a pod's termination messages share 12 KiB between its containers", async () => {
    const pod = await waitFor('msg-many', 'Succeeded', (p) => p.status?.phase === 'Succeeded');
    for (const cs of pod.status.containerStatuses) {
      const message: string = cs.state.terminated.message;
      assert.equal(message.length, 3072, cs.name);
      assert.equal(message, 'x'.repeat(96) + 'y'.repeat(2976), cs.name);
    }
  });

  test('after a restart the last run and its message move to lastState', async () => {
    const pod = await waitFor(
      'msg-restart',
      'restarted',
      (p) => main(p)?.restartCount >= 1 && main(p).lastState?.terminated,
    );
    assert.deepEqual(pick(main(pod).lastState.terminated), { exitCode: 1, reason: 'Error', message: 'attempt' });
  });

  test('a container over its memory limit is OOMKilled', async () => {
    const pod = await terminated('oom');
    assert.deepEqual(pick(main(pod).state.terminated), { exitCode: 137, reason: 'OOMKilled', message: undefined });
    assert.equal(pod.status.phase, 'Failed');
  });
});

function pick(t: Json) {
  return { exitCode: t.exitCode, reason: t.reason, message: t.message };
}
