import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../api/types.ts';
import { serviceEnvForPod, serviceLinkEnv } from './service-env.ts';

const svc = (namespace: string, name: string, clusterIP: string, ports: object[]): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { namespace, name },
  spec: { clusterIP, ports },
});

test('serviceLinkEnv: host, ports, named ports and docker-link variables', () => {
  const env = serviceLinkEnv([
    svc('ns', 'my-db', '10.96.0.20', [
      { name: 'sql', port: 5432, protocol: 'TCP' },
      { name: 'metrics-http', port: 9187, protocol: 'UDP' },
    ]),
  ]);
  assert.deepEqual(Object.fromEntries(env.map((e) => [e.name, e.value])), {
    MY_DB_SERVICE_HOST: '10.96.0.20',
    MY_DB_SERVICE_PORT: '5432',
    MY_DB_SERVICE_PORT_SQL: '5432',
    MY_DB_SERVICE_PORT_METRICS_HTTP: '9187',
    MY_DB_PORT: 'tcp://10.96.0.20:5432',
    MY_DB_PORT_5432_TCP: 'tcp://10.96.0.20:5432',
    MY_DB_PORT_5432_TCP_PROTO: 'tcp',
    MY_DB_PORT_5432_TCP_PORT: '5432',
    MY_DB_PORT_5432_TCP_ADDR: '10.96.0.20',
    MY_DB_PORT_9187_UDP: 'udp://10.96.0.20:9187',
    MY_DB_PORT_9187_UDP_PROTO: 'udp',
    MY_DB_PORT_9187_UDP_PORT: '9187',
    MY_DB_PORT_9187_UDP_ADDR: '10.96.0.20',
  });
  assert.equal(env[0].name, 'MY_DB_SERVICE_HOST');
  assert.equal(serviceLinkEnv([svc('ns', 'v6', 'fd00::10', [{ port: 80 }])]).find((e) => e.name === 'V6_PORT')?.value, 'tcp://[fd00::10]:80');
});

test('headless and IP-less services give no variables', () => {
  assert.deepEqual(serviceLinkEnv([svc('ns', 'h', 'None', [{ port: 80 }]), svc('ns', 'e', '', [{ port: 80 }])]), []);
});

test('serviceEnvForPod: own namespace with enableServiceLinks, kubernetes from default always', () => {
  const services = [
    svc('default', 'kubernetes', '10.96.0.1', [{ name: 'https', port: 443 }]),
    svc('default', 'other', '10.96.0.9', [{ port: 80 }]),
    svc('ns', 'web', '10.96.0.30', [{ port: 80 }]),
  ];
  const pod = (enableServiceLinks?: boolean): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { namespace: 'ns', name: 'p' }, spec: { enableServiceLinks } });
  const names = (p: KubeObject) => serviceEnvForPod(p, services).filter((e) => e.name.endsWith('_SERVICE_HOST')).map((e) => e.name);
  assert.deepEqual(names(pod()), ['KUBERNETES_SERVICE_HOST', 'WEB_SERVICE_HOST']);
  assert.deepEqual(names(pod(false)), ['KUBERNETES_SERVICE_HOST']);
  // A service named kubernetes in the pod's namespace wins.
  const own = serviceEnvForPod(pod(), [...services, svc('ns', 'kubernetes', '10.96.0.77', [{ port: 1 }])]);
  assert.equal(own.find((e) => e.name === 'KUBERNETES_SERVICE_HOST')?.value, '10.96.0.77');
});
