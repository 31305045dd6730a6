// Real kubectl 1.32 against a tiny loopback server that serves discovery and
// these OpenAPI documents: explain must find fields and descriptions.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ResourceDef } from '../registry/types.ts';
import { createSchemaSource } from '../schema/index.ts';
import { createOpenApiDocs } from './docs.ts';
import { negotiateOpenApiV2, OPENAPI_V2_PROTOBUF_RESPONSE } from './v2.ts';

const KUBECTL = '/usr/bin/kubectl';
/** kubectl explain with a cold cache takes well under a second on loopback; this bounds a hang. */
const KUBECTL_TIMEOUT_MS = 15_000;

const strategy = { columns: [], cells: () => [] };
const resources: ResourceDef[] = [
  {
    group: '',
    kind: 'Pod',
    listKind: 'PodList',
    plural: 'pods',
    singular: 'pod',
    namespaced: true,
    shortNames: ['po'],
    versions: ['v1'],
    storageVersion: 'v1',
    subresources: { status: true },
    strategy,
  },
  {
    group: 'apps',
    kind: 'Deployment',
    listKind: 'DeploymentList',
    plural: 'deployments',
    singular: 'deployment',
    namespaced: true,
    shortNames: ['deploy'],
    versions: ['v1', 'v1beta1'],
    storageVersion: 'v1',
    subresources: {
      status: true,
      scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' },
    },
    strategy,
  },
  {
    group: 'example.com',
    kind: 'Widget',
    listKind: 'WidgetList',
    plural: 'widgets',
    singular: 'widget',
    namespaced: true,
    versions: ['v1'],
    storageVersion: 'v1',
    subresources: {},
    strategy,
  },
];

function resourceList(groupVersion: string, group: string, version: string) {
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion,
    resources: resources
      .filter((r) => r.group === group && r.versions.includes(version))
      .map((r) => ({
        name: r.plural,
        singularName: r.singular,
        namespaced: r.namespaced,
        kind: r.kind,
        shortNames: r.shortNames,
        verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      })),
  };
}

type Seen = { method: string; url: string; contentType?: string; body: string };
const seen: Seen[] = [];
const stored = new Map<string, unknown>();

function startServer(): Promise<Server> {
  const source = createSchemaSource();
  source.addRoot('example.com', 'v1', 'Widget', {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        description: 'Widget spec.',
        properties: { size: { type: 'integer', description: 'How big the widget is.' } },
      },
    },
  });
  const docs = createOpenApiDocs({ all: () => resources, onChange: () => () => {} }, source);
  const groups = ['apps', 'example.com'];
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const send = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(typeof body === 'string' ? body : JSON.stringify(body));
    };
    const p = url.pathname;
    let body = '';
    for await (const chunk of req) body += chunk;
    seen.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], body });
    // Just enough of deployments for `kubectl apply`: get, create, and a patch that only records the request.
    const item = /^\/apis\/apps\/v1\/namespaces\/default\/deployments(?:\/([^/]+))?$/.exec(p);
    if (item && req.method === 'POST') {
      const obj = JSON.parse(body);
      stored.set(obj.metadata.name, obj);
      return send(201, obj);
    }
    if (item?.[1] && (req.method === 'GET' || req.method === 'PATCH')) {
      const obj = stored.get(item[1]);
      return obj
        ? send(200, obj)
        : send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
    }
    if (p === '/version') return send(200, { major: '1', minor: '32', gitVersion: 'v1.32.0' });
    if (p === '/api') return send(200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] });
    if (p === '/apis')
      return send(200, {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: groups.map((g) => {
          const versions = [...new Set(resources.filter((r) => r.group === g).flatMap((r) => r.versions))];
          const gv = versions.map((v) => ({ groupVersion: `${g}/${v}`, version: v }));
          return { name: g, versions: gv, preferredVersion: gv[0] };
        }),
      });
    if (p === '/api/v1') return send(200, resourceList('v1', '', 'v1'));
    const gvMatch = /^\/apis\/([^/]+)\/([^/]+)$/.exec(p);
    if (gvMatch) return send(200, resourceList(`${gvMatch[1]}/${gvMatch[2]}`, gvMatch[1], gvMatch[2]));
    if (p === '/openapi/v2') {
      const format = negotiateOpenApiV2(req.headers.accept);
      if (format === 'not-acceptable') return send(406, { kind: 'Status', code: 406 });
      if (format === 'protobuf') {
        res.writeHead(200, { 'content-type': OPENAPI_V2_PROTOBUF_RESPONSE });
        return res.end(docs.v2Protobuf().body);
      }
      return send(200, docs.v2().body);
    }
    if (p === '/openapi/v3') return send(200, docs.v3Index());
    if (p.startsWith('/openapi/v3/')) {
      const doc = docs.v3(p.slice('/openapi/v3/'.length));
      return doc ? send(200, doc.body) : send(404, { kind: 'Status', code: 404 });
    }
    send(404, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'NotFound', code: 404 });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

