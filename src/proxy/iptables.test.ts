import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { guardedLoadBalancer, guardedLoadBalancerSlices, OPTIONS } from './fixtures.test-helpers.ts';
import { iptablesRestore } from './iptables.ts';
import { servicePorts } from './service-ports.ts';

/** The per-Service chain name iptables.ts derives (16 hex characters of sha256). */
const chain = (prefix: string, key: string) =>
  `SKIFF-${prefix}-${createHash('sha256').update(key).digest('hex').slice(0, 16).toUpperCase()}`;

const lb = guardedLoadBalancer;
const eps = guardedLoadBalancerSlices();
const restore = (svc = lb(['10.244.0.4/32']), slices = eps) =>
  iptablesRestore(servicePorts([svc], slices, 'n1'), OPTIONS);
const lines = (text: string, prefix: string) => text.split('\n').filter((l) => l.startsWith(prefix));

describe('iptablesRestore: loadBalancerSourceRanges', () => {
  const fw = chain('FW', 'ns1/lb/tcp/');
  const ext = chain('EXT', 'ns1/lb/tcp/');
  const lbMatch = '-d 192.168.0.2/32 -p tcp -m tcp --dport 80';

  test('the LB IP goes through a firewall chain whose allowed sources reach the external chain; the rest are dropped in filter', () => {
    const { nat, filter, chains } = restore(lb(['10.244.0.4/32', '10.1.0.0/16']));
    assert.ok(chains.includes(fw));
    assert.match(nat, new RegExp(`^:${fw} - \\[0:0\\]$`, 'm'));
    assert.deepEqual(lines(nat, `-A ${fw} `), [
      `-A ${fw} -s 10.1.0.0/16 -j ${ext}`,
      `-A ${fw} -s 10.244.0.4/32 -j ${ext}`,
    ]);
    assert.deepEqual(lines(nat, `-A SKIFF-PROXY-SERVICES ${lbMatch}`), [`-A SKIFF-PROXY-SERVICES ${lbMatch} -j ${fw}`]);
    assert.deepEqual(
      lines(filter, '-A ').filter((l) => l.includes('192.168.0.2/32')),
      [`-A SKIFF-PROXY-FILTER ${lbMatch} -j DROP`, `-A SKIFF-PROXY-INPUT ${lbMatch} -j DROP`],
    );
    // The externalIP and the NodePort are not guarded.
    assert.match(
      nat,
      new RegExp(`-A SKIFF-PROXY-SERVICES -d 192\\.168\\.99\\.1/32 -p tcp -m tcp --dport 80 -j ${ext}`),
    );
    assert.match(nat, new RegExp(`-A SKIFF-PROXY-NODEPORTS -p tcp -m tcp --dport 30080 -j ${ext}`));
    assert.doesNotMatch(filter, /192\.168\.99\.1|30080/);
  });

  test('a node address inside the ranges admits the LB address as a source', () => {
    const { nat } = restore(lb(['192.168.0.0/24'], '203.0.113.5'));
    assert.deepEqual(lines(nat, `-A ${fw} `), [
      `-A ${fw} -s 192.168.0.0/24 -j ${ext}`,
      `-A ${fw} -s 203.0.113.5/32 -j ${ext}`,
    ]);
  });

  test('no ranges: the LB IP goes straight to the external chain; no endpoints: rejected for all (as kube-proxy)', () => {
    const open = restore(lb([]));
    assert.ok(!open.chains.includes(fw));
    assert.match(open.nat, new RegExp(`-A SKIFF-PROXY-SERVICES ${lbMatch} -j ${ext}`));
    assert.doesNotMatch(open.filter, /DROP/);
    const empty = restore(lb(['10.244.0.4/32']), []);
    assert.ok(!empty.chains.includes(fw));
    assert.match(empty.filter, new RegExp(`-A SKIFF-PROXY-INPUT ${lbMatch} -j REJECT --reject-with tcp-reset`));
  });
});
