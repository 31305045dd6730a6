// kubectl's everyday verbs against skiff: edit, label, annotate, scale,
// patch (three types), replace, diff, delete with cascading options, get -w.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type TestServer, eventually, startServer } from './harness.ts';

const deployment = (name: string, replicas = 1) =>
  JSON.stringify({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'web', image: 'nginx:1.14.2', ports: [{ containerPort: 80 }] }] },
      },
    },
  });

describe('kubectl verbs', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
    await s.k(['create', '-f', '-'], deployment('web', 2));
  });
  after(async () => {
    await s?.stop();
  });

  test('label and annotate, with --overwrite and removal', async () => {
    await s.k(['label', 'deploy', 'web', 'team=a']);
    const again = await s.kubectl(['label', 'deploy', 'web', 'team=b']);
    assert.notEqual(again.code, 0, 'relabel without --overwrite fails');
    await s.k(['label', 'deploy', 'web', 'team=b', '--overwrite']);
    await s.k(['annotate', 'deploy', 'web', 'note=hello']);
    let dep = JSON.parse(await s.k(['get', 'deploy', 'web', '-o', 'json']));
    assert.equal(dep.metadata.labels.team, 'b');
    assert.equal(dep.metadata.annotations.note, 'hello');
    await s.k(['label', 'deploy', 'web', 'team-']);
    dep = JSON.parse(await s.k(['get', 'deploy', 'web', '-o', 'json']));
    assert.equal(dep.metadata.labels?.team, undefined);
  });

  test('scale through the scale subresource', async () => {
    assert.match(await s.k(['scale', 'deploy', 'web', '--replicas=4']), /deployment.apps\/web scaled/);
    assert.equal(await s.k(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}']), '4');
    const scale = JSON.parse(await s.k(['get', '--raw', '/apis/apps/v1/namespaces/default/deployments/web/scale']));
    assert.equal(scale.kind, 'Scale');
    assert.equal(scale.spec.replicas, 4);
    assert.equal(scale.status.selector, 'app=web');
    const stale = await s.kubectl(['scale', 'deploy', 'web', '--replicas=1', '--resource-version=1']);
    assert.notEqual(stale.code, 0);
    assert.match(stale.stderr, /the object has been modified|Expected resource version/);
  });

  test('patch: strategic (merge by container name), merge and json', async () => {
    await s.k(['patch', 'deploy', 'web', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.15"}]}}}}']);
    let dep = JSON.parse(await s.k(['get', 'deploy', 'web', '-o', 'json']));
    assert.equal(dep.spec.template.spec.containers.length, 1);
    assert.equal(dep.spec.template.spec.containers[0].image, 'nginx:1.15');
    assert.equal(dep.spec.template.spec.containers[0].ports[0].containerPort, 80, 'other fields of the container survive');
    await s.k(['patch', 'deploy', 'web', '--type=merge', '-p', '{"metadata":{"labels":{"merged":"yes"}}}']);
    await s.k(['patch', 'deploy', 'web', '--type=json', '-p', '[{"op":"replace","path":"/spec/replicas","value":3}]']);
    dep = JSON.parse(await s.k(['get', 'deploy', 'web', '-o', 'json']));
    assert.equal(dep.metadata.labels.merged, 'yes');
    assert.equal(dep.spec.replicas, 3);
    const failed = await s.kubectl(['patch', 'deploy', 'web', '--type=json', '-p', '[{"op":"test","path":"/spec/replicas","value":9}]']);
    assert.notEqual(failed.code, 0);
  });

  test('edit with an editor that changes the image', async () => {
    const editor = join(s.dataDir, 'editor.sh');
    writeFileSync(editor, '#!/bin/sh\nsed -i "s/image: nginx:1.15/image: nginx:1.16/" "$1"\n');
    chmodSync(editor, 0o755);
    const result = await s.kubectl(['edit', 'deploy', 'web'], { env: { ...process.env, KUBE_EDITOR: editor } });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /deployment.apps\/web edited/);
    assert.equal(await s.k(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.template.spec.containers[0].image}']), 'nginx:1.16');
  });

  test('replace and diff', async () => {
    const current = JSON.parse(await s.k(['get', 'deploy', 'web', '-o', 'json']));
    current.spec.replicas = 7;
    await s.k(['replace', '-f', '-'], JSON.stringify(current));
    assert.equal(await s.k(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}']), '7');
    const stale = await s.kubectl(['replace', '-f', '-'], { input: JSON.stringify(current) });
    assert.notEqual(stale.code, 0, 'replacing with a stale resourceVersion conflicts');
    assert.match(stale.stderr, /Conflict|has been modified/);
    const changed = { ...current, metadata: { name: 'web' }, spec: { ...current.spec, replicas: 9 } };
    delete changed.status;
    const diff = await s.kubectl(['diff', '-f', '-'], { input: JSON.stringify(changed) });
    assert.equal(diff.code, 1, `diff exits 1 when there are differences: ${diff.stderr}`);
    assert.match(diff.stdout, /-\s+replicas: 7/);
    assert.match(diff.stdout, /\+\s+replicas: 9/);
    assert.equal(await s.k(['get', 'deploy', 'web', '-o', 'jsonpath={.spec.replicas}']), '7', 'diff is a dry run');
  });

  test('get -w prints changes as they happen', async () => {
    await s.k(['create', 'configmap', 'first', '--from-literal=a=1']);
    const watcher = spawn('kubectl', ['--kubeconfig', s.kubeconfig, 'get', 'configmaps', '-w', '--request-timeout=20s'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    watcher.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    try {
      await eventually(async () => /^first\s+1\s+/m.test(out), 10_000, 'listed configmap row');
      await s.k(['create', 'configmap', 'watched', '--from-literal=a=1', '--from-literal=b=2']);
      await eventually(async () => /^watched\s+2\s+/m.test(out), 10_000, 'watched configmap row');
    } finally {
      watcher.kill();
    }
  });

  test('delete with cascading options records them on the object', async () => {
    // A finalizer of our own keeps each deployment visible after delete, to read what was recorded.
    const held = (name: string) => {
      const obj = JSON.parse(deployment(name));
      obj.metadata.finalizers = ['example.com/hold'];
      return JSON.stringify(obj);
    };
    await s.k(['create', '-f', '-'], held('orphaned'));
    await s.k(['create', '-f', '-'], held('foreground'));
    const orphan = await s.k(['delete', 'deploy', 'orphaned', '--cascade=orphan', '--wait=false']);
    assert.match(orphan, /deployment.apps "orphaned" deleted/);
    const fg = await s.k(['delete', 'deploy', 'foreground', '--cascade=foreground', '--wait=false']);
    assert.match(fg, /deployment.apps "foreground" deleted/);
    const recorded = JSON.parse(await s.k(['get', 'deploy', 'foreground', '-o', 'json']));
    assert.ok(recorded.metadata.deletionTimestamp);
    assert.ok(recorded.metadata.finalizers.includes('example.com/hold'));
    const orphaned = JSON.parse(await s.k(['get', 'deploy', 'orphaned', '-o', 'json']));
    assert.ok(orphaned.metadata.deletionTimestamp);
    for (const name of ['orphaned', 'foreground']) {
      await s.k(['patch', 'deploy', name, '--type=json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
    }
    for (const name of ['orphaned', 'foreground']) {
      const gone = await s.kubectl(['get', 'deploy', name]);
      assert.match(gone.stderr, /not found/, `${name} goes once the last finalizer does`);
    }
    assert.match(await s.k(['delete', 'deploy', 'web']), /deployment.apps "web" deleted/);
    const gone = await s.kubectl(['get', 'deploy', 'web']);
    assert.match(gone.stderr, /NotFound|not found/);
  });
});
