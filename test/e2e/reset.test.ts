// `skiff reset` leaves a node as if skiff had never run pods on it: no
// containers, no mounts, no pod network namespaces, no bridge.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { canRunContainers } from '../../src/agent/runtime/testing.ts';
import { buildTestImages } from '../images/build.ts';
import { eventually, run, startServer, type TestServer } from './harness.ts';

const skip = canRunContainers() ?? false;
const ROOT = new URL('../../', import.meta.url).pathname;

describe('skiff reset', { skip }, () => {
  let s: TestServer;
  before(async () => {
    const images = await buildTestImages();
    s = await startServer([], { agent: true, images: [images.nginx1142] });
  });
  after(() => s?.stop());

  test('removes containers, mounts, pod networks and the bridge', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { containers: [{ name: 'web', image: 'nginx:1.14.2' }] } };
    await s.k(['apply', '-f', '-'], JSON.stringify(pod));
    await eventually(async () => JSON.parse(await s.k(['get', 'pod', 'web', '-o', 'json'])).status?.phase === 'Running', 30_000, 'web Running');
    await s.halt();
    const mountsBefore = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(s.dataDir));
    assert.ok(mountsBefore.length > 0, 'the running pod had mounts under the data dir');

    const reset = await run(process.execPath, [join(ROOT, 'bin/skiff.js'), 'reset', '--data-dir', s.dataDir]);
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stdout, /containers stopped and removed/);

    const mountsAfter = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(s.dataDir));
    assert.deepEqual(mountsAfter, []);
    const runcRoot = join(s.dataDir, 'agent', 'runc');
    assert.ok(!existsSync(runcRoot) || readdirSync(runcRoot).length === 0, 'no runc containers left');
    const links = await run('ip', ['-o', 'link', 'show']);
    assert.doesNotMatch(links.stdout, /skiff0/);
    assert.doesNotMatch(links.stdout, /\bskv[0-9a-f]{12}/);

    const purge = await run(process.execPath, [join(ROOT, 'bin/skiff.js'), 'reset', '--data-dir', s.dataDir, '--purge']);
    assert.equal(purge.code, 0, purge.stderr);
    assert.ok(!existsSync(s.dataDir), '--purge removes the data dir');
  });
});
