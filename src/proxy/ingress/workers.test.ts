// A worker thread beside a main-thread listener on the same port: the kernel
// spreads connections, the worker routes by the snapshots it is posted.
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { KubeObject } from '../../api/types.ts';
import { startListeners } from './listeners.ts';
import { buildRoutingTable } from './match.ts';
import { type ProxySnapshot, snapshotRouter } from './snapshot.ts';
import { CertificateStore, selfSignedCertificate } from './tls.ts';
import { startProxyWorkers } from './workers.ts';

const ingress: KubeObject = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'i', namespace: 'default' },
  spec: { rules: [{ host: 'a.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
};

function status(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host }, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

test('snapshotRouter: 503 until ready, 404 without a rule, round robin over the endpoints', () => {
  const router = snapshotRouter();
  assert.deepEqual(router.pick('a.example', '/'), { status: 503 });
  const endpoints = [
    { address: '127.0.0.2', port: 80 },
    { address: '127.0.0.3', port: 80 },
  ];
  router.load({ ready: true, table: buildRoutingTable([ingress]), endpoints: new Map([['default/web/80', endpoints]]), tls: { hosts: [] } });
  assert.deepEqual(router.pick('b.example', '/'), { status: 404 });
  const seen = new Set([1, 2, 3, 4].map(() => router.pick('a.example', '/x').endpoint?.address));
  assert.deepEqual([...seen].sort(), ['127.0.0.2', '127.0.0.3']);
  router.load({ ready: true, table: buildRoutingTable([ingress]), endpoints: new Map(), tls: { hosts: [] } });
  assert.deepEqual(router.pick('a.example', '/'), { status: 503 });
});

test('a worker thread shares the port and follows posted snapshots', { timeout: 20_000 }, async () => {
  const backend: Server = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  const backendPort = (backend.address() as AddressInfo).port;
  const defaultCert = await selfSignedCertificate('test');
  // The main thread's listener answers 404 to everything; only the worker knows the route.
  const main = await startListeners({
    pick: () => ({ status: 404 }),
    certs: new CertificateStore({ defaultCert }),
    httpPort: 0,
    httpsPort: 0,
    bind: '127.0.0.1',
    reusePort: 'first',
  });
  const routed: ProxySnapshot = {
    ready: true,
    table: buildRoutingTable([ingress]),
    endpoints: new Map([['default/web/80', [{ address: '127.0.0.1', port: backendPort }]]]),
    tls: { hosts: [] },
  };
  const workers = await startProxyWorkers({ count: 1, httpPort: main.http.port, httpsPort: main.https.port, bind: '127.0.0.1', defaultCert, snapshot: routed });
  try {
    // A second ingress on the same address and port is refused rather than splitting the traffic.
    await assert.rejects(
      startListeners({ pick: () => ({ status: 404 }), certs: new CertificateStore({ defaultCert }), httpPort: main.http.port, httpsPort: 0, bind: '127.0.0.1', reusePort: 'first' }),
      /EADDRINUSE/,
    );
    const answers = new Set<number>();
    for (let i = 0; i < 40 && answers.size < 2; i++) answers.add(await status(main.http.port, 'a.example'));
    assert.deepEqual([...answers].sort(), [200, 404]);
    workers.post({ ...routed, endpoints: new Map() });
    // The worker now has no endpoints for the route: its answers turn to 503 (the main thread's stay 404).
    let last = 0;
    for (let i = 0; i < 80 && last !== 503; i++) last = await status(main.http.port, 'a.example');
    assert.equal(last, 503);
  } finally {
    await workers.stop();
    await main.close();
    backend.close();
  }
});
