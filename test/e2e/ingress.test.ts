// The ingress of a real `skiff server`, driven with real kubectl. With
// simulated nodes pod IPs are fake, so the backends are small HTTP servers in
// this process on loopback addresses (127.0.0.2, .3, ...: all of 127/8 is
// local), behind selector-less Services with hand-made EndpointSlices.
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, request, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { selfSignedCertificate } from '../../src/proxy/ingress/tls.ts';
import { eventually, startServer, type TestServer } from './harness.ts';

/** Ingress changes should show in the proxy well within this. */
const FOLLOW_MS = 10_000;

type Seen = { backend: string; url: string; headers: IncomingHttpHeaders };
type Reply = { status: number; body: string; seen?: Seen };

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** A backend named `name` on address:port that answers with what it saw; WebSocket echo on /ws. */
async function backend(name: string, address: string, port = 0): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    req.resume();
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ backend: name, url: req.url, headers: req.headers }));
  });
  new WebSocketServer({ server }).on('connection', (ws) => ws.on('message', (m) => ws.send(`${name}: ${m}`)));
  await new Promise<void>((resolve) => server.listen(port, address, resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

function get(port: number, host: string, path: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host }, agent: false }, (res) => {
      let body = '';
      res.on('data', (c) => {
        body += c;
      });
      res.on('end', () => {
        const seen = res.headers['content-type'] === 'application/json' ? (JSON.parse(body) as Seen) : undefined;
        resolve({ status: res.statusCode ?? 0, body, seen });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

function peerCn(port: number, servername: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      const cn = socket.getPeerCertificate().subject.CN;
      socket.destroy();
      resolve(String(cn));
    });
    socket.on('error', reject);
  });
}

const slice = (name: string, service: string, port: number, addresses: { ip: string; ready?: boolean }[]) => ({
  apiVersion: 'discovery.k8s.io/v1',
  kind: 'EndpointSlice',
  metadata: { name, labels: { 'kubernetes.io/service-name': service } },
  addressType: 'IPv4',
  ports: [{ name: 'http', port, protocol: 'TCP' }],
  endpoints: addresses.map((a) => ({ addresses: [a.ip], conditions: { ready: a.ready ?? true } })),
});

const service = (name: string, port: number) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec: { ports: [{ name: 'http', port, protocol: 'TCP' }] },
});

const tlsSecret = (pem: { certPem: string; keyPem: string }) => ({
  apiVersion: 'v1',
  kind: 'Secret',
  metadata: { name: 'shop-tls' },
  type: 'kubernetes.io/tls',
  data: { 'tls.crt': Buffer.from(pem.certPem).toString('base64'), 'tls.key': Buffer.from(pem.keyPem).toString('base64') },
});

const backendRef = (name: string, port: number | string) => ({ service: { name, port: typeof port === 'number' ? { number: port } : { name: port } } });

