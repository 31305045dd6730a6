// kubectl fetches /openapi/v2 only as protobuf and validates `kind: List`
// documents client-side against it, item by item; explain's v2 output reads
// it too. Without the protobuf document these fail outright.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import YAML from 'yaml';
import { type TestServer, startServer } from './harness.ts';

const PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

function list(prefix: string, spec: Record<string, unknown> = { replicas: 1 }): string {
  const labels = { app: `${prefix}-web` };
  return YAML.stringify({
    apiVersion: 'v1',
    kind: 'List',
    items: [
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${prefix}-one` }, data: { a: '1' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${prefix}-two` }, data: { b: '2' } },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: `${prefix}-web` },
        spec: {
          ...spec,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: 'web', image: 'nginx' }] } },
        },
      },
    ],
  });
}

describe('OpenAPI v2 as protobuf, with real kubectl', () => {
  let s: TestServer;
  let dir: string;
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  before(async () => {
    s = await startServer();
    dir = mkdtempSync(join(tmpdir(), 'skiff-openapi-v2-'));
  });
  after(async () => {
    await s?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('create -f and apply -f of a List (two ConfigMaps and a Deployment) pass client-side validation', async () => {
    const path = file('list.yaml', list('made'));
    assert.match(
      await s.k(['create', '-f', path]),
      /configmap\/made-one created[\s\S]*deployment.apps\/made-web created/,
    );
    const applied = file('applied.yaml', list('applied'));
    assert.match(await s.k(['apply', '-f', applied]), /configmap\/applied-two created/);
    const again = await s.k(['apply', '-f', applied]);
    assert.match(again, /deployment.apps\/applied-web unchanged/);
  });

  test('a List item with an unknown field is rejected by kubectl before anything is sent', async () => {
    const path = file('bad.yaml', list('bad', { replicaz: 1 }));
    for (const verb of ['create', 'apply']) {
      const result = await s.kubectl([verb, '-f', path]);
      assert.notEqual(result.code, 0);
      assert.match(
        result.stderr,
        /error validating data: ValidationError\(Deployment\.spec\): unknown field "replicaz" in io\.k8s\.api\.apps\.v1\.DeploymentSpec/,
      );
    }
    const none = await s.kubectl(['get', 'configmap', 'bad-one']);
    assert.match(none.stderr, /NotFound/);
  });

  test('explain --output=plaintext-openapiv2 prints fields', async () => {
    const out = await s.k(['explain', 'deployment.spec', '--output=plaintext-openapiv2']);
    assert.match(out, /RESOURCE:\s+spec <Object>/);
    assert.match(out, /replicas\s+<integer>/);
    assert.match(out, /template\s+<Object> -required-/);
  });

  test('get deploy,cm -o yaml then apply -f of the result round-trips', async () => {
    await s.k(['apply', '-f', file('round.yaml', list('round'))]);
    const dumped = file('dump.yaml', await s.k(['get', 'deploy,cm', '-o', 'yaml']));
    assert.equal(YAML.parse(readFileSync(dumped, 'utf8')).kind, 'List');
    const out = await s.k(['apply', '-f', dumped]);
    assert.match(out, /deployment.apps\/round-web (configured|unchanged)/);
    assert.match(out, /configmap\/round-one (configured|unchanged)/);
  });

  test('protobuf and JSON have their own ETags, and If-None-Match answers 304', async () => {
    const config = YAML.parse(readFileSync(s.kubeconfig, 'utf8'));
    const ca = Buffer.from(config.clusters[0].cluster['certificate-authority-data'], 'base64').toString();
    const get = (headers: Record<string, string>) =>
      new Promise<{ code: number; headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
        const req = request(
          new URL('/openapi/v2', s.url),
          { ca, headers: { Authorization: `Bearer ${config.users[0].user.token}`, ...headers } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({ code: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
            );
          },
        );
        req.on('error', reject);
        req.end();
      });
    const pb = await get({ Accept: PROTOBUF });
    assert.equal(pb.code, 200);
    assert.equal(pb.headers['content-type'], 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf');
    // Field 1 (swagger, length-delimited) comes first: 0x0a, 3, "2.0".
    assert.deepEqual([...pb.body.subarray(0, 5)], [0x0a, 3, ...Buffer.from('2.0')]);
    const json = await get({ Accept: 'application/json' });
    assert.equal(JSON.parse(json.body.toString()).swagger, '2.0');
    assert.notEqual(json.headers.etag, pb.headers.etag);
    const again = await get({ Accept: PROTOBUF, 'If-None-Match': String(pb.headers.etag) });
    assert.equal(again.code, 304);
    assert.equal(again.body.length, 0);
  });
});
