import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../api/types.ts';
import { invalidKeysMessage, isEnvVarName, mergeImageEnv, resolveEnv } from './env.ts';
import { ContainerConfigError, type ObjectGetter } from './types.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const objects = (items: KubeObject[]): ObjectGetter => (ns, name) => items.find((o) => o.metadata.namespace === ns && o.metadata.name === name);
const configMaps = objects([
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace: 'ns', name: 'cfg' }, data: { color: 'blue', size: 'L', 'bad key': 'x', '1st': 'y' } },
]);
const secrets = objects([{ apiVersion: 'v1', kind: 'Secret', metadata: { namespace: 'ns', name: 'sec' }, data: { password: b64('s3cret') } }]);

function pod(container: object, extra: object = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { namespace: 'ns', name: 'web-1', uid: 'uid-1', labels: { app: 'web' }, annotations: { note: 'hi' } },
    spec: { nodeName: 'node-a', serviceAccountName: 'robot', containers: [{ name: 'c', ...container }], ...extra },
  };
}

async function envOf(container: object, extra: Partial<Parameters<typeof resolveEnv>[0]> = {}) {
  const p = pod(container);
  return resolveEnv({ pod: p, container: p.spec.containers[0], getConfigMap: configMaps, getSecret: secrets, ...extra });
}

describe('resolveEnv', () => {
  test('values, $(VAR) expansion against earlier vars and service env, later names win', async () => {
    const { env } = await envOf(
      {
        env: [
          { name: 'A', value: 'a' },
          { name: 'B', value: '$(A)-$(LATER)-$(SVC_SERVICE_HOST)-$$(A)' },
          { name: 'LATER', value: 'l' },
          { name: 'A', value: 'again' },
          { name: 'EMPTY', value: '' },
        ],
      },
      { serviceEnv: [{ name: 'SVC_SERVICE_HOST', value: '10.0.0.1' }, { name: 'A', value: 'from-service' }] },
    );
    assert.deepEqual(env, ['A=again', 'B=a-$(LATER)-10.0.0.1-$(A)', 'LATER=l', 'EMPTY=', 'SVC_SERVICE_HOST=10.0.0.1']);
  });

  test('fieldRef paths', async () => {
    const paths = [
      'metadata.name',
      'metadata.namespace',
      'metadata.uid',
      "metadata.labels['app']",
      "metadata.annotations['note']",
      "metadata.labels['none']",
      'spec.nodeName',
      'spec.serviceAccountName',
      'status.hostIP',
      'status.hostIPs',
      'status.podIP',
      'status.podIPs',
    ];
    const { env } = await envOf(
      { env: paths.map((fieldPath, i) => ({ name: `F${i}`, valueFrom: { fieldRef: { fieldPath } } })) },
      { podIP: '10.1.0.5', hostIPs: ['192.168.1.2', 'fd00::2'] },
    );
    assert.deepEqual(
      env.map((e) => e.split('=')[1]),
      ['web-1', 'ns', 'uid-1', 'web', 'hi', '', 'node-a', 'robot', '192.168.1.2', '192.168.1.2,fd00::2', '10.1.0.5', '10.1.0.5'],
    );
  });

  test('resourceFieldRef with divisor, defaulting limits to node allocatable', async () => {
    const { env } = await envOf(
      {
        resources: { requests: { cpu: '250m', memory: '32Mi' }, limits: { memory: '64Mi' } },
        env: [
          { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
          { name: 'CPU_REQ_M', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
          { name: 'CPU_REQ', valueFrom: { resourceFieldRef: { resource: 'requests.cpu' } } },
          { name: 'MEM_LIMIT_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
          { name: 'MEM_REQ', valueFrom: { resourceFieldRef: { resource: 'requests.memory' } } },
        ],
      },
      { nodeAllocatable: { cpu: 2, memory: 8 * 2 ** 30 } },
    );
    assert.deepEqual(env, ['CPU_LIMIT=2', 'CPU_REQ_M=250', 'CPU_REQ=1', 'MEM_LIMIT_MI=64', 'MEM_REQ=33554432']);
  });

  test('configMapKeyRef and secretKeyRef, optional references skipped', async () => {
    const { env } = await envOf({
      env: [
        { name: 'COLOR', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'color' } } },
        { name: 'PW', valueFrom: { secretKeyRef: { name: 'sec', key: 'password' } } },
        { name: 'OPT1', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'nope', optional: true } } },
        { name: 'OPT2', valueFrom: { secretKeyRef: { name: 'gone', key: 'k', optional: true } } },
      ],
    });
    assert.deepEqual(env, ['COLOR=blue', 'PW=s3cret']);
  });

  test('missing references fail with the kubelet messages', async () => {
    const fails = async (env: object[], message: string) =>
      assert.rejects(envOf({ env }), (err: unknown) => {
        assert.ok(err instanceof ContainerConfigError);
        assert.equal(err.reason, 'CreateContainerConfigError');
        assert.equal(err.message, message);
        return true;
      });
    await fails([{ name: 'X', valueFrom: { configMapKeyRef: { name: 'x', key: 'k' } } }], 'configmap "x" not found');
    await fails([{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'y' } } }], "couldn't find key y in ConfigMap ns/cfg");
    await fails([{ name: 'X', valueFrom: { secretKeyRef: { name: 'x', key: 'k' } } }], 'secret "x" not found');
    await fails([{ name: 'X', valueFrom: { secretKeyRef: { name: 'sec', key: 'y' } } }], "couldn't find key y in Secret ns/sec");
    await assert.rejects(envOf({ envFrom: [{ configMapRef: { name: 'x' } }] }), /configmap "x" not found/);
  });

  test('envFrom before env, with prefix; invalid keys skipped and listed', async () => {
    const result = await envOf({
      envFrom: [{ configMapRef: { name: 'cfg' } }, { prefix: 'S_', secretRef: { name: 'sec' } }, { secretRef: { name: 'gone', optional: true } }],
      env: [{ name: 'color', value: 'red' }],
    });
    assert.deepEqual(result.env, ['color=red', 'size=L', 'S_password=s3cret']);
    assert.deepEqual(result.invalidKeys, [{ kind: 'ConfigMap', namespace: 'ns', name: 'cfg', keys: ['1st', 'bad key'] }]);
    assert.equal(
      invalidKeysMessage(result.invalidKeys[0]),
      'Keys [1st, bad key] from the EnvFrom configMap ns/cfg were skipped since they are considered invalid environment variable names.',
    );
  });

  test('nodeName falls back to the agent when the pod object has none yet', async () => {
    const p = pod({ env: [{ name: 'N', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }] });
    delete p.spec.nodeName;
    const { env } = await resolveEnv({ pod: p, container: p.spec.containers[0], getConfigMap: configMaps, getSecret: secrets, nodeName: 'me' });
    assert.deepEqual(env, ['N=me']);
  });
});

test('isEnvVarName', () => {
  for (const ok of ['A', 'a_b', '_x', 'x.y', 'x-y', '.hidden']) assert.ok(isEnvVarName(ok), ok);
  for (const bad of ['', '1a', 'a b', 'a=b', 'ä']) assert.ok(!isEnvVarName(bad), bad);
});

test('mergeImageEnv: image first, overrides keep their place, new names follow', () => {
  assert.deepEqual(mergeImageEnv(['PATH=/bin', 'HOME=/root', 'LANG=C'], ['HOME=/home/app', 'NEW=1']), [
    'PATH=/bin',
    'HOME=/home/app',
    'LANG=C',
    'NEW=1',
  ]);
  assert.deepEqual(mergeImageEnv(undefined, ['A=1']), ['A=1']);
});
