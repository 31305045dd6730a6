import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../api/types.ts';
import { namespaces, nodes, pods } from './core.ts';
import { configMaps, secrets } from './core-config.ts';
import { endpoints, services } from './core-network.ts';
import { coreToEventsV1, events, eventsV1, eventsV1ToCore } from './events.ts';
import { defaultPullPolicy } from './pod-defaults.ts';

const now = new Date('2024-05-01T12:00:00Z');
const messages = (causes: { field?: string; message?: string }[]) => causes.map((c) => `${c.field}: ${c.message}`);

describe('pods', () => {
  test('imagePullPolicy default', () => {
    assert.equal(defaultPullPolicy('nginx'), 'Always');
    assert.equal(defaultPullPolicy('nginx:latest'), 'Always');
    assert.equal(defaultPullPolicy('nginx:1.25'), 'IfNotPresent');
    assert.equal(defaultPullPolicy('localhost:5000/nginx'), 'Always');
    assert.equal(defaultPullPolicy('nginx@sha256:abc'), 'IfNotPresent');
  });

  test('defaults and prepareForCreate', () => {
    const pod: KubeObject = {
      metadata: { name: 'p', namespace: 'default' },
      spec: {
        containers: [{ name: 'c', image: 'nginx', ports: [{ containerPort: 80 }], resources: { limits: { cpu: '1', memory: '1Gi' } } }],
      },
    };
    pods.strategy.defaults?.(pod, 'v1');
    pods.strategy.prepareForCreate?.(pod);
    const spec = pod.spec;
    assert.equal(spec.restartPolicy, 'Always');
    assert.equal(spec.dnsPolicy, 'ClusterFirst');
    assert.equal(spec.terminationGracePeriodSeconds, 30);
    assert.equal(spec.schedulerName, 'default-scheduler');
    assert.deepEqual(spec.securityContext, {});
    assert.equal(spec.enableServiceLinks, true);
    assert.equal(spec.serviceAccountName, 'default');
    assert.equal(spec.containers[0].imagePullPolicy, 'Always');
    assert.equal(spec.containers[0].terminationMessagePolicy, 'File');
    assert.deepEqual(spec.containers[0].ports, [{ containerPort: 80, protocol: 'TCP' }]);
    assert.deepEqual(spec.containers[0].resources.requests, { cpu: '1', memory: '1Gi' });
    assert.equal(spec.tolerations.length, 2);
    assert.deepEqual(pod.status, { phase: 'Pending', qosClass: 'Guaranteed' });
    assert.deepEqual(pods.strategy.validate?.(pod, undefined), []);
    assert.equal(pods.strategy.fields?.(pod)['spec.hostNetwork'], 'false');
  });

  test('validation messages', () => {
    const bad: KubeObject = {
      metadata: { name: 'p' },
      spec: { containers: [{ name: 'Web' }, { name: 'Web', image: 'x', ports: [{ containerPort: 70000, protocol: 'ICMP' }] }] },
    };
    pods.strategy.defaults?.(bad, 'v1');
    assert.deepEqual(messages(pods.strategy.validate?.(bad, undefined) ?? []), [
      "spec.containers[0].name: Invalid value: \"Web\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      'spec.containers[0].image: Required value',
      "spec.containers[1].name: Invalid value: \"Web\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
      'spec.containers[1].name: Duplicate value: "Web"',
      'spec.containers[1].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive',
      'spec.containers[1].ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"',
    ]);
    assert.deepEqual(messages(pods.strategy.validate?.({ metadata: {}, spec: { restartPolicy: 'Always', dnsPolicy: 'ClusterFirst' } }, undefined) ?? []), [
      'spec.containers: Required value',
    ]);
  });

  test('updates may only change images and a few fields', () => {
    const old: KubeObject = { metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'a' }] } };
    pods.strategy.defaults?.(old, 'v1');
    const image = structuredClone(old);
    image.spec.containers[0].image = 'b';
    assert.deepEqual(pods.strategy.validate?.(image, old), []);
    const env = structuredClone(old);
    env.spec.containers[0].env = [{ name: 'X', value: '1' }];
    const [cause] = pods.strategy.validate?.(env, old) ?? [];
    assert.equal(cause.field, 'spec');
    assert.match(cause.message ?? '', /^Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`,/);
  });
});

describe('services and endpoints', () => {
  test('defaults', () => {
    const svc: KubeObject = { metadata: { name: 's' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } };
    services.strategy.defaults?.(svc, 'v1');
    assert.deepEqual(svc.spec, {
      selector: { app: 'web' },
      ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }],
      type: 'ClusterIP',
      sessionAffinity: 'None',
      internalTrafficPolicy: 'Cluster',
    });
    assert.deepEqual(services.strategy.validate?.(svc, undefined), []);
  });

  test('validation and table', () => {
    const svc: KubeObject = { metadata: { name: 's' }, spec: { type: 'Bogus', ports: [{ port: 0 }, { name: 'b', port: 8080 }] } };
    services.strategy.defaults?.(svc, 'v1');
    assert.deepEqual(messages(services.strategy.validate?.(svc, undefined) ?? []), [
      'spec.type: Unsupported value: "Bogus": supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
      'spec.ports[0].name: Required value',
      'spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive',
      'spec.ports[0].targetPort: Invalid value: 0: must be between 1 and 65535, inclusive',
    ]);
    const np: KubeObject = {
      metadata: { name: 's', creationTimestamp: '2024-05-01T11:59:50Z' },
      spec: { type: 'NodePort', clusterIPs: ['10.96.0.10'], ports: [{ port: 80, nodePort: 30080, protocol: 'TCP' }], selector: { app: 'web' } },
    };
    assert.deepEqual(services.strategy.cells(np, now), ['NodePort', '10.96.0.10', '<none>', '80:30080/TCP', '10s', 'app=web']);
    const lb = { ...np, spec: { ...np.spec, type: 'LoadBalancer' } };
    assert.equal(services.strategy.cells(lb, now)[2], '<pending>');
    assert.equal(services.strategy.nameRule?.('1abc', false).length, 1);
  });

  test('endpoints column lists three then "more"', () => {
    const ep: KubeObject = {
      metadata: { name: 'e' },
      subsets: [{ addresses: ['1', '2', '3', '4'].map((n) => ({ ip: `10.0.0.${n}` })), ports: [{ port: 80 }] }],
    };
    assert.equal(endpoints.strategy.cells(ep, now)[0], '10.0.0.1:80,10.0.0.2:80,10.0.0.3:80 + 1 more...');
    assert.equal(endpoints.strategy.cells({ metadata: { name: 'e' } }, now)[0], '<none>');
  });
});

describe('namespaces, nodes, configmaps, secrets', () => {
  test('namespace create', () => {
    const ns: KubeObject = { metadata: { name: 'team-a' } };
    namespaces.strategy.defaults?.(ns, 'v1');
    namespaces.strategy.prepareForCreate?.(ns);
    assert.deepEqual(ns.metadata.labels, { 'kubernetes.io/metadata.name': 'team-a' });
    assert.deepEqual(ns.spec, { finalizers: ['kubernetes'] });
    assert.deepEqual(namespaces.strategy.cells({ ...ns, status: { phase: 'Active' } }, now), ['Active', '<unknown>']);
    assert.equal(namespaces.strategy.nameRule?.('a.b', false).length, 1);
  });

  test('node row', () => {
    const node: KubeObject = {
      metadata: { name: 'n1', labels: { 'node-role.kubernetes.io/control-plane': '' } },
      spec: { unschedulable: true },
      status: {
        conditions: [{ type: 'Ready', status: 'True' }],
        addresses: [{ type: 'InternalIP', address: '192.168.1.2' }],
        nodeInfo: { kubeletVersion: 'v1.32.0', osImage: 'Debian', kernelVersion: '6.1', containerRuntimeVersion: 'runc://1.1' },
      },
    };
    assert.deepEqual(nodes.strategy.cells(node, now), [
      'Ready,SchedulingDisabled',
      'control-plane',
      '<unknown>',
      'v1.32.0',
      '192.168.1.2',
      '<none>',
      'Debian',
      '6.1',
      'runc://1.1',
    ]);
    assert.deepEqual(nodes.strategy.fields?.(node), { 'spec.unschedulable': 'true' });
  });

  test('configmap keys and immutability', () => {
    const cm: KubeObject = { metadata: { name: 'c' }, data: { 'bad key': 'v', ok: 'v' } };
    assert.deepEqual(messages(configMaps.strategy.validate?.(cm, undefined) ?? []), [
      "data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
    ]);
    const frozen: KubeObject = { metadata: { name: 'c' }, immutable: true, data: { a: '1' } };
    const changed = { ...frozen, data: { a: '2' } };
    assert.deepEqual(messages(configMaps.strategy.validate?.(changed, frozen) ?? []), ['data: Forbidden: field is immutable when `immutable` is set']);
    assert.deepEqual(configMaps.strategy.cells({ ...frozen, binaryData: { b: 'AA==' } }, now), [2, '<unknown>']);
  });

  test('secret stringData, type and table', () => {
    const s: KubeObject = { metadata: { name: 's' }, stringData: { user: 'admin' }, data: { user: 'eA==', pw: 'cA==' } };
    secrets.strategy.defaults?.(s, 'v1');
    assert.equal(s.type, 'Opaque');
    assert.equal(s.stringData, undefined);
    assert.deepEqual(s.data, { user: Buffer.from('admin').toString('base64'), pw: 'cA==' });
    assert.deepEqual(secrets.strategy.cells(s, now), ['Opaque', 2, '<unknown>']);
    const tls: KubeObject = { metadata: { name: 't' }, type: 'kubernetes.io/tls', data: {} };
    assert.deepEqual(messages(secrets.strategy.validate?.(tls, undefined) ?? []), ['data[tls.key]: Required value', 'data[tls.crt]: Required value']);
    const retyped = { ...s, type: 'kubernetes.io/basic-auth', data: { username: 'eA==' } };
    assert.deepEqual(messages(secrets.strategy.validate?.(retyped, s) ?? []), ['type: Invalid value: "kubernetes.io/basic-auth": field is immutable']);
  });
});

describe('events', () => {
  const ev: KubeObject = {
    metadata: { name: 'web.17a', namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'web', namespace: 'default', fieldPath: 'spec.containers{c}' },
    reason: 'Pulled',
    message: 'Pulled image  ',
    type: 'Normal',
    source: { component: 'kubelet', host: 'n1' },
    firstTimestamp: '2024-05-01T11:50:00Z',
    lastTimestamp: '2024-05-01T11:59:00Z',
    count: 3,
  };

  test('row has NAME last and wide', () => {
    assert.equal(events.strategy.includesNameColumn, true);
    assert.deepEqual(events.strategy.columns.filter((c) => c.priority === 0).map((c) => c.name), ['Last Seen', 'Type', 'Reason', 'Object', 'Message']);
    assert.deepEqual(events.strategy.cells(ev, now), [
      '60s',
      'Normal',
      'Pulled',
      'pod/web',
      'spec.containers{c}',
      'kubelet, n1',
      'Pulled image',
      '10m',
      3,
      'web.17a',
    ]);
    assert.equal(events.strategy.fields?.(ev)['involvedObject.name'], 'web');
    assert.equal(events.strategy.fields?.(ev).source, 'kubelet');
  });

  test('events.k8s.io/v1 is a view of core events', () => {
    const v1 = coreToEventsV1(ev);
    assert.equal(v1.note, 'Pulled image  ');
    assert.deepEqual(v1.regarding, ev.involvedObject);
    assert.equal(v1.deprecatedCount, 3);
    assert.deepEqual(eventsV1ToCore(v1), { ...ev, apiVersion: 'v1', kind: 'Event' });
    assert.deepEqual(eventsV1.strategy.cells(v1, now), events.strategy.cells(ev, now));
    assert.deepEqual(eventsV1.storage, { group: '', plural: 'events' });
    assert.deepEqual(eventsV1ToCore(ev), { ...ev, apiVersion: 'v1', kind: 'Event' }, 'converting a core event is a no-op');
    const wrongNs = { ...ev, metadata: { ...ev.metadata, namespace: 'other' } };
    assert.deepEqual(messages(events.strategy.validate?.(wrongNs, undefined) ?? []), [
      'involvedObject.namespace: Invalid value: "default": does not match event.namespace',
    ]);
  });
});
