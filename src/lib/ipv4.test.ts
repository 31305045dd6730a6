import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { broadcastOf, cidrContains, cidrSize, cidrWithin, formatCidr, formatIpv4, parseCidr, parseIpv4, subnetAt, subnetCount } from './ipv4.ts';

describe('ipv4', () => {
  test('parses and formats addresses', () => {
    assert.equal(parseIpv4('10.244.0.1'), 0x0af40001);
    assert.equal(formatIpv4(parseIpv4('255.255.255.255')), '255.255.255.255');
    assert.equal(formatIpv4(0), '0.0.0.0');
    for (const bad of ['10.244.0', '10.244.0.256', '01.2.3.4', 'a.b.c.d', '1.2.3.4.5', '']) {
      assert.throws(() => parseIpv4(bad), /not an IPv4 address/);
    }
  });

  test('parses CIDRs and rejects host bits', () => {
    const c = parseCidr('10.244.0.0/16');
    assert.equal(formatCidr(c), '10.244.0.0/16');
    assert.equal(cidrSize(c), 65536);
    assert.equal(formatIpv4(broadcastOf(c)), '10.244.255.255');
    assert.ok(cidrContains(c, parseIpv4('10.244.3.4')));
    assert.ok(!cidrContains(c, parseIpv4('10.245.0.0')));
    assert.throws(() => parseCidr('10.244.0.1/24'), /host bits set \(did you mean 10\.244\.0\.0\/24\?\)/);
    assert.throws(() => parseCidr('10.244.0.0/33'), /not an IPv4 CIDR/);
    assert.throws(() => parseCidr('10.244.0.0'), /not an IPv4 CIDR/);
    assert.equal(formatCidr(parseCidr('0.0.0.0/0')), '0.0.0.0/0');
  });

  test('sub-blocks', () => {
    const c = parseCidr('10.244.0.0/16');
    assert.equal(subnetCount(c, 24), 256);
    assert.equal(subnetCount(c, 8), 0);
    assert.equal(formatCidr(subnetAt(c, 24, 0)), '10.244.0.0/24');
    assert.equal(formatCidr(subnetAt(c, 24, 255)), '10.244.255.0/24');
    assert.ok(cidrWithin(parseCidr('10.244.7.0/24'), c));
    assert.ok(!cidrWithin(parseCidr('10.0.0.0/8'), c));
    assert.ok(!cidrWithin(parseCidr('198.18.0.0/25'), c));
  });
});
