// The seed walk-through's manifests, verbatim, through real kubectl: apply
// creates, configures and leaves unchanged; get prints what users expect.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestServer, startServer } from './harness.ts';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;

describe('seed manifests with kubectl apply', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(async () => {
    await s?.stop();
  });

  test('apply creates an apps/v1beta1 Deployment without a selector', async () => {
    const out = await s.k(['apply', '-f', fixture('seed-deployment.yaml')]);
    assert.equal(out.trim(), 'deployment.apps/nginx-deployment created');
    const dep = JSON.parse(await s.k(['get', 'deploy', 'nginx-deployment', '-o', 'json']));
    assert.equal(dep.apiVersion, 'apps/v1', 'kubectl reads the preferred version');
    assert.deepEqual(dep.spec.selector, { matchLabels: { app: 'nginx' } }, 'v1beta1 defaults the selector from template labels');
    assert.equal(dep.spec.replicas, 3);
    assert.equal(dep.metadata.generation, 1);
    assert.match(dep.metadata.uid, /^[0-9a-f-]{36}$/);
    assert.ok(dep.metadata.annotations['kubectl.kubernetes.io/last-applied-configuration']);
  });

  test('apply again unchanged, then configured with the version label', async () => {
    assert.equal((await s.k(['apply', '-f', fixture('seed-deployment.yaml')])).trim(), 'deployment.apps/nginx-deployment unchanged');
    const out = await s.k(['apply', '-f', fixture('seed-deployment-v1.yaml')]);
    assert.equal(out.trim(), 'deployment.apps/nginx-deployment configured');
    const dep = JSON.parse(await s.k(['get', 'deploy', 'nginx-deployment', '-o', 'json']));
    assert.deepEqual(dep.spec.template.metadata.labels, { app: 'nginx', version: 'v1' });
    assert.equal(dep.metadata.generation, 2, 'a template change bumps the generation');
  });

  test('a second deployment with overlapping labels', async () => {
    const out = await s.k(['apply', '-f', fixture('seed-new-deployment.yaml')]);
    assert.equal(out.trim(), 'deployment.apps/new-nginx-deployment created');
    const table = await s.k(['get', 'deploy']);
    const lines = table.trim().split('\n');
    assert.match(lines[0], /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE$/);
    assert.match(table, /^new-nginx-deployment\s+0\/2\s+\d\s+0\s+\d+s$/m, 'no nodes here: nothing becomes ready');
    assert.match(table, /^nginx-deployment\s+0\/3\s+\d\s+0\s+\d+s$/m);
  });

  test('get -o wide, jsonpath, yaml, --show-labels, -l and --field-selector', async () => {
    const wide = await s.k(['get', 'deploy', '-o', 'wide']);
    assert.match(wide.split('\n')[0], /CONTAINERS\s+IMAGES\s+SELECTOR/);
    assert.match(wide, /nginx-deployment\s.*nginx\s+nginx:1\.14\.2\s+app=nginx/);
    const names = await s.k(['get', 'deploy', '-o', 'jsonpath={.items[*].metadata.name}']);
    assert.equal(names, 'new-nginx-deployment nginx-deployment');
    const yaml = await s.k(['get', 'deploy', 'nginx-deployment', '-o', 'yaml']);
    assert.match(yaml, /^kind: Deployment$/m);
    assert.match(yaml, /^ {2}name: nginx-deployment$/m);
    await s.k(['label', 'deploy', 'nginx-deployment', 'tier=web']);
    const labelled = await s.k(['get', 'deploy', '--show-labels']);
    assert.match(labelled.split('\n')[0], /LABELS$/);
    assert.match(labelled, /^nginx-deployment\s.*tier=web$/m);
    const selected = await s.k(['get', 'deploy', '-l', 'tier=web', '-o', 'name']);
    assert.equal(selected.trim(), 'deployment.apps/nginx-deployment');
    const notSelected = await s.k(['get', 'deploy', '-l', '!tier', '-o', 'name']);
    assert.equal(notSelected.trim(), 'deployment.apps/new-nginx-deployment');
    const setBased = await s.k(['get', 'deploy', '-l', 'tier in (web,db)', '-o', 'name']);
    assert.equal(setBased.trim(), 'deployment.apps/nginx-deployment');
    const byName = await s.k(['get', 'deploy', '--field-selector', 'metadata.name=new-nginx-deployment', '-o', 'name']);
    assert.equal(byName.trim(), 'deployment.apps/new-nginx-deployment');
    const bad = await s.kubectl(['get', 'deploy', '--field-selector', 'spec.nope=1']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /field label not supported: spec\.nope/);
  });

  test('the same objects are served under every Deployment version', async () => {
    for (const version of ['apps/v1', 'apps/v1beta1', 'apps/v1beta2', 'extensions/v1beta1']) {
      const [group, v] = version.split('/');
      const raw = JSON.parse(await s.k(['get', '--raw', `/apis/${group}/${v}/namespaces/default/deployments/nginx-deployment`]));
      assert.equal(raw.apiVersion, version);
      assert.equal(raw.spec.replicas, 3);
    }
  });

  test('describe shows the deployment in kubectl words', async () => {
    const out = await s.k(['describe', 'deploy', 'nginx-deployment']);
    assert.match(out, /^Name:\s+nginx-deployment$/m);
    assert.match(out, /^Selector:\s+app=nginx$/m);
    assert.match(out, /^Replicas:\s+3 desired/m);
    assert.match(out, /Image:\s+nginx:1\.14\.2/);
  });

  test('server-side apply takes ownership and reports conflicts', async () => {
    const manifest = JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'ssa', namespace: 'default' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'ssa' } },
        template: { metadata: { labels: { app: 'ssa' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      },
    });
    assert.equal((await s.k(['apply', '--server-side', '-f', '-'], manifest)).trim(), 'deployment.apps/ssa serverside-applied');
    const dep = JSON.parse(await s.k(['get', 'deploy', 'ssa', '-o', 'json', '--show-managed-fields']));
    const kubectlEntry = dep.metadata.managedFields.find((m: { manager: string }) => m.manager === 'kubectl');
    assert.equal(kubectlEntry.operation, 'Apply');
    assert.ok(kubectlEntry.fieldsV1['f:spec']['f:replicas']);
    await s.k(['scale', 'deploy', 'ssa', '--replicas=5']);
    const conflict = await s.kubectl(['apply', '--server-side', '-f', '-'], { input: manifest });
    assert.notEqual(conflict.code, 0);
    assert.match(conflict.stderr, /conflict/i);
    assert.match(conflict.stderr, /\.spec\.replicas/);
    const forced = await s.k(['apply', '--server-side', '--force-conflicts', '-f', '-'], manifest);
    assert.match(forced, /serverside-applied/);
    assert.equal((await s.k(['get', 'deploy', 'ssa', '-o', 'jsonpath={.spec.replicas}'])), '2');
  });
});
