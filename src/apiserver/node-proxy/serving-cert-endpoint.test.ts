import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import type { ApiError } from '../../api/errors.ts';
import { nodeServingCsr } from '../../cli/agent-csr.ts';
import { ensureTls } from '../certs.ts';
import { peerIp, servingCertHandler } from './serving-cert-endpoint.ts';

const NODE = { name: 'system:node-bootstrap', groups: ['system:nodes', 'system:authenticated'] };

function call(tlsDir: string, o: { body: string; from: string; user?: typeof NODE; method?: string }) {
  const req = Object.assign(Readable.from([Buffer.from(o.body)]), {
    method: o.method ?? 'POST',
    headers: {},
    socket: { remoteAddress: o.from },
  }) as unknown as IncomingMessage;
  const out: { code?: number; body?: string } = {};
  const res = {
    writeHead(code: number) {
      out.code = code;
    },
    end(body: Buffer) {
      out.body = body.toString();
    },
  } as unknown as ServerResponse;
  return servingCertHandler(tlsDir)({ req, res, user: o.user ?? NODE }).then(() => out);
}

describe('node serving-certificate signing', () => {
  let dir: string;
  let caPem: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'skiff-sign-'));
    caPem = (await ensureTls(dir, { dnsNames: ['localhost'], ips: ['127.0.0.1'] })).caPem;
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('signs a node CSR for the caller address: serverAuth, system:node CN, CA-issued', async () => {
    const { csrPem } = await nodeServingCsr('node-2', '192.0.2.2');
    const out = await call(dir, { body: csrPem, from: '::ffff:192.0.2.2' });
    assert.equal(out.code, 201);
    const cert = new X509Certificate(out.body!);
    assert.ok(cert.verify(new X509Certificate(caPem).publicKey));
    assert.match(cert.subject, /CN=system:node:node-2/);
    assert.equal(cert.subjectAltName, 'DNS:node-2, IP Address:192.0.2.2');
    assert.equal(cert.checkIP('192.0.2.2'), '192.0.2.2');
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.equal(cert.ca, false);
  });

  test('refuses a node IP other than the caller address, non-nodes, junk and wrong CNs', async () => {
    const { csrPem } = await nodeServingCsr('node-2', '192.0.2.9');
    await assert.rejects(call(dir, { body: csrPem, from: '192.0.2.2' }), (e: ApiError) => e.code === 403 && /192\.0\.2\.9/.test(e.message));
    const ok = (await nodeServingCsr('node-2', '192.0.2.2')).csrPem;
    const admin = { name: 'someone', groups: ['system:authenticated'] };
    await assert.rejects(call(dir, { body: ok, from: '192.0.2.2', user: admin }), (e: ApiError) => e.code === 403);
    await assert.rejects(call(dir, { body: 'hello', from: '192.0.2.2' }), (e: ApiError) => e.code === 400);
    await assert.rejects(call(dir, { body: ok, from: '192.0.2.2', method: 'GET' }), (e: ApiError) => e.code === 405);
    const bad = (await nodeServingCsr('Not_A_Name', '192.0.2.2')).csrPem;
    await assert.rejects(call(dir, { body: bad, from: '192.0.2.2' }), (e: ApiError) => e.code === 400);
  });

  test('peerIp unwraps IPv4-mapped addresses and rejects non-addresses', () => {
    assert.equal(peerIp('::ffff:10.0.0.1'), '10.0.0.1');
    assert.equal(peerIp('fd00::1'), 'fd00::1');
    assert.equal(peerIp(undefined), undefined);
    assert.equal(peerIp('x'), undefined);
  });
});
