import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeDockerConfig, registryAuthFromSecrets } from './dockerconfig.ts';
import { credentialsFor } from './registry/pull.ts';
import { endpointsFor, hostKey, parseRegistriesConfig } from './registry/config.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('pull secrets and registries.yaml', () => {
  test('decodes .dockerconfigjson and .dockercfg secrets', () => {
    const json = JSON.stringify({ auths: { 'https://index.docker.io/v1/': { auth: b64('alice:s3:cret') }, 'reg.local:5000': { username: 'bob', password: 'pw' } } });
    const auths = registryAuthFromSecrets([
      { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64(json) } },
      { type: 'kubernetes.io/dockercfg', data: { '.dockercfg': b64(JSON.stringify({ 'old.reg': { auth: b64('carol:x') } })) } },
      { type: 'Opaque', data: { foo: b64('bar') } },
      { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': b64('not json') } },
    ]);
    assert.deepEqual(
      auths.map((a) => [a.registry, a.username, a.password]),
      [
        ['https://index.docker.io/v1/', 'alice', 's3:cret'],
        ['reg.local:5000', 'bob', 'pw'],
        ['old.reg', 'carol', 'x'],
      ],
    );
    assert.equal(decodeDockerConfig(json)[1].username, 'bob');
  });

  test('parses mirrors and configs; mirrors come before the registry itself', async () => {
    const cfg = await parseRegistriesConfig(`
mirrors:
  docker.io:
    endpoint: ["http://127.0.0.1:5000", "https://mirror.example/v2/"]
configs:
  "127.0.0.1:5000":
    auth: { username: u, password: p }
    tls: { insecure_skip_verify: true }
`);
    assert.deepEqual(endpointsFor(cfg, 'docker.io'), ['http://127.0.0.1:5000', 'https://mirror.example/v2', 'https://registry-1.docker.io']);
    assert.deepEqual(endpointsFor(cfg, 'localhost:5001'), ['http://localhost:5001']);
    assert.deepEqual(endpointsFor(cfg, 'quay.io'), ['https://quay.io']);
    assert.equal(cfg.configs['127.0.0.1:5000'].tls?.insecureSkipVerify, true);
    assert.equal(hostKey('https://index.docker.io/v1/'), 'docker.io');
    // Pull-secret credentials first, then registries.yaml's for the endpoint, then anonymous.
    const creds = credentialsFor(
      { registries: cfg, auth: [{ registry: 'https://index.docker.io/v1/', username: 'alice', password: 'a' }, { registry: 'other.io', username: 'x' }] },
      'docker.io',
      'http://127.0.0.1:5000',
    );
    assert.deepEqual(creds, [{ username: 'alice', password: 'a', identityToken: undefined }, { username: 'u', password: 'p', identityToken: undefined }, undefined]);
  });
});
