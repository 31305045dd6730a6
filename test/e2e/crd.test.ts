// CustomResourceDefinitions: a CRD is served at once, custom objects are
// validated against its schema, printed with its columns, explained, and
// removed with it.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestServer, eventually, startServer } from './harness.ts';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;
const crontab = (name: string, spec: object) =>
  JSON.stringify({ apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name }, spec });

describe('custom resources', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(async () => {
    await s?.stop();
  });

  test('a CRD becomes Established and its kind is discoverable', async () => {
    assert.match(await s.k(['apply', '-f', fixture('crontab-crd.yaml')]), /customresourcedefinition.apiextensions.k8s.io\/crontabs.stable.example.com created/);
    await s.k(['wait', '--for=condition=established', '--timeout=20s', 'crd/crontabs.stable.example.com']);
    await eventually(async () => /^crontabs\s+ct\s+stable\.example\.com\/v1\s+true\s+CronTab$/m.test(await s.k(['api-resources'])), 10_000, 'crontabs in api-resources');
  });

  test('custom objects are defaulted, validated and printed with the CRD columns', async () => {
    assert.match(await s.k(['apply', '-f', '-'], crontab('nightly', { cronSpec: '0 3 * * *', image: 'backup:1' })), /crontab.stable.example.com\/nightly created/);
    const obj = JSON.parse(await s.k(['get', 'ct', 'nightly', '-o', 'json']));
    assert.equal(obj.spec.replicas, 1, 'schema default applied');
    const table = await s.k(['get', 'crontabs']);
    assert.match(table, /^NAME\s+SPEC\s+REPLICAS\s+AGE$/m);
    assert.match(table, /^nightly\s+0 3 \* \* \*\s+1\s+\d+s$/m);
    const bad = await s.kubectl(['apply', '-f', '-'], { input: crontab('bad', { cronSpec: 'whenever', replicas: 0 }) });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /spec\.cronSpec/);
    assert.match(bad.stderr, /spec\.replicas/);
    const unknown = await s.kubectl(['apply', '-f', '-'], { input: crontab('typo', { cronSpec: '* * * * *', imagee: 'x' }) });
    assert.notEqual(unknown.code, 0, 'kubectl validates strictly by default');
    assert.match(unknown.stderr, /unknown field "spec\.imagee"/);
  });

  test('merge patch, scale and status subresources work; strategic merge is refused', async () => {
    await s.k(['patch', 'ct', 'nightly', '--type=merge', '-p', '{"spec":{"image":"backup:2"}}']);
    await s.k(['scale', 'ct', 'nightly', '--replicas=3']);
    const obj = JSON.parse(await s.k(['get', 'ct', 'nightly', '-o', 'json']));
    assert.equal(obj.spec.image, 'backup:2');
    assert.equal(obj.spec.replicas, 3);
    const smp = await s.kubectl(['patch', 'ct', 'nightly', '--type=strategic', '-p', '{"spec":{"image":"x"}}']);
    assert.notEqual(smp.code, 0);
    assert.match(smp.stderr, /UnsupportedMediaType|unknown format|not supported/i);
  });

  test('explain reads the CRD schema', async () => {
    const out = await s.k(['explain', 'crontab.spec.cronSpec']);
    assert.match(out, /When to run, in cron syntax\./);
  });

  test('deleting the CRD removes its objects and the kind', async () => {
    await s.k(['delete', 'crd', 'crontabs.stable.example.com', '--timeout=30s']);
    await eventually(async () => !(await s.k(['api-resources'])).includes('CronTab'), 10_000, 'CronTab gone from discovery');
    await s.k(['apply', '-f', fixture('crontab-crd.yaml')]);
    await s.k(['wait', '--for=condition=established', '--timeout=20s', 'crd/crontabs.stable.example.com']);
    const list = await s.kubectl(['get', 'crontabs']);
    assert.match(list.stderr, /No resources found/, 'objects did not survive their CRD');
  });
});
