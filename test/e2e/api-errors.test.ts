// Bad requests get Kubernetes Status answers with the right code and reason,
// and never hurt the server or its data.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { after, before, describe, test } from 'node:test';
import YAML from 'yaml';
import { type TestServer, startServer } from './harness.ts';

// biome-ignore lint/suspicious/noExplicitAny: replies are arbitrary JSON that the tests pick apart
type Json = Record<string, any>;
type Reply = { code: number; body: Json; headers: Record<string, unknown> };

describe('API errors', () => {
  let s: TestServer;
  let ca: string;
  let token: string;
  const call = (method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}, auth = true) =>
    new Promise<Reply>((resolve, reject) => {
      const url = new URL(path, s.url);
      const req = request(url, {
        method,
        ca,
        headers: { ...(auth ? { Authorization: `Bearer ${token}` } : {}), 'Content-Type': 'application/json', ...headers },
      }, (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => {
          let parsed: Json = {};
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = { text };
          }
          resolve({ code: res.statusCode ?? 0, body: parsed, headers: res.headers });
        });
      });
      req.on('error', reject);
      req.end(body);
    });

  before(async () => {
    s = await startServer();
    const config = YAML.parse(readFileSync(s.kubeconfig, 'utf8'));
    ca = Buffer.from(config.clusters[0].cluster['certificate-authority-data'], 'base64').toString();
    token = config.users[0].user.token;
  });
  after(async () => {
    await s?.stop();
  });

  test('401 without credentials, but /version, /healthz and /readyz are public', async () => {
    const r = await call('GET', '/api/v1/namespaces', undefined, {}, false);
    assert.equal(r.code, 401);
    assert.equal(r.body.kind, 'Status');
    assert.equal(r.body.reason, 'Unauthorized');
    assert.equal((await call('GET', '/version', undefined, {}, false)).body.minor, '32');
    assert.equal((await call('GET', '/readyz', undefined, {}, false)).body.text, 'ok');
  });

  test('404 for unknown objects and resources', async () => {
    const r = await call('GET', '/api/v1/namespaces/default/configmaps/nope');
    assert.equal(r.code, 404);
    assert.equal(r.body.reason, 'NotFound');
    assert.equal(r.body.message, 'configmaps "nope" not found');
    assert.equal(r.body.details.name, 'nope');
    assert.equal((await call('GET', '/apis/nope.example.com/v1/things')).code, 404);
    const noNs = await call('POST', '/api/v1/namespaces/missing/configmaps', JSON.stringify({ metadata: { name: 'x' } }));
    assert.equal(noNs.code, 404);
    assert.equal(noNs.body.message, 'namespaces "missing" not found');
  });

  test('400 for malformed JSON, 415 for an unknown media type, 413 for a huge body', async () => {
    const bad = await call('POST', '/api/v1/namespaces/default/configmaps', '{"metadata": ');
    assert.equal(bad.code, 400);
    assert.equal(bad.body.reason, 'BadRequest');
    const media = await call('POST', '/api/v1/namespaces/default/configmaps', 'x', { 'Content-Type': 'text/plain' });
    assert.equal(media.code, 415);
    assert.equal(media.body.reason, 'UnsupportedMediaType');
    const huge = JSON.stringify({ metadata: { name: 'huge' }, data: { a: 'x'.repeat(4 * 1024 * 1024) } });
    const big = await call('POST', '/api/v1/namespaces/default/configmaps', huge);
    assert.equal(big.code, 413);
    assert.equal(big.body.reason, 'RequestEntityTooLarge');
  });

  test('405 for a verb the resource does not have', async () => {
    const r = await call('POST', '/api/v1/namespaces/default/configmaps/x', JSON.stringify({ metadata: { name: 'x' } }));
    assert.equal(r.code, 405);
    assert.equal(r.body.reason, 'MethodNotAllowed');
  });

  test('409 AlreadyExists and Conflict on a stale resourceVersion', async () => {
    const cm = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c1' }, data: { a: '1' } });
    const created = await call('POST', '/api/v1/namespaces/default/configmaps', cm);
    assert.equal(created.code, 201);
    const again = await call('POST', '/api/v1/namespaces/default/configmaps', cm);
    assert.equal(again.code, 409);
    assert.equal(again.body.reason, 'AlreadyExists');
    const update = { ...created.body, data: { a: '2' } };
    assert.equal((await call('PUT', '/api/v1/namespaces/default/configmaps/c1', JSON.stringify(update))).code, 200);
    const stale = await call('PUT', '/api/v1/namespaces/default/configmaps/c1', JSON.stringify({ ...update, data: { a: '3' } }));
    assert.equal(stale.code, 409);
    assert.equal(stale.body.reason, 'Conflict');
    const now = await call('GET', '/api/v1/namespaces/default/configmaps/c1');
    assert.equal(now.body.data.a, '2', 'the conflicting write changed nothing');
  });

  test('422 Invalid with one cause per bad field', async () => {
    const bad = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'Bad_Name', labels: { 'bad key!': 'x' } },
      spec: { replicas: -1, selector: { matchLabels: { app: 'a' } }, template: { metadata: { labels: { app: 'b' } }, spec: { containers: [] } } },
    };
    const r = await call('POST', '/apis/apps/v1/namespaces/default/deployments', JSON.stringify(bad));
    assert.equal(r.code, 422);
    assert.equal(r.body.reason, 'Invalid');
    const fields = r.body.details.causes.map((c: { field: string }) => c.field);
    for (const field of ['metadata.name', 'spec.replicas', 'spec.template.metadata.labels', 'spec.template.spec.containers']) {
      assert.ok(fields.includes(field), `a cause for ${field} in ${JSON.stringify(fields)}`);
    }
    assert.match(r.body.message, /^Deployment\.apps "Bad_Name" is invalid: /);
  });

  test('strict field validation names the unknown field', async () => {
    const body = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'strict' }, dataa: {} });
    const r = await call('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Strict', body);
    assert.equal(r.code, 400);
    assert.match(r.body.message, /unknown field "dataa"/);
    const warn = await call('POST', '/api/v1/namespaces/default/configmaps?fieldValidation=Warn', body);
    assert.equal(warn.code, 201);
    assert.match(String(warn.headers.warning), /unknown field \\?"dataa\\?"/);
  });

  test('the server is still healthy and the data intact after all that', async () => {
    const list = await call('GET', '/api/v1/namespaces/default/configmaps');
    assert.equal(list.code, 200);
    const names = list.body.items.map((i: { metadata: { name: string } }) => i.metadata.name).filter((n: string) => n !== 'kube-root-ca.crt');
    assert.deepEqual(names.sort(), ['c1', 'strict']);
  });
});