describe('kubectl 1.32 reads the OpenAPI documents', { skip: !existsSync(KUBECTL) && 'kubectl not installed' }, () => {
  let server: Server;
  let cacheDir: string;
  const kubectl = (...args: string[]): Promise<string> => {
    const port = (server.address() as AddressInfo).port;
    const argv = ['--server', `http://127.0.0.1:${port}`, '--cache-dir', cacheDir, ...args];
    return new Promise((resolve, reject) => {
      execFile(
        KUBECTL,
        argv,
        { env: { ...process.env, KUBECONFIG: '/dev/null' }, timeout: KUBECTL_TIMEOUT_MS },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout + stderr)),
      );
    });
  };
  before(async () => {
    server = await startServer();
    cacheDir = mkdtempSync(join(tmpdir(), 'skiff-kubectl-'));
  });
  after(() => {
    server.close();
    rmSync(cacheDir, { recursive: true, force: true });
  });

  test('explain pods.spec.containers shows fields with descriptions', async () => {
    const out = await kubectl('explain', 'pods.spec.containers');
    assert.match(out, /KIND:\s+Pod/);
    assert.match(out, /FIELD:\s+containers <\[\]Container>/);
    assert.match(out, /List of containers belonging to the pod/);
    assert.match(out, /image\s+<string>/);
    assert.match(out, /Container image name/);
  });

  test('explain deployment.spec.strategy --api-version=apps/v1, plain and --recursive', async () => {
    const out = await kubectl('explain', 'deployment.spec.strategy', '--api-version=apps/v1');
    assert.match(out, /GROUP:\s+apps/);
    assert.match(
      out,
      /rollingUpdate\s+<RollingUpdateDeployment>\s+Spec to control the desired behavior of rolling update/,
    );
    assert.match(out, /Type of deployment. Can be "Recreate" or "RollingUpdate"/);
    const rec = await kubectl('explain', 'deployment.spec.strategy', '--api-version=apps/v1', '--recursive');
    assert.match(rec, /maxSurge\s+<IntOrString>/);
    assert.match(rec, /maxUnavailable\s+<IntOrString>/);
  });

  test('apply: v3 handshake makes kubectl send fieldValidation=Strict; the update is a strategic merge patch', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'skiff-apply-'));
    const manifest = (image: string) =>
      JSON.stringify({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web' },
        spec: {
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: {
              containers: [
                { name: 'web', image },
                { name: 'side', image: 'busybox' },
              ],
            },
          },
        },
      });
    try {
      writeFileSync(join(dir, 'd.json'), manifest('nginx:1'));
      assert.match(await kubectl('apply', '-f', join(dir, 'd.json')), /deployment.apps\/web created/);
      const post = seen.find((r) => r.method === 'POST');
      assert.match(post?.url ?? '', /fieldValidation=Strict/);
      writeFileSync(join(dir, 'd.json'), manifest('nginx:2'));
      const out = await kubectl('apply', '-f', join(dir, 'd.json'));
      assert.match(out, /configured/);
      assert.doesNotMatch(out, /warning/);
      const patch = seen.find((r) => r.method === 'PATCH');
      assert.equal(patch?.contentType, 'application/strategic-merge-patch+json');
      assert.match(patch?.url ?? '', /fieldValidation=Strict/);
      // The merge key (name) from the OpenAPI turns the list change into a keyed entry.
      const sent = JSON.parse(patch?.body ?? '{}');
      assert.deepEqual(sent.spec.template.spec.containers, [{ image: 'nginx:2', name: 'web' }]);
      // Computed from the v3 document: kubectl falls back to /openapi/v2 only when v3 cannot do it.
      assert.equal(
        seen.filter((r) => r.url.startsWith('/openapi/v2')).length,
        0,
        JSON.stringify(seen.map((r) => r.url)),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('explain --output=plaintext-openapiv2 reads the protobuf v2 document, CRDs included', async () => {
    const out = await kubectl(
      'explain',
      'deployment.spec.strategy',
      '--api-version=apps/v1',
      '--output=plaintext-openapiv2',
    );
    assert.match(out, /rollingUpdate\s+<Object>/);
    assert.match(out, /Type of deployment. Can be "Recreate" or "RollingUpdate"/);
    const widget = await kubectl('explain', 'widgets.spec', '--output=plaintext-openapiv2');
    assert.match(widget, /size\s+<integer>/);
    assert.match(widget, /How big the widget is/);
    assert.ok(seen.some((r) => r.url.startsWith('/openapi/v2')));
  });

  test('explain finds legacy versions and CRD schemas', async () => {
    const old = await kubectl('explain', 'deployment.spec.rollbackTo', '--api-version=apps/v1beta1');
    assert.match(old, /revision\s+<integer>/);
    const widget = await kubectl('explain', 'widgets.spec');
    assert.match(widget, /size\s+<integer>/);
    assert.match(widget, /How big the widget is/);
  });
});
