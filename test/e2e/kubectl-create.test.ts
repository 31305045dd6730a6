// kubectl's imperative `create` commands send Kubernetes protobuf bodies.
// Each command here runs twice: with --dry-run=client -o json (the object
// kubectl builds) and for real; what the server stores must contain all of
// the first.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import YAML from 'yaml';
import { ensureTls } from '../../src/apiserver/certs.ts';
import { type TestServer, startServer } from './harness.ts';

/**
 * `expected` ⊆ `actual`: every field kubectl set is stored unchanged. null
 * and {} carry nothing (Go prints unset times as null, unset structs as {}).
 */
function assertContains(actual: unknown, expected: unknown, path = ''): void {
  if (expected === null) return;
  if (typeof expected === 'object' && !Array.isArray(expected) && Object.keys(expected).length === 0) return;
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: not an array`);
    assert.equal(actual.length, expected.length, `${path}: length`);
    for (const [i, e] of expected.entries()) assertContains(actual[i], e, `${path}[${i}]`);
  } else if (typeof expected === 'object') {
    assert.ok(typeof actual === 'object' && actual !== null, `${path}: not an object`);
    for (const [k, v] of Object.entries(expected))
      assertContains((actual as Record<string, unknown>)[k], v, `${path}.${k}`);
  } else {
    assert.equal(actual, expected, path);
  }
}

describe('kubectl create (protobuf request bodies)', () => {
  let s: TestServer;
  let files: string;
  before(async () => {
    s = await startServer();
    files = mkdtempSync(join(tmpdir(), 'skiff-create-'));
    writeFileSync(join(files, 'blob.bin'), Buffer.from(Array.from({ length: 256 }, (_, i) => i)));
    const tls = await ensureTls(join(files, 'tls'), { dnsNames: ['example.com'], ips: [] });
    writeFileSync(join(files, 'tls.crt'), tls.certPem);
    writeFileSync(join(files, 'tls.key'), tls.keyPem);
  });
  after(async () => {
    await s?.stop();
    if (files) rmSync(files, { recursive: true, force: true });
  });

  /** Runs `kubectl ...command ...args [-- ...tail]` dry and for real; returns the stored object. */
  async function createAndCompare(
    resource: string,
    command: string[],
    args: string[] = [],
    tail: string[] = [],
    name = command[command.length - 1],
  ) {
    const built = JSON.parse(await s.k([...command, ...args, '--dry-run=client', '-o', 'json', ...tail]));
    const out = await s.k([...command, ...args, ...tail]);
    assert.match(out, /created|exposed/);
    const stored = JSON.parse(await s.k(['get', resource, name, '-o', 'json']));
    // The server owns status: a create resets it, as in Kubernetes.
    assertContains({ ...stored, status: undefined }, { ...built, status: undefined });
    assert.ok(stored.metadata.uid, 'the server filled in metadata');
    return stored;
  }

  test('namespace and serviceaccount', async () => {
    await createAndCompare('namespace', ['create', 'namespace', 'demo']);
    await createAndCompare('serviceaccount', ['create', 'serviceaccount', 'robot']);
  });

  test('configmap with literals and a binary file', async () => {
    const cm = await createAndCompare(
      'configmap',
      ['create', 'configmap', 'cfg'],
      ['--from-literal=a=b', '--from-literal=c=d', `--from-file=blob=${join(files, 'blob.bin')}`],
    );
    assert.deepEqual(cm.data, { a: 'b', c: 'd' });
    assert.deepEqual(Buffer.from(cm.binaryData.blob, 'base64'), readFileSync(join(files, 'blob.bin')));
  });

  test('secrets: generic and tls', async () => {
    const generic = await createAndCompare(
      'secret',
      ['create', 'secret', 'generic', 'creds'],
      ['--from-literal=user=admin', '--from-literal=pass=s3cr3t'],
    );
    assert.equal(Buffer.from(generic.data.pass, 'base64').toString(), 's3cr3t');
    const tls = await createAndCompare(
      'secret',
      ['create', 'secret', 'tls', 'web-tls'],
      [`--cert=${join(files, 'tls.crt')}`, `--key=${join(files, 'tls.key')}`],
    );
    assert.equal(tls.type, 'kubernetes.io/tls');
    assert.equal(Buffer.from(tls.data['tls.crt'], 'base64').toString(), readFileSync(join(files, 'tls.crt'), 'utf8'));
  });

  test('services: clusterip with a named target port, nodeport, externalname', async () => {
    const svc = await createAndCompare(
      'service',
      ['create', 'service', 'clusterip', 'web'],
      ['--tcp=80:8080', '--tcp=443:https'],
    );
    assert.deepEqual(
      svc.spec.ports.map((p: { targetPort: unknown }) => p.targetPort),
      [8080, 'https'],
    );
    const np = await createAndCompare(
      'service',
      ['create', 'service', 'nodeport', 'np'],
      ['--tcp=8080:80', '--node-port=30080'],
    );
    assert.equal(np.spec.ports[0].nodePort, 30080);
    await createAndCompare('service', ['create', 'service', 'externalname', 'ext'], ['--external-name=example.com']);
  });

  test('deployments, including replicas 0', async () => {
    const web = await createAndCompare(
      'deployment',
      ['create', 'deployment', 'web'],
      ['--image=nginx:1.27', '--replicas=3', '--port=80'],
    );
    assert.equal(web.spec.replicas, 3);
    assert.equal(web.spec.template.spec.containers[0].ports[0].containerPort, 80);
    const zero = await createAndCompare(
      'deployment',
      ['create', 'deployment', 'zero'],
      ['--image=nginx', '--replicas=0'],
    );
    assert.equal(zero.spec.replicas, 0);
  });

  test('job and cronjob', async () => {
    const job = await createAndCompare('job', ['create', 'job', 'once'], ['--image=busybox'], ['--', 'echo', 'hi']);
    assert.deepEqual(job.spec.template.spec.containers[0].command, ['echo', 'hi']);
    const cron = await createAndCompare(
      'cronjob',
      ['create', 'cronjob', 'tick'],
      ['--image=busybox', '--schedule=*/5 * * * *'],
      ['--', 'date'],
    );
    assert.equal(cron.spec.schedule, '*/5 * * * *');
  });

  test('ingress with rules, tls and annotations', async () => {
    const ing = await createAndCompare(
      'ingress',
      ['create', 'ingress', 'web'],
      ['--class=default', '--rule=example.com/=web:80', '--rule=foo.com/bar*=svc:8080,tls=my-cert', '--annotation=a=b'],
    );
    assert.equal(ing.spec.rules.length, 2);
    assert.deepEqual(ing.spec.tls, [{ hosts: ['foo.com'], secretName: 'my-cert' }]);
  });

  test('kubectl run and expose (these two send JSON) still work next to the protobuf ones', async () => {
    await createAndCompare(
      'pod',
      ['run', 'pod1'],
      ['--image=nginx', '--labels=app=x,tier=y', '--env=A=1', '--port=80', '--command'],
      ['--', 'sleep', '3600'],
    );
    const svc = await createAndCompare(
      'service',
      ['expose', 'deployment', 'web'],
      ['--port=80', '--target-port=8080', '--name=web-svc'],
      [],
      'web-svc',
    );
    assert.deepEqual(svc.spec.selector, { app: 'web' });
  });

  test('a malformed protobuf body is a 400 Status, not a crash', async () => {
    const config = YAML.parse(readFileSync(s.kubeconfig, 'utf8'));
    const ca = Buffer.from(config.clusters[0].cluster['certificate-authority-data'], 'base64').toString();
    const reply = await new Promise<{ code: number; body: Record<string, unknown> }>((resolve, reject) => {
      const req = request(
        new URL('/api/v1/namespaces/default/configmaps', s.url),
        {
          method: 'POST',
          ca,
          headers: {
            Authorization: `Bearer ${config.users[0].user.token}`,
            'Content-Type': 'application/vnd.kubernetes.protobuf',
          },
        },
        (res) => {
          let text = '';
          res.on('data', (c) => {
            text += c;
          });
          res.on('end', () => resolve({ code: res.statusCode ?? 0, body: JSON.parse(text) }));
        },
      );
      req.on('error', reject);
      req.end(Buffer.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0x50, 0x01]));
    });
    assert.equal(reply.code, 400);
    assert.equal(reply.body.kind, 'Status');
    assert.equal(reply.body.reason, 'BadRequest');
    assert.equal((await s.kubectl(['get', '--raw', '/readyz'])).code, 0);
  });
});
