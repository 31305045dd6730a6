// The proxy handlers over real loopback sockets: a backend, the proxy in
// front, and node:http / ws clients.
import assert from 'node:assert/strict';
import { Agent, createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebSocket, WebSocketServer } from 'ws';
import { createProxyHandlers, type Target } from './proxy.ts';

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

type Reply = { status: number; headers: IncomingMessage['headers']; body: string };
function get(
  port: number,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe('proxy handlers', () => {
  let backend: Server;
  let backendPort = 0;
  let proxy: Server;
  let proxyPort = 0;
  let pick: Target = { status: 404 };
  const agent = new Agent({ keepAlive: true });
  const seen: IncomingMessage[] = [];

  before(async () => {
    backend = createServer((req, res) => {
      seen.push(req);
      if (req.url === '/echo') {
        res.writeHead(200, {
          'content-type': 'application/octet-stream',
          'x-backend': 'yes',
          'set-cookie': ['a=1', 'b=2'],
        });
        req.pipe(res);
        return;
      }
      if (req.url === '/slow') return; // never answers
      if (req.url === '/stream') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        const timer = setInterval(() => res.write('tick\n'), 5);
        res.on('close', () => clearInterval(timer));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json', connection: 'close' });
      res.end(JSON.stringify({ url: req.url, headers: req.headers }));
    });
    backendPort = await listen(backend);
    const wss = new WebSocketServer({ server: backend });
    wss.on('connection', (ws, req) =>
      ws.on('message', (m) => ws.send(`echo ${m} via ${req.headers['x-forwarded-for']}`)),
    );
    const handlers = createProxyHandlers({ pick: () => pick, agent, proto: 'http', upstreamTimeoutMs: 300 });
    proxy = createServer(handlers.request);
    proxy.on('upgrade', handlers.upgrade);
    proxyPort = await listen(proxy);
    pick = { endpoint: { address: '127.0.0.1', port: backendPort } };
  });
  after(() => {
    proxy.closeAllConnections();
    proxy.close();
    backend.closeAllConnections();
    backend.close();
    agent.destroy();
  });

  test('forwards the request with Host kept and X-Forwarded-* set; hop-by-hop headers are not passed', async () => {
    const reply = await get(proxyPort, '/hello?x=1', {
      headers: { host: 'shop.example', 'x-forwarded-for': '6.6.6.6', 'keep-alive': 'timeout=1' },
    });
    assert.equal(reply.status, 200);
    const { url, headers } = JSON.parse(reply.body);
    assert.equal(url, '/hello?x=1');
    assert.equal(headers.host, 'shop.example');
    assert.equal(headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(headers['x-real-ip'], '127.0.0.1');
    assert.equal(headers['x-forwarded-host'], 'shop.example');
    assert.equal(headers['x-forwarded-proto'], 'http');
    assert.equal(headers['x-forwarded-port'], String(proxyPort));
    assert.equal(headers['keep-alive'], undefined);
    // The backend's Connection: close is its business; the client's connection stays keep-alive.
    assert.notEqual(reply.headers.connection, 'close');
  });

  test('streams a large request body up and the response back, keeping repeated headers', async () => {
    const body = 'x'.repeat(3 * 1024 * 1024);
    const reply = await get(proxyPort, '/echo', { method: 'POST', body });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.length, body.length);
    assert.equal(reply.headers['x-backend'], 'yes');
    assert.deepEqual(reply.headers['set-cookie'], ['a=1', 'b=2']);
  });

  test('chunked request bodies arrive whole', async () => {
    const reply = await new Promise<string>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: proxyPort, path: '/echo', method: 'PUT' }, (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.write('part one, ');
      setTimeout(() => req.end('part two'), 20);
    });
    assert.equal(reply, 'part one, part two');
  });

  test('404 and 503 from pick, 502 for a dead endpoint, 504 for a stuck one', async () => {
    pick = { status: 404 };
    assert.equal((await get(proxyPort, '/')).status, 404);
    pick = { status: 503 };
    assert.equal((await get(proxyPort, '/')).status, 503);
    const dead = createServer();
    const deadPort = await listen(dead);
    await new Promise((r) => dead.close(r));
    pick = { endpoint: { address: '127.0.0.1', port: deadPort } };
    assert.equal((await get(proxyPort, '/')).status, 502);
    pick = { endpoint: { address: '127.0.0.1', port: backendPort } };
    assert.equal((await get(proxyPort, '/slow')).status, 504);
    assert.equal((await get(proxyPort, '/still-fine')).status, 200);
  });

  test('a client that hangs up mid-stream closes the upstream request; the proxy keeps serving', async () => {
    pick = { endpoint: { address: '127.0.0.1', port: backendPort } };
    const before = seen.length;
    await new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port: proxyPort, path: '/stream' }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => {});
      req.end();
    });
    const upstream = seen[before];
    if (!upstream.socket.destroyed) await new Promise((r) => upstream.socket.once('close', r));
    assert.ok(upstream.socket.destroyed);
    assert.equal((await get(proxyPort, '/after-abort')).status, 200);
  });

  test('WebSocket upgrades are passed through and echo both ways', async () => {
    pick = { endpoint: { address: '127.0.0.1', port: backendPort } };
    const ws = new WebSocket(`ws://127.0.0.1:${proxyPort}/ws`);
    const message = await new Promise<string>((resolve, reject) => {
      ws.on('open', () => ws.send('ping'));
      ws.on('message', (m) => resolve(String(m)));
      ws.on('error', reject);
    });
    ws.close();
    assert.equal(message, 'echo ping via 127.0.0.1');
  });

  test('an upgrade with no route gets an HTTP error, not a hang', async () => {
    pick = { status: 404 };
    const ws = new WebSocket(`ws://127.0.0.1:${proxyPort}/ws`);
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => resolve(-1));
    });
    assert.equal(status, 404);
  });
});
