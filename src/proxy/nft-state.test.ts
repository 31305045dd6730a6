import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { guardedLoadBalancer, guardedLoadBalancerSlices, OPTIONS, service, slice } from './fixtures.test-helpers.ts';
import { nftScript, nftStatesEqual } from './nft-script.ts';
import { desiredNftState, hashName } from './nft-state.ts';
import { servicePorts } from './service-ports.ts';

const rulesOf = (script: string, chainPrefix: string) =>
  script
    .split('\n')
    .filter((l) => l.startsWith('add rule ip skiff-proxy ') && l.split(' ')[4].startsWith(chainPrefix))
    .map((l) => l.split(' ').slice(5).join(' '));

function scriptFor(
  services: Parameters<typeof servicePorts>[0],
  slices: Parameters<typeof servicePorts>[1],
  extra = {},
) {
  return nftScript(desiredNftState(servicePorts(services, slices, 'n1'), { ...OPTIONS, ...extra }));
}

describe('desiredNftState / nftScript', () => {
  test('ClusterIP: masquerade from outside the pod network, equal spread, DNAT per endpoint with hairpin masquerade', () => {
    const script = scriptFor(
      [service('web', { clusterIP: '10.96.0.5', ports: [{ name: 'http', port: 80 }] })],
      [slice('web', [{ ip: '10.244.0.2' }, { ip: '10.244.0.3' }], [{ name: 'http', port: 8080 }])],
    );
    const h = hashName('ns1/web/tcp/http');
    const ep2 = `endpoint-${hashName('ns1/web/tcp/http__10.244.0.2/8080')}-ns1/web/tcp/http__10.244.0.2/8080`;
    const ep3 = `endpoint-${hashName('ns1/web/tcp/http__10.244.0.3/8080')}-ns1/web/tcp/http__10.244.0.3/8080`;
    assert.deepEqual(rulesOf(script, `service-${h}-`), [
      'ip daddr 10.96.0.5 ip saddr != 10.244.0.0/16 jump mark-for-masquerade',
      `numgen random mod 2 vmap { 0 : goto ${ep2} , 1 : goto ${ep3} }`,
    ]);
    assert.deepEqual(rulesOf(script, ep2), [
      'ip saddr 10.244.0.2 jump mark-for-masquerade',
      'meta l4proto tcp dnat to 10.244.0.2:8080',
    ]);
    assert.match(
      script,
      new RegExp(
        `add element ip skiff-proxy service-ips \\{ 10\\.96\\.0\\.5 \\. tcp \\. 80 : goto service-${h}-ns1/web/tcp/http \\}`,
      ),
    );
    assert.match(script, /add element ip skiff-proxy cluster-ips \{ 10\.96\.0\.5 \}/);
    assert.match(script, /^delete table ip skiff-proxy$/m, 'a first sync replaces the table atomically');
    assert.match(script, /cluster-ips-check ip daddr 10\.96\.0\.0\/12 drop/);
    assert.doesNotMatch(script, /ct status dnat iifname/, 'no bridge masquerade unless br_netfilter is missing');
  });

  test('no endpoints → reject (ICMP) on ClusterIP, NodePort and external addresses', () => {
    const script = scriptFor(
      [
        service('np', {
          type: 'NodePort',
          clusterIP: '10.96.0.7',
          externalIPs: ['192.168.99.1'],
          ports: [{ port: 81, nodePort: 30081 }],
        }),
      ],
      [],
    );
    assert.match(
      script,
      /no-endpoint-services \{ 10\.96\.0\.7 \. tcp \. 81 : goto reject-chain, 192\.168\.99\.1 \. tcp \. 81 : goto reject-chain \}/,
    );
    assert.match(script, /no-endpoint-nodeports \{ tcp \. 30081 : goto reject-chain \}/);
    assert.doesNotMatch(script, /add chain ip skiff-proxy (service|endpoint)-[A-Z2-7]{8}-/);
    assert.deepEqual(rulesOf(script, 'reject-chain'), ['meta l4proto tcp reject with tcp reset', 'reject']);
  });

  test('NodePort with Cluster policy: masquerade then the service chain; node IPs in nodeport-ips', () => {
    const script = scriptFor(
      [service('np', { type: 'NodePort', clusterIP: '10.96.0.7', ports: [{ port: 81, nodePort: 30081 }] })],
      [slice('np', [{ ip: '10.244.1.4', node: 'n2' }], [{ port: 81 }])],
    );
    const h = hashName('ns1/np/tcp/');
    assert.deepEqual(rulesOf(script, `external-${h}-`), ['jump mark-for-masquerade', `goto service-${h}-ns1/np/tcp/`]);
    assert.match(script, new RegExp(`service-nodeports \\{ tcp \\. 30081 : goto external-${h}-ns1/np/tcp/ \\}`));
    assert.match(script, /nodeport-ips \{ 192\.168\.0\.2 \}/);
  });

  test('externalTrafficPolicy Local: pods and the node short-circuit to all endpoints, others only to local ones; drop when none local', () => {
    const lb = service(
      'lb',
      {
        type: 'LoadBalancer',
        clusterIP: '10.96.0.6',
        externalTrafficPolicy: 'Local',
        ports: [{ port: 80, nodePort: 30080 }],
      },
      { loadBalancer: { ingress: [{ ip: '192.168.0.2' }] } },
    );
    const h = hashName('ns1/lb/tcp/');
    const withLocal = scriptFor(
      [lb],
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
    );
    assert.deepEqual(rulesOf(withLocal, `external-${h}-`), [
      `ip saddr 10.244.0.0/16 goto service-${h}-ns1/lb/tcp/`,
      'fib saddr type local jump mark-for-masquerade',
      `fib saddr type local goto service-${h}-ns1/lb/tcp/`,
      `goto local-${h}-ns1/lb/tcp/`,
    ]);
    assert.equal(rulesOf(withLocal, `local-${h}-`).at(-1)?.startsWith('numgen random mod 1 vmap'), true);
    assert.match(withLocal, /service-ips \{[^}]*192\.168\.0\.2 \. tcp \. 80 : goto external-/);

    const noLocal = scriptFor([lb], [slice('lb', [{ ip: '10.244.1.2', node: 'n2' }], [{ port: 80 }])]);
    assert.equal(rulesOf(noLocal, `external-${h}-`).length, 3);
    assert.match(noLocal, /no-endpoint-nodeports \{ tcp \. 30080 : drop \}/);
    assert.match(noLocal, /no-endpoint-services \{ 192\.168\.0\.2 \. tcp \. 80 : drop \}/);
  });

  test('internalTrafficPolicy Local: the ClusterIP goes to local endpoints only, dropped when there are none here', () => {
    const svc = service('il', { clusterIP: '10.96.0.9', internalTrafficPolicy: 'Local', ports: [{ port: 80 }] });
    const h = hashName('ns1/il/tcp/');
    const local = scriptFor(
      [svc],
      [
        slice(
          'il',
          [
            { ip: '10.244.0.2', node: 'n1' },
            { ip: '10.244.1.2', node: 'n2' },
          ],
          [{ port: 80 }],
        ),
      ],
    );
    assert.match(local, new RegExp(`service-ips \\{ 10\\.96\\.0\\.9 \\. tcp \\. 80 : goto local-${h}-`));
    assert.match(
      rulesOf(local, `local-${h}-`).at(-1) ?? '',
      /^numgen random mod 1 vmap \{ 0 : goto endpoint-[A-Z2-7]{8}-ns1\/il\/tcp\/__10\.244\.0\.2\/80 \}$/,
    );
    const remote = scriptFor([svc], [slice('il', [{ ip: '10.244.1.2', node: 'n2' }], [{ port: 80 }])]);
    assert.match(remote, /no-endpoint-services \{ 10\.96\.0\.9 \. tcp \. 80 : drop \}/);
  });

  test('ClientIP affinity: a timed set per endpoint, looked up before the spread and refreshed on DNAT', () => {
    const script = scriptFor(
      [
        service('aff', {
          clusterIP: '10.96.0.8',
          sessionAffinity: 'ClientIP',
          sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
          ports: [{ port: 80 }],
        }),
      ],
      [slice('aff', [{ ip: '10.244.0.2' }, { ip: '10.244.0.3' }], [{ port: 80 }])],
    );
    const set = `affinity-${hashName('ns1/aff/tcp/__10.244.0.2/80')}-ns1/aff/tcp/__10.244.0.2/80`;
    assert.match(
      script,
      new RegExp(`add set ip skiff-proxy ${set} \\{ type ipv4_addr ; flags dynamic,timeout ; timeout 60s ; \\}`),
    );
    const svcRules = rulesOf(script, `service-${hashName('ns1/aff/tcp/')}-`);
    assert.equal(svcRules.length, 4);
    assert.match(svcRules[1], new RegExp(`^ip saddr @${set} goto endpoint-`));
    assert.ok(script.includes(`update @${set} { ip saddr }`));
  });

  test('without br_netfilter, DNATed traffic routed back onto the bridge is masqueraded', () => {
    const script = scriptFor([], [], { masqueradeBridge: 'skiff0' });
    assert.deepEqual(rulesOf(script, 'nat-postrouting'), [
      'ct status dnat iifname "skiff0" oifname "skiff0" masquerade fully-random',
      'jump masquerading',
    ]);
  });

  test('incremental: an endpoint change rewrites only its service chain and adds/removes its endpoint chain', () => {
    const svc = [
      service('a', { clusterIP: '10.96.0.5', ports: [{ port: 80 }] }),
      service('b', { clusterIP: '10.96.0.6', ports: [{ port: 80 }] }),
    ];
    const before = desiredNftState(
      servicePorts(
        svc,
        [slice('a', [{ ip: '10.244.0.2' }], [{ port: 80 }]), slice('b', [{ ip: '10.244.0.5' }], [{ port: 80 }])],
        'n1',
      ),
      OPTIONS,
    );
    const after = desiredNftState(
      servicePorts(
        svc,
        [slice('a', [{ ip: '10.244.0.3' }], [{ port: 80 }]), slice('b', [{ ip: '10.244.0.5' }], [{ port: 80 }])],
        'n1',
      ),
      OPTIONS,
    );
    const diff = nftScript(after, before).trim().split('\n');
    const ha = hashName('ns1/a/tcp/');
    const old = `endpoint-${hashName('ns1/a/tcp/__10.244.0.2/80')}-ns1/a/tcp/__10.244.0.2/80`;
    const neu = `endpoint-${hashName('ns1/a/tcp/__10.244.0.3/80')}-ns1/a/tcp/__10.244.0.3/80`;
    assert.deepEqual(diff, [
      'add table ip skiff-proxy',
      `add chain ip skiff-proxy ${neu}`,
      `flush chain ip skiff-proxy service-${ha}-ns1/a/tcp/`,
      `flush chain ip skiff-proxy ${old}`,
      `add rule ip skiff-proxy ${neu} ip saddr 10.244.0.3 jump mark-for-masquerade`,
      `add rule ip skiff-proxy ${neu} meta l4proto tcp dnat to 10.244.0.3:80`,
      `add rule ip skiff-proxy service-${ha}-ns1/a/tcp/ ip daddr 10.96.0.5 ip saddr != 10.244.0.0/16 jump mark-for-masquerade`,
      `add rule ip skiff-proxy service-${ha}-ns1/a/tcp/ numgen random mod 1 vmap { 0 : goto ${neu} }`,
      `delete chain ip skiff-proxy ${old}`,
    ]);
    assert.equal(nftScript(after, after).trim(), 'add table ip skiff-proxy', 'nothing changed → nothing to do');
    assert.ok(nftStatesEqual(after, after) && !nftStatesEqual(after, before));
  });

  test('incremental: losing every endpoint swaps the map element for a reject and deletes the chains', () => {
    const svc = [service('a', { clusterIP: '10.96.0.5', ports: [{ port: 80 }] })];
    const before = desiredNftState(
      servicePorts(svc, [slice('a', [{ ip: '10.244.0.2' }], [{ port: 80 }])], 'n1'),
      OPTIONS,
    );
    const after = desiredNftState(servicePorts(svc, [], 'n1'), OPTIONS);
    const diff = nftScript(after, before);
    assert.match(diff, /delete element ip skiff-proxy service-ips \{ 10\.96\.0\.5 \. tcp \. 80 \}/);
    assert.match(
      diff,
      /add element ip skiff-proxy no-endpoint-services \{ 10\.96\.0\.5 \. tcp \. 80 : goto reject-chain \}/,
    );
    assert.equal(diff.match(/^delete chain /gm)?.length, 2);
    assert.ok(diff.indexOf('delete element') < diff.indexOf('delete chain'), 'references go before the chains');
  });

  test('periodic full resync rewrites chains and maps but keeps affinity sets', () => {
    const svc = [service('a', { clusterIP: '10.96.0.5', sessionAffinity: 'ClientIP', ports: [{ port: 80 }] })];
    const state = desiredNftState(
      servicePorts(svc, [slice('a', [{ ip: '10.244.0.2' }], [{ port: 80 }])], 'n1'),
      OPTIONS,
    );
    const full = nftScript(state, state, { full: true });
    assert.doesNotMatch(full, /delete table|delete set|add set .*affinity/);
    assert.match(full, /flush map ip skiff-proxy service-ips/);
    assert.match(full, /flush chain ip skiff-proxy service-/);
  });

  test('a changed affinity timeout recreates the set and rewrites the chains using it', () => {
    const mk = (timeoutSeconds: number) =>
      desiredNftState(
        servicePorts(
          [
            service('a', {
              clusterIP: '10.96.0.5',
              sessionAffinity: 'ClientIP',
              sessionAffinityConfig: { clientIP: { timeoutSeconds } },
              ports: [{ port: 80 }],
            }),
          ],
          [slice('a', [{ ip: '10.244.0.2' }], [{ port: 80 }])],
          'n1',
        ),
        OPTIONS,
      );
    const diff = nftScript(mk(30), mk(60));
    const lines = diff.split('\n');
    const del = lines.findIndex((l) => l.startsWith('delete set'));
    const add = lines.findIndex((l) => l.startsWith('add set') && l.includes('timeout 30s'));
    const flushes = lines.filter((l) => l.startsWith('flush chain')).length;
    assert.ok(del > 0 && add > del);
    assert.equal(flushes, 2, 'the service chain and the endpoint chain reference the set');
  });

  describe('loadBalancerSourceRanges', () => {
    const lb = guardedLoadBalancer;
    const eps = guardedLoadBalancerSlices();
    const h = hashName('ns1/lb/tcp/');
    const fw = `firewall-${h}-ns1/lb/tcp/`;
    const stateOf = (ranges: string[], slices = eps) =>
      desiredNftState(servicePorts([lb(ranges)], slices, 'n1'), OPTIONS);

    test('a per-Service chain drops other sources to the LB IP:port only, before DNAT', () => {
      const script = scriptFor([lb(['10.244.0.4/32', '10.1.0.0/16'])], eps);
      assert.match(
        script,
        /add chain ip skiff-proxy firewall-prerouting \{ type filter hook prerouting priority -110 ; \}/,
      );
      assert.match(script, /add chain ip skiff-proxy firewall-output \{ type filter hook output priority -110 ; \}/);
      assert.deepEqual(rulesOf(script, 'firewall-prerouting'), ['ct state new jump firewall-check']);
      assert.deepEqual(rulesOf(script, 'firewall-check'), ['ip daddr . meta l4proto . th dport vmap @firewall-ips']);
      assert.deepEqual(rulesOf(script, fw), ['ip saddr != { 10.1.0.0/16, 10.244.0.4/32 } drop']);
      // Only the load-balancer address: not the ClusterIP, the externalIP or the NodePort.
      assert.match(
        script,
        new RegExp(`add element ip skiff-proxy firewall-ips \\{ 192\\.168\\.0\\.2 \\. tcp \\. 80 : goto ${fw} \\}`),
      );
      assert.doesNotMatch(script, /firewall-ips \{[^}]*(10\.96\.0\.6|192\.168\.99\.1|30080)/);
      assert.match(script, new RegExp(`service-nodeports \\{ tcp \\. 30080 : goto external-${h}-`));
      assert.match(script, new RegExp(`service-ips \\{[^}]*192\\.168\\.0\\.2 \\. tcp \\. 80 : goto external-${h}-`));
    });

    test('no ranges, or no LB address: no firewall chain', () => {
      assert.doesNotMatch(scriptFor([lb([])], eps), /add chain ip skiff-proxy firewall-[A-Z2-7]{8}-/);
      const pending = service('p', {
        type: 'LoadBalancer',
        clusterIP: '10.96.0.8',
        loadBalancerSourceRanges: ['10.0.0.0/8'],
        ports: [{ port: 80 }],
      });
      assert.doesNotMatch(scriptFor([pending], []), /add element ip skiff-proxy firewall-ips/);
    });

    test('a node address inside the ranges also admits the LB addresses as sources (traffic from the node itself)', () => {
      const other = scriptFor([lb(['192.168.0.0/24'], '203.0.113.5')], eps);
      assert.deepEqual(rulesOf(other, fw), ['ip saddr != { 192.168.0.0/24, 203.0.113.5 } drop']);
      const covered = scriptFor([lb(['192.168.0.0/24'])], eps);
      assert.deepEqual(rulesOf(covered, fw), ['ip saddr != { 192.168.0.0/24 } drop'], 'already inside the ranges');
      const outside = scriptFor([lb(['10.0.0.0/8'], '203.0.113.5')], eps);
      assert.deepEqual(rulesOf(outside, fw), ['ip saddr != { 10.0.0.0/8 } drop']);
    });

    test('still applies without endpoints: outsiders are dropped, the rest rejected', () => {
      const script = nftScript(stateOf(['10.244.0.4/32'], []));
      assert.deepEqual(rulesOf(script, fw), ['ip saddr != { 10.244.0.4/32 } drop']);
      assert.match(script, /no-endpoint-services \{[^}]*192\.168\.0\.2 \. tcp \. 80 : goto reject-chain/);
    });

    test('incremental: new ranges rewrite only the firewall chain; dropping them removes element then chain', () => {
      const a = stateOf(['10.244.0.4/32']);
      const b = stateOf(['10.244.0.5/32']);
      assert.deepEqual(nftScript(b, a).trim().split('\n'), [
        'add table ip skiff-proxy',
        `flush chain ip skiff-proxy ${fw}`,
        `add rule ip skiff-proxy ${fw} ip saddr != { 10.244.0.5/32 } drop`,
      ]);
      const none = stateOf([]);
      const diff = nftScript(none, a);
      assert.match(diff, /delete element ip skiff-proxy firewall-ips \{ 192\.168\.0\.2 \. tcp \. 80 \}/);
      assert.ok(diff.indexOf('delete element') < diff.indexOf(`delete chain ip skiff-proxy ${fw}`));
      const back = nftScript(a, none);
      assert.ok(
        back.indexOf(`add chain ip skiff-proxy ${fw}`) < back.indexOf('add element ip skiff-proxy firewall-ips'),
      );
    });
  });
});
