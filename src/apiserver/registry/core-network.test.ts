import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../api/types.ts';
import { services } from './core-network.ts';

const ANNOTATION = 'service.beta.kubernetes.io/load-balancer-source-ranges';

function validate(spec: Record<string, unknown>, annotations?: Record<string, string>): string[] {
  const svc: KubeObject = { metadata: { name: 's', annotations }, spec: { ports: [{ port: 80 }], ...spec } };
  services.strategy.defaults?.(svc, 'v1');
  return (services.strategy.validate?.(svc, undefined) ?? []).map((c) => `${c.field}: ${c.message}`);
}

describe('Service loadBalancerSourceRanges validation', () => {
  test('valid CIDRs on a LoadBalancer pass (padding, IPv6, host bits and leading zeros as Kubernetes 1.32 allows)', () => {
    assert.deepEqual(
      validate({
        type: 'LoadBalancer',
        loadBalancerSourceRanges: [' 10.0.0.0/8 ', '2001:db8::/64', '192.168.1.7/24', '010.1.0.0/16'],
      }),
      [],
    );
    assert.deepEqual(validate({ type: 'LoadBalancer' }, { [ANNOTATION]: '10.0.0.0/8, 172.16.0.0/12' }), []);
    assert.deepEqual(validate({ type: 'LoadBalancer' }, { [ANNOTATION]: ' ' }), []);
  });

  test('each bad entry is Invalid at its index, with Kubernetes’ path and message', () => {
    assert.deepEqual(
      validate({ type: 'LoadBalancer', loadBalancerSourceRanges: ['10.0.0.0/8', 'bogus', '1.2.3.4', '10.0.0.0/33'] }),
      [
        'spec.LoadBalancerSourceRanges[1]: Invalid value: "bogus": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
        'spec.LoadBalancerSourceRanges[2]: Invalid value: "1.2.3.4": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
        'spec.LoadBalancerSourceRanges[3]: Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
      ],
    );
  });

  test('only with type LoadBalancer (field or annotation); the annotation is checked only when the field is empty', () => {
    assert.deepEqual(validate({ type: 'NodePort', loadBalancerSourceRanges: ['10.0.0.0/8'] }), [
      "spec.LoadBalancerSourceRanges: Forbidden: may only be used when `type` is 'LoadBalancer'",
    ]);
    assert.deepEqual(validate({}, { [ANNOTATION]: '10.0.0.0/8,nope' }), [
      `metadata.annotations[${ANNOTATION}]: Forbidden: may only be used when \`type\` is 'LoadBalancer'`,
      `metadata.annotations[${ANNOTATION}]: Invalid value: "nope": must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)`,
    ]);
    assert.deepEqual(
      validate({ type: 'LoadBalancer', loadBalancerSourceRanges: ['10.0.0.0/8'] }, { [ANNOTATION]: 'nope' }),
      [],
    );
  });
});
