import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureTls } from './certs.ts';

test('creates a CA and a serving cert for the wanted names, and keeps them on restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-tls-'));
  try {
    const names = { dnsNames: ['localhost', 'kubernetes.default.svc'], ips: ['127.0.0.1', '10.96.0.1'] };
    const first = await ensureTls(dir, names);
    const cert = new X509Certificate(first.certPem);
    const ca = new X509Certificate(first.caPem);
    assert.ok(cert.verify(ca.publicKey), 'serving cert is signed by the CA');
    assert.ok(cert.checkIP('10.96.0.1'));
    assert.ok(cert.checkHost('kubernetes.default.svc'));
    const again = await ensureTls(dir, names);
    assert.equal(again.certPem, first.certPem);
    const moreNames = await ensureTls(dir, { ...names, ips: [...names.ips, '192.0.2.7'] });
    assert.notEqual(moreNames.certPem, first.certPem, 'new names mean a new serving cert');
    assert.equal(moreNames.caPem, first.caPem, 'the CA stays');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
