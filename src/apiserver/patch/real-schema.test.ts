// Strategic merge patch against the generated Kubernetes definitions, so the
// patch metadata is read the way the real schemas spell it.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createSchemaSource } from '../schema/index.ts';
import { applyPatch } from './index.ts';

// biome-ignore lint/suspicious/noExplicitAny: test documents are open JSON
type Doc = any;

const source = createSchemaSource();
const schemaOf = (group: string, version: string, kind: string) => {
  const schema = source.root(group, version, kind);
  assert.ok(schema, `${kind} schema`);
  return schema;
};

describe('strategic merge patch with the generated schemas', () => {
  const deploymentSchema = schemaOf('apps', 'v1', 'Deployment');
  const live: Doc = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', finalizers: ['x'], ownerReferences: [{ uid: 'u1', name: 'o' }] },
    spec: {
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1 } },
      template: {
        spec: {
          containers: [
            { name: 'nginx', image: 'nginx:1.14', env: [{ name: 'A', value: '1' }], ports: [{ containerPort: 80 }] },
          ],
          volumes: [{ name: 'v', configMap: { name: 'c' } }],
          tolerations: [{ key: 'a' }],
        },
      },
    },
  };

  test('kubectl apply shapes merge by the real merge keys and strategies', () => {
    const out = applyPatch(
      'strategic',
      live,
      {
        metadata: { finalizers: ['y'], ownerReferences: [{ uid: 'u1', kind: 'K' }] },
        spec: {
          strategy: { $retainKeys: ['type'], type: 'Recreate' },
          template: {
            spec: {
              '$setElementOrder/containers': [{ name: 'nginx' }],
              containers: [{ name: 'nginx', image: 'nginx:1.15', env: [{ name: 'B', value: '2' }] }],
              volumes: [{ $retainKeys: ['emptyDir', 'name'], name: 'v', emptyDir: {} }],
              tolerations: [{ key: 'b' }],
            },
          },
        },
      },
      { schema: deploymentSchema, source },
    ) as Doc;
    assert.deepEqual(out.metadata.finalizers, ['y', 'x']);
    assert.deepEqual(out.metadata.ownerReferences, [{ uid: 'u1', name: 'o', kind: 'K' }]);
    assert.deepEqual(out.spec.strategy, { type: 'Recreate' });
    const pod = out.spec.template.spec;
    assert.deepEqual(pod.containers, [
      {
        name: 'nginx',
        image: 'nginx:1.15',
        env: [
          { name: 'B', value: '2' },
          { name: 'A', value: '1' },
        ],
        ports: [{ containerPort: 80 }],
      },
    ]);
    assert.deepEqual(pod.volumes, [{ name: 'v', emptyDir: {} }]);
    assert.deepEqual(pod.tolerations, [{ key: 'b' }]);
  });

  test('Service ports merge by port', () => {
    const svc: Doc = { spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443 }] } };
    const out = applyPatch(
      'strategic',
      svc,
      { spec: { ports: [{ port: 80, name: 'http' }] } },
      {
        schema: schemaOf('', 'v1', 'Service'),
        source,
      },
    ) as Doc;
    assert.deepEqual(out.spec.ports, [{ port: 80, targetPort: 8080, name: 'http' }, { port: 443 }]);
  });
});
