import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { staleConntrackDeletes } from './conntrack.ts';
import { OPTIONS, service, slice } from './fixtures.test-helpers.ts';
import { iptablesRestore } from './iptables.ts';
import { servicePorts } from './service-ports.ts';

const dns = service('dns', {
  type: 'NodePort',
  clusterIP: '10.96.0.20',
  ports: [{ name: 'dns', port: 53, protocol: 'UDP', nodePort: 30053 }],
});
const dnsSlice = (...ips: string[]) =>
  slice(
    'dns',
    ips.map((ip) => ({ ip })),
    [{ name: 'dns', port: 53, protocol: 'UDP' }],
  );

describe('staleConntrackDeletes', () => {
  test('a UDP endpoint that goes: its flows via the ClusterIP and the NodePort are deleted', () => {
    const prev = servicePorts([dns], [dnsSlice('10.244.0.2', '10.244.0.3')], 'n1');
    const next = servicePorts([dns], [dnsSlice('10.244.0.2')], 'n1');
    assert.deepEqual(staleConntrackDeletes(prev, next), [
      ['-p', 'udp', '--orig-dst', '10.96.0.20', '--orig-port-dst', '53', '--dst-nat', '10.244.0.3'],
      ['-p', 'udp', '--orig-port-dst', '30053', '--dst-nat', '10.244.0.3'],
    ]);
  });

  test('a UDP Service getting its first endpoint: flows made while it had none are deleted', () => {
    const prev = servicePorts([dns], [], 'n1');
    const next = servicePorts([dns], [dnsSlice('10.244.0.2')], 'n1');
    assert.deepEqual(staleConntrackDeletes(prev, next), [
      ['-p', 'udp', '--orig-dst', '10.96.0.20', '--orig-port-dst', '53'],
      ['-p', 'udp', '--orig-port-dst', '30053'],
    ]);
  });

  test('TCP changes and unchanged UDP endpoints need nothing', () => {
    const web = service('web', { clusterIP: '10.96.0.5', ports: [{ port: 80 }] });
    const prev = servicePorts(
      [web, dns],
      [slice('web', [{ ip: '10.244.0.2' }], [{ port: 80 }]), dnsSlice('10.244.0.2')],
      'n1',
    );
    const next = servicePorts([web, dns], [dnsSlice('10.244.0.2')], 'n1');
    assert.deepEqual(staleConntrackDeletes(prev, next), []);
  });
});

describe('iptablesRestore (fallback without nft)', () => {
  test('statistic spread, recent affinity, DNAT, reject without endpoints, masquerade chain', () => {
    const ports = servicePorts(
      [
        service('web', { clusterIP: '10.96.0.5', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] }),
        service('empty', { clusterIP: '10.96.0.6', ports: [{ port: 80 }] }),
      ],
      [slice('web', [{ ip: '10.244.0.2' }, { ip: '10.244.0.3' }, { ip: '10.244.0.4' }], [{ port: 8080 }])],
      'n1',
    );
    const { nat, filter, chains } = iptablesRestore(ports, OPTIONS);
    assert.ok(
      chains.every((c) => c.length <= 28),
      'iptables chain names fit',
    );
    assert.match(nat, /-A SKIFF-PROXY-SERVICES -d 10\.96\.0\.5\/32 -p tcp -m tcp --dport 80 -j SKIFF-SVC-[0-9A-F]{16}/);
    const probabilities = [...nat.matchAll(/--probability ([0-9.]+)/g)].map((m) => Number(m[1]));
    assert.deepEqual(
      probabilities.map((p) => p.toFixed(3)),
      ['0.333', '0.500'],
      'equal spread over three',
    );
    assert.equal([...nat.matchAll(/--rcheck --seconds 10800 --reap/g)].length, 3);
    assert.match(
      nat,
      /-p tcp -m recent --name SKIFF-SEP-[0-9A-F]{16} --set -j DNAT --to-destination 10\.244\.0\.2:8080/,
    );
    assert.match(
      filter,
      /-A SKIFF-PROXY-FILTER -d 10\.96\.0\.6\/32 -p tcp -m tcp --dport 80 -j REJECT --reject-with tcp-reset/,
    );
    assert.match(nat, /-A SKIFF-PROXY-POSTROUTING -j MASQUERADE --random-fully/);
  });
});
