// Discovery and OpenAPI as kubectl uses them: api-resources, api-versions,
// explain, and the same answers through the legacy and aggregated documents.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type TestServer, startServer } from './harness.ts';

describe('discovery and explain', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer();
  });
  after(async () => {
    await s?.stop();
  });

  test('api-versions lists every served group version', async () => {
    const versions = (await s.k(['api-versions'])).trim().split('\n');
    for (const gv of [
      'v1',
      'apps/v1',
      'apps/v1beta1',
      'apps/v1beta2',
      'extensions/v1beta1',
      'batch/v1',
      'discovery.k8s.io/v1',
      'networking.k8s.io/v1',
      'coordination.k8s.io/v1',
      'events.k8s.io/v1',
      'apiextensions.k8s.io/v1',
    ]) {
      assert.ok(versions.includes(gv), `${gv} in ${versions.join(' ')}`);
    }
  });

  test('api-resources shows names, short names, scope and kinds', async () => {
    const out = await s.k(['api-resources']);
    assert.match(out, /^pods\s+po\s+v1\s+true\s+Pod$/m);
    assert.match(out, /^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/m);
    assert.match(out, /^namespaces\s+ns\s+v1\s+false\s+Namespace$/m);
    assert.match(out, /^customresourcedefinitions\s+crd,crds\s+apiextensions\.k8s\.io\/v1\s+false\s+CustomResourceDefinition$/m);
    const wide = await s.k(['api-resources', '-o', 'wide', '--api-group=apps']);
    assert.match(wide, /deployments.*create,delete,deletecollection,get,list,patch,update,watch/);
  });

  test('the legacy per-group-version documents agree with the aggregated one', async () => {
    const apps = JSON.parse(await s.k(['get', '--raw', '/apis/apps/v1']));
    assert.equal(apps.kind, 'APIResourceList');
    const names = apps.resources.map((r: { name: string }) => r.name);
    for (const n of ['deployments', 'deployments/status', 'deployments/scale', 'replicasets', 'statefulsets', 'daemonsets']) {
      assert.ok(names.includes(n), n);
    }
    const group = JSON.parse(await s.k(['get', '--raw', '/apis/apps']));
    assert.equal(group.preferredVersion.version, 'v1');
  });

  test('explain prints fields and their descriptions', async () => {
    const out = await s.k(['explain', 'deployment.spec.strategy']);
    assert.match(out, /KIND:\s+Deployment/);
    assert.match(out, /GROUP:\s+apps\n/);
    assert.match(out, /VERSION:\s+v1\n/);
    assert.match(out, /rollingUpdate\s+<RollingUpdateDeployment>/);
    const pods = await s.k(['explain', 'pods.spec.containers.image']);
    assert.match(pods, /FIELD:\s+image <string>/);
    assert.match(pods, /Container image name/);
    const recursive = await s.k(['explain', 'service.spec', '--recursive']);
    assert.match(recursive, /clusterIP\s+<string>/);
  });
});
