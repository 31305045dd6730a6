import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { bearerToken } from '../auth.ts';
import { createTokenIssuer, loadOrCreateSigningKey, serviceAccountAuthenticator } from './jwt.ts';

const dir = mkdtempSync(join(tmpdir(), 'sa-jwt-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const keyPath = join(dir, 'tls', 'sa.key');

test('the signing key is created once, private, and reused', () => {
  const pem = loadOrCreateSigningKey(keyPath);
  assert.match(pem, /BEGIN PRIVATE KEY/);
  assert.equal(statSync(keyPath).mode & 0o777, 0o600);
  assert.equal(loadOrCreateSigningKey(keyPath), pem);
  assert.ok(existsSync(keyPath));
});

test('issued tokens carry Kubernetes claims and verify', () => {
  const issuer = createTokenIssuer({ keyPem: loadOrCreateSigningKey(keyPath) });
  const now = new Date('2030-01-01T00:00:00Z');
  const { token, expiresAt } = issuer.issue({
    namespace: 'ns',
    serviceAccount: { name: 'robot', uid: 'sa-uid' },
    audiences: issuer.apiAudiences,
    expirationSeconds: 600,
    bound: { kind: 'Pod', name: 'p', uid: 'pod-uid' },
    now,
  });
  assert.equal(expiresAt.toISOString(), '2030-01-01T00:10:00.000Z');
  const [head, body] = token.split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
  assert.equal(head.alg, 'ES256');
  assert.ok(head.kid);
  assert.equal(body.iss, 'https://kubernetes.default.svc.cluster.local');
  assert.equal(body.sub, 'system:serviceaccount:ns:robot');
  assert.deepEqual(body['kubernetes.io'], { namespace: 'ns', serviceaccount: { name: 'robot', uid: 'sa-uid' }, pod: { name: 'p', uid: 'pod-uid' } });
  assert.ok(issuer.verify(token, now));
  assert.equal(issuer.verify(token, new Date('2030-01-01T00:12:00Z')), undefined, 'expired');
  const tampered = `${token.split('.')[0]}.${Buffer.from(JSON.stringify({ ...body, sub: 'x' })).toString('base64url')}.${token.split('.')[2]}`;
  assert.equal(issuer.verify(tampered, now), undefined);
  const other = createTokenIssuer({ keyPem: loadOrCreateSigningKey(join(dir, 'other.key')) });
  assert.equal(other.verify(token, now), undefined, 'another key');
  const foreign = issuer.issue({ namespace: 'ns', serviceAccount: { name: 'r', uid: 'u' }, audiences: ['vault'], expirationSeconds: 600, now });
  assert.equal(issuer.verify(foreign.token, now), undefined, 'audience not the API');
});

test('the authenticator maps tokens to service-account users', () => {
  const issuer = createTokenIssuer({ keyPem: loadOrCreateSigningKey(keyPath) });
  const auth = serviceAccountAuthenticator(issuer, bearerToken);
  const { token } = issuer.issue({ namespace: 'ns', serviceAccount: { name: 'robot', uid: 'u1' }, audiences: issuer.apiAudiences, expirationSeconds: 600 });
  const req = (authorization: string) => ({ headers: { authorization } }) as IncomingMessage;
  assert.deepEqual(auth(req(`Bearer ${token}`)), {
    name: 'system:serviceaccount:ns:robot',
    uid: 'u1',
    groups: ['system:serviceaccounts', 'system:serviceaccounts:ns', 'system:authenticated'],
  });
  assert.equal(auth(req('Bearer abc123')), undefined);
  assert.equal(auth(req('Bearer a.b.c')), undefined);
  assert.equal(auth(req('')), undefined);
});
