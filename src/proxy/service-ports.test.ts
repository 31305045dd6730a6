import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { service, slice } from './fixtures.test-helpers.ts';
import {
  canonicalIpv4Cidr,
  DEFAULT_AFFINITY_TIMEOUT_SECONDS,
  LB_SOURCE_RANGES_ANNOTATION,
  loadBalancerSourceRanges,
  servicePorts,
} from './service-ports.ts';

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

  test('loadBalancerSourceRanges: LB ingress IPs kept apart from externalIPs; ranges canonical, IPv4 only, nested ones dropped', () => {
    const lb = (spec: Record<string, unknown>, annotations?: Record<string, string>) => {
      const svc = service(
        'lb',
        { type: 'LoadBalancer', clusterIP: '10.96.0.6', externalIPs: ['192.168.99.1'], ports: [{ port: 80 }], ...spec },
        { loadBalancer: { ingress: [{ ip: '192.168.0.2' }, { hostname: 'lb.example' }] } },
      );
      if (annotations) svc.metadata.annotations = annotations;
      return servicePorts([svc], [], 'n1')[0];
    };
    const sp = lb({
      loadBalancerSourceRanges: [' 10.1.2.3/16 ', '10.1.0.0/24', '2001:db8::/64', '192.168.7.9/32', 'junk'],
    });
    assert.deepEqual(sp.externalIps, ['192.168.99.1', '192.168.0.2']);
    assert.deepEqual(sp.loadBalancerIps, ['192.168.0.2']);
    assert.deepEqual(sp.sourceRanges, ['10.1.0.0/16', '192.168.7.9/32']);
    // The legacy annotation counts only while the field is empty.
    const annotation = { [LB_SOURCE_RANGES_ANNOTATION]: '10.0.0.0/8, 172.16.0.0/12' };
    assert.deepEqual(lb({}, annotation).sourceRanges, ['10.0.0.0/8', '172.16.0.0/12']);
    assert.deepEqual(lb({ loadBalancerSourceRanges: ['10.9.0.0/16'] }, annotation).sourceRanges, ['10.9.0.0/16']);
    assert.deepEqual(lb({}).sourceRanges, [], 'no ranges: every source');
    assert.deepEqual(lb({ loadBalancerSourceRanges: ['2001:db8::/64'] }).sourceRanges, [], 'IPv6 only: no IPv4 rule');
    // Not a LoadBalancer (or no LB address yet): nothing to guard.
    const np = servicePorts(
      [
        service('np', {
          type: 'NodePort',
          clusterIP: '10.96.0.7',
          loadBalancerSourceRanges: ['10.0.0.0/8'],
          ports: [{ port: 80 }],
        }),
      ],
      [],
      'n1',
    )[0];
    assert.deepEqual([np.loadBalancerIps, np.sourceRanges], [[], []]);
  });

  test('canonicalIpv4Cidr reads CIDRs the way the API accepts them', () => {
    assert.equal(canonicalIpv4Cidr('010.1.2.3/8'), '10.0.0.0/8');
    assert.equal(canonicalIpv4Cidr('0.0.0.0/0'), '0.0.0.0/0');
    assert.equal(canonicalIpv4Cidr('1.2.3.4/32'), '1.2.3.4/32');
    for (const bad of ['1.2.3.4', '1.2.3.256/8', '1.2.3.4/33', '::/0', ''])
      assert.equal(canonicalIpv4Cidr(bad), undefined, bad);
    const svc = service('x', {}, {});
    svc.metadata.annotations = { [LB_SOURCE_RANGES_ANNOTATION]: ' , ' };
    assert.deepEqual(loadBalancerSourceRanges(svc), []);
  });
});
