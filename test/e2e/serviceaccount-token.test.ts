// TokenRequest through the real API server with real kubectl: `kubectl create
// token` (protobuf request body), the token used as a bearer credential, pod
// binding, and the kube-api-access volume the ServiceAccount admission adds.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { eventually, startServer, type TestServer } from './harness.ts';

let server: TestServer;
before(async () => {
  server = await startServer();
});
after(() => server?.stop());

function claimsOf(token: string) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}

test('kubectl create token issues a token the API server accepts', async () => {
  assert.ok(existsSync(join(server.dataDir, 'tls', 'sa.key')));
  await server.k(['create', 'serviceaccount', 'robot']);
  const token = (await server.k(['create', 'token', 'robot', '--duration', '20m'])).trim();
  const claims = claimsOf(token);
  assert.equal(claims.sub, 'system:serviceaccount:default:robot');
  assert.deepEqual(claims.aud, ['https://kubernetes.default.svc.cluster.local']);
  assert.equal(claims.exp - claims.iat, 1200);
  assert.equal(claims['kubernetes.io'].serviceaccount.name, 'robot');

  const pods = await server.kubectl(['--token', token, 'get', 'pods', '-A']);
  assert.equal(pods.code, 0, pods.stderr);
  const who = await server.kubectl(['--token', token, 'get', 'namespaces', '-o', 'name']);
  assert.match(who.stdout, /namespace\/default/);
  const bad = await server.kubectl(['--token', `${token.slice(0, -4)}AAAA`, 'get', 'pods']);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /Unauthorized|must be logged in/);
  // The key survives a restart, and so do the tokens it signed.
  await server.restart();
  assert.equal((await server.kubectl(['--token', token, 'get', 'pods'])).code, 0);
});

test('errors: unknown service account, too short, other audiences are not API credentials', async () => {
  const missing = await server.kubectl(['create', 'token', 'nobody']);
  assert.notEqual(missing.code, 0);
  assert.match(missing.stderr, /serviceaccounts "nobody" not found/);
  const short = await server.kubectl(['create', 'token', 'robot', '--duration', '1m']);
  assert.notEqual(short.code, 0);
  assert.match(short.stderr, /may not specify a duration less than 10 minutes/);
  const vault = (await server.k(['create', 'token', 'robot', '--audience', 'vault'])).trim();
  assert.deepEqual(claimsOf(vault).aud, ['vault']);
  assert.notEqual((await server.kubectl(['--token', vault, 'get', 'pods'])).code, 0);
});

test('pods get the kube-api-access volume, and tokens bind to pods', async () => {
  await server.k(['run', 'web', '--image', 'nginx:1.14.2', '--overrides', '{"spec":{"serviceAccountName":"robot"}}']);
  const pod = JSON.parse(await server.k(['get', 'pod', 'web', '-o', 'json']));
  const volume = pod.spec.volumes.find((v: { name: string }) => v.name.startsWith('kube-api-access-'));
  assert.ok(volume, JSON.stringify(pod.spec.volumes));
  assert.equal(volume.projected.sources[0].serviceAccountToken.path, 'token');
  assert.deepEqual(pod.spec.containers[0].volumeMounts, [
    { name: volume.name, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' },
  ]);
  const token = (await server.k(['create', 'token', 'robot', '--bound-object-kind', 'Pod', '--bound-object-name', 'web'])).trim();
  assert.deepEqual(claimsOf(token)['kubernetes.io'].pod, { name: 'web', uid: pod.metadata.uid });
  const wrong = await server.kubectl(['create', 'token', 'default', '--bound-object-kind', 'Pod', '--bound-object-name', 'web']);
  assert.match(wrong.stderr, /cannot bind token for serviceaccount "default" to pod running with different serviceaccount name/);

  await server.k(['run', 'quiet', '--image', 'nginx:1.14.2', '--overrides', '{"spec":{"automountServiceAccountToken":false}}']);
  const quiet = JSON.parse(await server.k(['get', 'pod', 'quiet', '-o', 'json']));
  assert.equal(quiet.spec.volumes, undefined);
  await eventually(async () => (await server.k(['get', 'pods', '-o', 'name'])).includes('pod/quiet'));
});