describe('ingress', { timeout: 90_000 }, () => {
  let s: TestServer;
  let httpPort = 0;
  let httpsPort = 0;
  const servers: Server[] = [];
  let shopCa = '';
  const apply = (...objects: unknown[]) => s.k(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));

  before(async () => {
    httpPort = await freePort();
    httpsPort = await freePort();
    s = await startServer(['--ingress-http-port', String(httpPort), '--ingress-https-port', String(httpsPort), '--ingress-bind', '127.0.0.1']);
    const v1a = await backend('v1@127.0.0.2', '127.0.0.2');
    const v1b = await backend('v1@127.0.0.3', '127.0.0.3', v1a.port);
    const v2 = await backend('v2', '127.0.0.4');
    const fallback = await backend('fallback', '127.0.0.5');
    servers.push(v1a.server, v1b.server, v2.server, fallback.server);
    const pem = await selfSignedCertificate('shop v1', ['shop.example']);
    shopCa = pem.certPem;
    await apply(
      service('web-v1', 80),
      slice('web-v1-a', 'web-v1', v1a.port, [{ ip: '127.0.0.2' }, { ip: '127.0.0.3' }]),
      service('web-v2', 8080),
      slice('web-v2-a', 'web-v2', v2.port, [{ ip: '127.0.0.4' }]),
      service('fallback', 80),
      slice('fallback-a', 'fallback', fallback.port, [{ ip: '127.0.0.5' }]),
      service('nothing', 80),
      tlsSecret(pem),
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'shop' },
        spec: {
          tls: [{ hosts: ['shop.example'], secretName: 'shop-tls' }],
          rules: [
            {
              host: 'shop.example',
              http: {
                paths: [
                  { path: '/', pathType: 'Prefix', backend: backendRef('web-v1', 'http') },
                  { path: '/v2', pathType: 'Prefix', backend: backendRef('web-v2', 8080) },
                  { path: '/exact', pathType: 'Exact', backend: backendRef('web-v2', 8080) },
                ],
              },
            },
            { host: '*.apps.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backendRef('web-v2', 'http') }] } },
            { host: 'empty.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backendRef('nothing', 80) }] } },
          ],
        },
      },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'not-ours' },
        spec: { ingressClassName: 'nginx', rules: [{ host: 'other.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backendRef('fallback', 80) }] } }] },
      },
    );
    await eventually(async () => (await get(httpPort, 'shop.example', '/')).status === 200, FOLLOW_MS, 'the shop Ingress to serve');
  });

  after(async () => {
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
    await s?.stop();
  });

  test('the default IngressClass exists; status.loadBalancer lists the node IP on served Ingresses only', async () => {
    const cls = JSON.parse(await s.k(['get', 'ingressclass', 'skiff', '-o', 'json']));
    assert.equal(cls.spec.controller, 'skiff.dev/ingress');
    assert.equal(cls.metadata.annotations['ingressclass.kubernetes.io/is-default-class'], 'true');
    const ip = await eventually(async () => {
      const ing = JSON.parse(await s.k(['get', 'ingress', 'shop', '-o', 'json']));
      return ing.status?.loadBalancer?.ingress?.[0]?.ip as string | undefined;
    }, FOLLOW_MS, 'status.loadBalancer');
    assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
    assert.match(await s.k(['get', 'ingress', 'shop']), new RegExp(`shop\\s+<none>\\s+shop\\.example,\\*\\.apps\\.example,empty\\.example\\s+${ip.replace(/\./g, '\\.')}\\s+80, 443`));
    const other = JSON.parse(await s.k(['get', 'ingress', 'not-ours', '-o', 'json']));
    assert.deepEqual(other.status?.loadBalancer ?? {}, {});
  });

  test('host and path rules: Prefix element-wise, Exact, wildcard hosts; round robin over ready endpoints', async () => {
    const backends = new Set<string>();
    for (let i = 0; i < 10; i++) backends.add((await get(httpPort, 'shop.example', '/cart')).seen!.backend);
    assert.deepEqual([...backends].sort(), ['v1@127.0.0.2', 'v1@127.0.0.3']);
    assert.equal((await get(httpPort, 'shop.example', '/v2/items?q=1')).seen?.backend, 'v2');
    assert.equal((await get(httpPort, 'shop.example', '/v2/items?q=1')).seen?.url, '/v2/items?q=1');
    assert.match((await get(httpPort, 'shop.example', '/v2extra')).seen!.backend, /^v1@/);
    assert.equal((await get(httpPort, 'shop.example', '/exact')).seen?.backend, 'v2');
    assert.match((await get(httpPort, 'shop.example', '/exact/more')).seen!.backend, /^v1@/);
    assert.equal((await get(httpPort, 'x.apps.example', '/')).seen?.backend, 'v2');
    assert.equal((await get(httpPort, 'SHOP.example:80', '/')).status, 200);
  });

  test('404 without a rule (and for other classes), 503 without endpoints', async () => {
    const none = await get(httpPort, 'a.b.apps.example', '/');
    assert.equal(none.status, 404);
    assert.match(none.body, /404 page not found/);
    assert.equal((await get(httpPort, 'other.example', '/')).status, 404);
    assert.equal((await get(httpPort, 'empty.example', '/')).status, 503);
  });

  test('the backend sees Host and X-Forwarded-* / X-Real-IP from the proxy', async () => {
    const { headers } = (await get(httpPort, 'shop.example', '/h')).seen!;
    assert.equal(headers.host, 'shop.example');
    assert.equal(headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(headers['x-real-ip'], '127.0.0.1');
    assert.equal(headers['x-forwarded-proto'], 'http');
    assert.equal(headers['x-forwarded-host'], 'shop.example');
    assert.equal(headers['x-forwarded-port'], String(httpPort));
  });

  test('WebSocket upgrade through the ingress', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/v2/ws`, { headers: { host: 'shop.example' } });
    const reply = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send('hello'));
      ws.on('message', (m) => resolve(String(m)));
      ws.on('error', reject);
    });
    ws.close();
    assert.equal(reply, 'v2: hello');
  });

  test('TLS: the Secret by SNI (verified with its certificate), the default certificate otherwise, rotation followed', async () => {
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest(
        { host: '127.0.0.1', port: httpsPort, path: '/tls', servername: 'shop.example', headers: { host: 'shop.example' }, ca: shopCa, agent: false },
        (res) => {
          let text = '';
          res.on('data', (c) => {
            text += c;
          });
          res.on('end', () => resolve(text));
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(JSON.parse(body).headers['x-forwarded-proto'], 'https');
    assert.equal(await peerCn(httpsPort, 'unknown.example'), 'SKIFF INGRESS DEFAULT CERT');
    await apply(tlsSecret(await selfSignedCertificate('shop v2', ['shop.example'])));
    await eventually(async () => (await peerCn(httpsPort, 'shop.example')) === 'shop v2', FOLLOW_MS, 'the rotated certificate');
  });

  test('endpoints follow the slices; a default backend catches unmatched hosts', async () => {
    const port = Number(JSON.parse(await s.k(['get', 'endpointslice', 'web-v1-a', '-o', 'json'])).ports[0].port);
    await apply(slice('web-v1-a', 'web-v1', port, [{ ip: '127.0.0.2' }, { ip: '127.0.0.3', ready: false }]));
    await eventually(async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 6; i++) seen.add((await get(httpPort, 'shop.example', '/')).seen!.backend);
      return seen.size === 1 && seen.has('v1@127.0.0.2');
    }, FOLLOW_MS, 'the not-ready endpoint to leave');
    await apply({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'catch-all' },
      spec: { defaultBackend: backendRef('fallback', 80) },
    });
    await eventually(async () => (await get(httpPort, 'nobody.example', '/')).seen?.backend === 'fallback', FOLLOW_MS, 'the default backend');
    await s.k(['delete', 'ingress', 'shop']);
    await eventually(async () => (await get(httpPort, 'shop.example', '/')).seen?.backend === 'fallback', FOLLOW_MS, 'the deleted rules to go');
  });
});
