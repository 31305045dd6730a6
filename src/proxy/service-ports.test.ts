import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { service, slice } from './fixtures.test-helpers.ts';
import { DEFAULT_AFFINITY_TIMEOUT_SECONDS, servicePorts } from './service-ports.ts';

describe('servicePorts', () => {
  test('one ServicePort per port, endpoints matched by port name and protocol, sorted', () => {
    const ports = servicePorts(
      [
        service('web', {
          clusterIP: '10.96.0.5',
          ports: [
            { name: 'http', port: 80 },
            { name: 'dns', port: 53, protocol: 'UDP' },
          ],
        }),
      ],
      [
        slice(
          'web',
          [{ ip: '10.244.0.3' }, { ip: '10.244.0.2' }],
          [
            { name: 'http', port: 8080 },
            { name: 'dns', port: 5353, protocol: 'UDP' },
          ],
        ),
      ],
      'n1',
    );
    assert.deepEqual(
      ports.map((p) => [p.key, p.port, p.clusterEndpoints.map((e) => `${e.ip}:${e.port}`)]),
      [
        ['ns1/web/tcp/http', 80, ['10.244.0.2:8080', '10.244.0.3:8080']],
        ['ns1/web/udp/dns', 53, ['10.244.0.2:5353', '10.244.0.3:5353']],
      ],
    );
  });

  test('only ready endpoints; serving-terminating ones when none is ready; none when neither', () => {
    const svc = service('web', { clusterIP: '10.96.0.5', ports: [{ port: 80 }] });
    const eps = (list: Parameters<typeof slice>[1]) =>
      servicePorts([svc], [slice('web', list, [{ port: 80 }])], 'n1')[0];
    const mixed = eps([
      { ip: '10.244.0.2' },
      { ip: '10.244.0.3', ready: false, serving: true, terminating: true },
      { ip: '10.244.0.4', ready: false },
    ]);
    assert.deepEqual(
      mixed.clusterEndpoints.map((e) => e.ip),
      ['10.244.0.2'],
    );
    const terminating = eps([
      { ip: '10.244.0.3', ready: false, serving: true, terminating: true },
      { ip: '10.244.0.4', ready: false },
    ]);
    assert.deepEqual(
      terminating.clusterEndpoints.map((e) => e.ip),
      ['10.244.0.3'],
    );
    const none = eps([{ ip: '10.244.0.4', ready: false }]);
    assert.deepEqual(none.clusterEndpoints, []);
    assert.equal(none.hasEndpoints, false);
  });

  test('local endpoints, policies, affinity, NodePort and LoadBalancer addresses; ExternalName and headless skipped', () => {
    const ports = servicePorts(
      [
        service(
          'lb',
          {
            type: 'LoadBalancer',
            clusterIP: '10.96.0.6',
            externalTrafficPolicy: 'Local',
            internalTrafficPolicy: 'Local',
            sessionAffinity: 'ClientIP',
            externalIPs: ['192.168.99.1'],
            ports: [{ port: 80, nodePort: 30080 }],
          },
          { loadBalancer: { ingress: [{ ip: '192.168.0.2' }] } },
        ),
        service('ext', { type: 'ExternalName', externalName: 'example.org' }),
        service('headless', { clusterIP: 'None', ports: [{ port: 80 }] }),
      ],
      [
        slice(
          'lb',
          [
            { ip: '10.244.0.2', node: 'n1' },
            { ip: '10.244.1.2', node: 'n2' },
          ],
          [{ port: 80 }],
        ),
      ],
      'n1',
    );
    assert.equal(ports.length, 1);
    const [lb] = ports;
    assert.equal(lb.nodePort, 30080);
    assert.deepEqual(lb.externalIps, ['192.168.99.1', '192.168.0.2']);
    assert.equal(lb.affinitySeconds, DEFAULT_AFFINITY_TIMEOUT_SECONDS);
    assert.equal(lb.externalLocal && lb.internalLocal, true);
    assert.deepEqual(
      lb.clusterEndpoints.map((e) => e.ip),
      ['10.244.0.2', '10.244.1.2'],
    );
    assert.deepEqual(
      lb.localEndpoints.map((e) => e.ip),
      ['10.244.0.2'],
    );
  });

  test('a ClusterIP Service keeps no node port even if one is set', () => {
    const [sp] = servicePorts(
      [service('a', { clusterIP: '10.96.0.5', ports: [{ port: 80, nodePort: 30001 }] })],
      [],
      'n1',
    );
    assert.equal(sp.nodePort, undefined);
  });
});
