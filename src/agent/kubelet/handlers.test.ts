import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { ContainerRuntime } from '../types.ts';
import { type HandlerContext, runHandler } from './handlers.ts';

describe('httpGet handlers', () => {
  const seen: { url?: string; headers: IncomingHttpHeaders }[] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url, headers: req.headers });
    res.statusCode = req.url === '/ok' ? 200 : 404;
    res.end('body');
  });
  let port = 0;
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());
  const ctx = (purpose?: HandlerContext['purpose']): HandlerContext => ({
    runtime: {} as ContainerRuntime,
    containerId: 'c1',
    container: { name: 'app' },
    podIp: '127.0.0.1',
    timeoutMs: 2000,
    purpose,
  });

  test('a probe needs a 2xx/3xx answer and says kube-probe', async () => {
    assert.equal((await runHandler({ httpGet: { port, path: '/ok' } }, ctx())).ok, true);
    const missing = await runHandler({ httpGet: { port, path: '/missing' } }, ctx());
    assert.deepEqual(missing, { ok: false, message: 'HTTP probe failed with statuscode: 404' });
    assert.equal(seen.at(-1)?.headers['user-agent'], 'kube-probe/1.32');
  });

  test('a lifecycle hook succeeds on any HTTP answer and says kube-lifecycle', async () => {
    const outcome = await runHandler({ httpGet: { port, path: '/missing' } }, ctx('lifecycle'));
    assert.equal(outcome.ok, true);
    assert.equal(seen.at(-1)?.url, '/missing');
    assert.equal(seen.at(-1)?.headers['user-agent'], 'kube-lifecycle/1.32');
  });

  test('a lifecycle hook fails when nothing answers', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const free = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const outcome = await runHandler({ httpGet: { port: free, path: '/' } }, ctx('lifecycle'));
    assert.equal(outcome.ok, false);
    assert.match(outcome.message, /connection refused/);
  });
});

describe('cancelling a handler', () => {
  const hung = { exec: () => new Promise(() => {}) } as unknown as ContainerRuntime;
  const ctx = (signal: AbortSignal): HandlerContext => ({
    runtime: hung,
    containerId: 'c1',
    container: { name: 'app' },
    signal,
    purpose: 'lifecycle',
  });

  test('an exec hook without a time limit ends when its signal aborts', async () => {
    const abort = new AbortController();
    const outcome = runHandler({ exec: { command: ['sleep', '600'] } }, ctx(abort.signal));
    setTimeout(() => abort.abort('pod deleted'), 20);
    assert.deepEqual(await outcome, { ok: false, message: 'context canceled' });
  });

  test('a sleep hook ends early, as failed, when its signal aborts', async () => {
    const abort = new AbortController();
    const t0 = Date.now();
    const outcome = runHandler({ sleep: { seconds: 600 } }, ctx(abort.signal));
    setTimeout(() => abort.abort(), 20);
    assert.equal((await outcome).ok, false);
    assert.ok(Date.now() - t0 < 2000);
  });
});
