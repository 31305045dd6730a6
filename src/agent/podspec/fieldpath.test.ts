import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../api/types.ts';
import { formatMap, goQuote, podFieldValue, resourceFieldValue } from './fieldpath.ts';
import { ContainerConfigError } from './types.ts';

const pod: KubeObject = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'ns', uid: 'u', labels: { zone: 'a', app: 'web' }, annotations: { 'x/y': 'multi\nline "q"' } },
  spec: {},
  status: { podIP: '10.0.0.3', podIPs: [{ ip: '10.0.0.3' }], hostIP: '192.168.0.1' },
};

test('whole labels and annotations use FormatMap (sorted, Go-quoted)', () => {
  assert.equal(podFieldValue(pod, 'metadata.labels'), 'app="web"\nzone="a"');
  assert.equal(podFieldValue(pod, 'metadata.annotations'), 'x/y="multi\\nline \\"q\\""');
  assert.equal(formatMap(undefined), '');
  assert.equal(goQuote('tab\there\x01\x7f'), '"tab\\there\\x01\\x7f"');
});

test('status fields come from the pod status unless runtime values are given', () => {
  assert.equal(podFieldValue(pod, 'status.podIP'), '10.0.0.3');
  assert.equal(podFieldValue(pod, 'status.hostIP'), '192.168.0.1');
  assert.equal(podFieldValue(pod, 'status.hostIPs'), '192.168.0.1');
  assert.equal(podFieldValue(pod, 'status.podIPs', { podIPs: ['10.0.0.9', 'fd00::9'] }), '10.0.0.9,fd00::9');
  assert.throws(() => podFieldValue(pod, 'spec.containers'), (e: unknown) => e instanceof ContainerConfigError && e.message === 'unsupported fieldPath: spec.containers');
});

test('resourceFieldValue rounds up after dividing', () => {
  const c = { resources: { limits: { cpu: '1500m', memory: '100M' }, requests: { cpu: '1m' } } };
  assert.equal(resourceFieldValue({ container: c, resource: 'limits.cpu' }), '2');
  assert.equal(resourceFieldValue({ container: c, resource: 'limits.cpu', divisor: '1m' }), '1500');
  assert.equal(resourceFieldValue({ container: c, resource: 'limits.memory', divisor: '1Mi' }), '96');
  assert.equal(resourceFieldValue({ container: c, resource: 'requests.cpu' }), '1');
  assert.equal(resourceFieldValue({ container: c, resource: 'requests.memory' }), '0');
  assert.equal(resourceFieldValue({ container: {}, resource: 'limits.memory', allocatable: { memory: 1024 } }), '1024');
  assert.throws(() => resourceFieldValue({ container: c, resource: 'limits.gpu' }), /unsupported container resource/);
});
