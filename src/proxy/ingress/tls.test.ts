import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import type { KubeObject } from '../../api/types.ts';
import {
  CertificateStore,
  DEFAULT_CERT_CN,
  type Pem,
  selfSignedCertificate,
  sniLookup,
  tlsAssignments,
} from './tls.ts';

const secret = (name: string, pem: Pem, rv = '1'): KubeObject =>
  ({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, resourceVersion: rv },
    type: 'kubernetes.io/tls',
    data: {
      'tls.crt': Buffer.from(pem.certPem).toString('base64'),
      'tls.key': Buffer.from(pem.keyPem).toString('base64'),
    },
  }) as KubeObject;

const ingress = (name: string, tls: { hosts?: string[]; secretName: string }[], created: string): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name, namespace: 'default', creationTimestamp: created },
  spec: { tls, rules: [] },
});

test('tlsAssignments: oldest Ingress wins a host; host-less entries give the fallback', () => {
  const { hosts, fallback } = tlsAssignments([
    ingress(
      'new',
      [{ hosts: ['a.com', '*.b.com'], secretName: 'new' }, { secretName: 'catch' }],
      '2024-02-01T00:00:00Z',
    ),
    ingress('old', [{ hosts: ['A.com'], secretName: 'old' }], '2024-01-01T00:00:00Z'),
  ]);
  assert.deepEqual(
    [...hosts],
    [
      ['a.com', 'default/old'],
      ['*.b.com', 'default/new'],
    ],
  );
  assert.equal(fallback, 'default/catch');
});

test('sniLookup: exact, then a one-label wildcard', () => {
  const map = new Map([
    ['a.b.com', 1],
    ['*.b.com', 2],
  ]);
  assert.equal(sniLookup(map, 'A.B.com'), 1);
  assert.equal(sniLookup(map, 'x.b.com'), 2);
  assert.equal(sniLookup(map, 'y.x.b.com'), undefined);
  assert.equal(sniLookup(map, 'b.com'), undefined);
});

describe('CertificateStore over a real TLS server', () => {
  let server: Server;
  let port = 0;
  let store: CertificateStore;
  const secrets = new Map<string, KubeObject>();

  const peerCn = (servername?: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
        const cn = socket.getPeerCertificate().subject.CN;
        socket.destroy();
        resolve(String(Array.isArray(cn) ? cn[0] : cn));
      });
      socket.on('error', reject);
    });

  before(async () => {
    store = new CertificateStore({ defaultCert: await selfSignedCertificate(DEFAULT_CERT_CN) });
    server = createServer(store.serverOptions(), (_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  test('picks the Secret by SNI, the default certificate otherwise, and reloads a changed Secret', async () => {
    secrets.set('default/shop', secret('shop', await selfSignedCertificate('shop v1', ['shop.example'])));
    secrets.set('default/wild', secret('wild', await selfSignedCertificate('wildcard', ['*.apps.example'])));
    const ingresses = [
      ingress(
        'i',
        [
          { hosts: ['shop.example'], secretName: 'shop' },
          { hosts: ['*.apps.example'], secretName: 'wild' },
        ],
        '2024-01-01T00:00:00Z',
      ),
    ];
    store.update(ingresses, (k) => secrets.get(k));
    assert.equal(await peerCn('shop.example'), 'shop v1');
    assert.equal(await peerCn('one.apps.example'), 'wildcard');
    assert.equal(await peerCn('other.example'), DEFAULT_CERT_CN);
    assert.equal(await peerCn(undefined), DEFAULT_CERT_CN);
    // A worker thread's store gets the same certificates from a snapshot, and keeps its contexts across snapshots.
    const copy = new CertificateStore({ defaultCert: await selfSignedCertificate(DEFAULT_CERT_CN) });
    const snap = store.snapshot();
    assert.deepEqual(snap.hosts.map(([h]) => h).sort(), ['*.apps.example', 'shop.example']);
    copy.loadSnapshot(snap);
    const shopContext = copy.contextFor('shop.example');
    assert.notEqual(shopContext, copy.contextFor('other.example'));
    assert.equal(copy.contextFor('x.apps.example'), copy.contextFor('y.apps.example'));
    copy.loadSnapshot(store.snapshot());
    assert.equal(copy.contextFor('shop.example'), shopContext);
    assert.ok(store.references('default/shop'));
    assert.ok(!store.references('default/other'));

    secrets.set('default/shop', secret('shop', await selfSignedCertificate('shop v2', ['shop.example']), '2'));
    store.update(ingresses, (k) => secrets.get(k));
    assert.equal(await peerCn('shop.example'), 'shop v2');
  });

  test('a missing or broken Secret falls back to the default certificate', async () => {
    secrets.set('default/broken', {
      ...secret('broken', await selfSignedCertificate('x')),
      data: { 'tls.crt': 'bm9wZQ==', 'tls.key': 'bm9wZQ==' },
    } as KubeObject);
    store.update(
      [
        ingress(
          'i',
          [
            { hosts: ['broken.example'], secretName: 'broken' },
            { hosts: ['gone.example'], secretName: 'gone' },
          ],
          '2024-01-01T00:00:00Z',
        ),
      ],
      (k) => secrets.get(k),
    );
    assert.equal(await peerCn('broken.example'), DEFAULT_CERT_CN);
    assert.equal(await peerCn('gone.example'), DEFAULT_CERT_CN);
  });
});
