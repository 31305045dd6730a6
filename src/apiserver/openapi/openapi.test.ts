import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ResourceDef } from '../registry/types.ts';
import { createSchemaSource } from '../schema/index.ts';
import { buildOpenApiV2, buildOpenApiV3, negotiateOpenApiV2, toV3Schema } from './index.ts';

const strategy = { columns: [], cells: () => [] };
const resources: ResourceDef[] = [
  {
    group: 'apps',
    kind: 'Deployment',
    listKind: 'DeploymentList',
    plural: 'deployments',
    singular: 'deployment',
    namespaced: true,
    versions: ['v1', 'v1beta1'],
    storageVersion: 'v1',
    subresources: {
      status: true,
      scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' },
    },
    strategy,
  },
  {
    group: '',
    kind: 'Namespace',
    listKind: 'NamespaceList',
    plural: 'namespaces',
    singular: 'namespace',
    namespaced: false,
    versions: ['v1'],
    storageVersion: 'v1',
    subresources: { status: true },
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
const source = createSchemaSource();
source.addRoot('example.com', 'v1', 'Widget', { type: 'object', properties: { spec: { type: 'object' } } });

describe('OpenAPI v3', () => {
  const set = buildOpenApiV3(resources, source);
  // biome-ignore lint/suspicious/noExplicitAny: documents are open JSON
  const doc = (key: string) => JSON.parse(set.groupVersions.get(key)!.json) as any;

  test('the root index points at each group/version by content hash', () => {
    const paths = set.index.doc.paths as Record<string, { serverRelativeURL: string }>;
    assert.deepEqual(Object.keys(paths), ['api/v1', 'apis/apps/v1', 'apis/apps/v1beta1', 'apis/example.com/v1']);
    assert.equal(
      paths['apis/apps/v1'].serverRelativeURL,
      `/openapi/v3/apis/apps/v1?hash=${set.groupVersions.get('apis/apps/v1')!.etag}`,
    );
  });

  test('PATCH carries the GVK, fieldValidation and strategic merge for built-ins only', () => {
    const patch = doc('apis/apps/v1beta1').paths['/apis/apps/v1beta1/namespaces/{namespace}/deployments/{name}'].patch;
    assert.deepEqual(patch['x-kubernetes-group-version-kind'], {
      group: 'apps',
      version: 'v1beta1',
      kind: 'Deployment',
    });
    assert.ok(
      patch.parameters.some((p: { name: string; in: string }) => p.name === 'fieldValidation' && p.in === 'query'),
    );
    assert.ok('application/strategic-merge-patch+json' in patch.requestBody.content);
    const crd = doc('apis/example.com/v1').paths['/apis/example.com/v1/namespaces/{namespace}/widgets/{name}'].patch;
    assert.ok(!('application/strategic-merge-patch+json' in crd.requestBody.content));
    assert.ok('application/apply-patch+yaml' in crd.requestBody.content);
  });

  test('components are v3-referenced, closed under $ref, and carry list semantics', () => {
    const apps = doc('apis/apps/v1');
    const schemas = apps.components.schemas;
    const text = JSON.stringify(apps);
    assert.ok(!text.includes('#/definitions/'));
    for (const m of text.matchAll(/"#\/components\/schemas\/([^"]+)"/g)) assert.ok(m[1] in schemas, `missing ${m[1]}`);
    const containers = schemas['io.k8s.api.core.v1.PodSpec'].properties.containers;
    assert.equal(containers['x-kubernetes-patch-merge-key'], 'name');
    assert.deepEqual(containers['x-kubernetes-list-map-keys'], ['name']);
    assert.deepEqual(schemas['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind'], [
      { group: 'apps', version: 'v1', kind: 'Deployment' },
    ]);
    assert.ok(apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'].put);
    assert.ok(schemas['io.k8s.api.autoscaling.v1.Scale']);
    assert.deepEqual(schemas['io.k8s.apimachinery.pkg.util.intstr.IntOrString'].oneOf, [
      { type: 'integer' },
      { type: 'string' },
    ]);
  });

  test('cluster-scoped resources have no namespace paths; CRD roots get apiVersion, kind, metadata and a List', () => {
    const core = doc('api/v1');
    assert.ok(core.paths['/api/v1/namespaces/{name}'].get);
    assert.ok(!Object.keys(core.paths).some((p) => p.includes('{namespace}')));
    const widget = doc('apis/example.com/v1').components.schemas['com.example.v1.Widget'];
    assert.deepEqual(Object.keys(widget.properties).sort(), ['apiVersion', 'kind', 'metadata', 'spec']);
    assert.ok(doc('apis/example.com/v1').components.schemas['com.example.v1.WidgetList']);
  });

  test('toV3Schema wraps a $ref with siblings in allOf', () => {
    assert.deepEqual(toV3Schema({ $ref: '#/definitions/A', description: 'd' }), {
      allOf: [{ $ref: '#/components/schemas/A' }],
      description: 'd',
    });
    assert.deepEqual(toV3Schema({ $ref: '#/definitions/A' }), { $ref: '#/components/schemas/A' });
  });
});

describe('OpenAPI v2', () => {
  test('one swagger document with every resource version and their definitions', () => {
    // biome-ignore lint/suspicious/noExplicitAny: documents are open JSON
    const doc = JSON.parse(buildOpenApiV2(resources, source).json) as any;
    assert.equal(doc.swagger, '2.0');
    const patch = doc.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}'].patch;
    assert.ok(patch.consumes.includes('application/strategic-merge-patch+json'));
    assert.ok(doc.definitions['io.k8s.api.apps.v1beta1.Deployment']);
    assert.ok(doc.definitions['com.example.v1.Widget']);
  });

  test('negotiation: the first acceptable of JSON and protobuf (either spelling), else 406', () => {
    assert.equal(negotiateOpenApiV2('application/com.github.proto-openapi.spec.v2@v1.0+protobuf'), 'protobuf');
    assert.equal(negotiateOpenApiV2('application/com.github.proto-openapi.spec.v2.v1.0+protobuf'), 'protobuf');
    assert.equal(
      negotiateOpenApiV2('application/json, application/com.github.proto-openapi.spec.v2@v1.0+protobuf'),
      'json',
    );
    assert.equal(
      negotiateOpenApiV2('application/json;q=0, application/com.github.proto-openapi.spec.v2@v1.0+protobuf'),
      'protobuf',
    );
    assert.equal(negotiateOpenApiV2('application/json, */*'), 'json');
    assert.equal(negotiateOpenApiV2(undefined), 'json');
    assert.equal(negotiateOpenApiV2('text/html'), 'not-acceptable');
  });
});
