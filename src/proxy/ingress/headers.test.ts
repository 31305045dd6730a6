import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../api/types.ts';
import { servesIngress } from './classes.ts';
import { downstreamResponseHeaders, hasRequestBody, plainIp, upstreamRequestHeaders } from './headers.ts';
import { desiredIngressStatus } from './status.ts';

const info = { clientIp: '192.0.2.7', proto: 'https' as const, port: 443 };

test('upstream headers: hop-by-hop and Connection-listed headers go, Host stays, forwarding headers are ours', () => {
  const out = upstreamRequestHeaders(
    [
      'Host',
      'shop.example:8443',
      'Connection',
      'keep-alive, X-Secret',
      'Keep-Alive',
      'timeout=5',
      'X-Secret',
      'drop me',
      'X-Forwarded-For',
      '6.6.6.6',
      'X-Real-IP',
      '6.6.6.6',
      'Accept',
      'text/html',
      'Cookie',
      'a=1',
      'Cookie',
      'b=2',
      'TE',
      'trailers',
    ],
    info,
  );
  assert.deepEqual(out, [
    'Host',
    'shop.example:8443',
    'Accept',
    'text/html',
    'Cookie',
    'a=1',
    'Cookie',
    'b=2',
    'X-Forwarded-For',
    '192.0.2.7',
    'X-Forwarded-Proto',
    'https',
    'X-Forwarded-Host',
    'shop.example:8443',
    'X-Forwarded-Port',
    '443',
    'X-Real-IP',
    '192.0.2.7',
  ]);
});

test('upstream headers: chunked request bodies stay chunked; upgrades keep Connection: Upgrade', () => {
  const chunked = upstreamRequestHeaders(['Host', 'a', 'Transfer-Encoding', 'chunked'], info);
  assert.deepEqual(chunked.slice(-2), ['Transfer-Encoding', 'chunked']);
  const ws = upstreamRequestHeaders(
    ['Host', 'a', 'Connection', 'Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k'],
    info,
    { upgrade: true },
  );
  assert.deepEqual(ws.slice(0, 4), ['Host', 'a', 'Sec-WebSocket-Key', 'k']);
  assert.deepEqual(ws.slice(-4), ['Connection', 'Upgrade', 'Upgrade', 'websocket']);
  // Without the upgrade option, Upgrade is dropped like any hop-by-hop header.
  assert.ok(!upstreamRequestHeaders(['Upgrade', 'h2c'], info).includes('h2c'));
});

test('downstream headers keep repeats (Set-Cookie) and drop hop-by-hop ones', () => {
  assert.deepEqual(
    downstreamResponseHeaders([
      'Content-Type',
      'text/plain',
      'Set-Cookie',
      'a=1',
      'Set-Cookie',
      'b=2',
      'Connection',
      'close',
      'Transfer-Encoding',
      'chunked',
      'Keep-Alive',
      'timeout=5',
    ]),
    ['Content-Type', 'text/plain', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'],
  );
});

test('plainIp and hasRequestBody', () => {
  assert.equal(plainIp('::ffff:127.0.0.1'), '127.0.0.1');
  assert.equal(plainIp('::1'), '::1');
  assert.equal(hasRequestBody({}), false);
  assert.equal(hasRequestBody({ 'content-length': '0' }), false);
  assert.equal(hasRequestBody({ 'content-length': '12' }), true);
  assert.equal(hasRequestBody({ 'transfer-encoding': 'chunked' }), true);
});

const cls = (name: string, controller: string, isDefault = false): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'IngressClass',
  metadata: { name, ...(isDefault ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } : {}) },
  spec: { controller },
});
const ing = (className?: string, annotation?: string, status?: unknown): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: {
    name: 'i',
    namespace: 'default',
    ...(annotation ? { annotations: { 'kubernetes.io/ingress.class': annotation } } : {}),
  },
  spec: className ? { ingressClassName: className } : {},
  ...(status ? { status } : {}),
});

test("servesIngress: skiff's classes, the legacy annotation, and class-less Ingresses only while skiff's class is the default", () => {
  const skiffDefault = [cls('skiff', 'skiff.dev/ingress', true), cls('nginx', 'k8s.io/ingress-nginx')];
  assert.equal(servesIngress(ing('skiff'), skiffDefault), true);
  assert.equal(servesIngress(ing('nginx'), skiffDefault), false);
  assert.equal(servesIngress(ing('missing'), skiffDefault), false);
  assert.equal(servesIngress(ing(), skiffDefault), true);
  assert.equal(servesIngress(ing(undefined, 'nginx'), skiffDefault), false);
  assert.equal(servesIngress(ing(undefined, 'skiff'), skiffDefault), true);
  const notDefault = [cls('skiff', 'skiff.dev/ingress'), cls('nginx', 'k8s.io/ingress-nginx', true)];
  assert.equal(servesIngress(ing(), notDefault), false);
  assert.equal(servesIngress(ing('skiff'), notDefault), true);
  assert.equal(servesIngress(ing(), []), false);
});

test('desiredIngressStatus: node IPs on served Ingresses, withdrawn only when they are ours', () => {
  assert.deepEqual(desiredIngressStatus(ing('skiff'), true, ['10.0.0.2', '10.0.0.1']), {
    loadBalancer: { ingress: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }] },
  });
  const done = ing('skiff', undefined, { loadBalancer: { ingress: [{ ip: '10.0.0.2' }, { ip: '10.0.0.1' }] } });
  assert.equal(desiredIngressStatus(done, true, ['10.0.0.1', '10.0.0.2']), undefined);
  assert.deepEqual(desiredIngressStatus(done, false, ['10.0.0.1', '10.0.0.2']), { loadBalancer: {} });
  const others = ing('nginx', undefined, { loadBalancer: { ingress: [{ ip: '203.0.113.5' }] } });
  assert.equal(desiredIngressStatus(others, false, ['10.0.0.1']), undefined);
  assert.equal(desiredIngressStatus(ing('nginx'), false, ['10.0.0.1']), undefined);
});
