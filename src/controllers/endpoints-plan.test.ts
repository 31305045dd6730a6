import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../api/types.ts';
import { desiredEndpoints, desiredSubsets, findPort, OVER_CAPACITY_ANNOTATION } from './endpoints-plan.ts';
import { desiredGroups, planSlices } from './endpointslice-plan.ts';
import { desiredLoadBalancerStatus } from './service-lb.ts';

const svc = (spec: Record<string, unknown> = {}, name = 'web'): KubeObject => ({
  metadata: { name, namespace: 'default', uid: 'svc-uid', labels: { app: 'web' }, creationTimestamp: '2025-01-01T00:00:00Z' },
  spec: { selector: { app: 'web' }, clusterIP: '10.96.0.50', ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], ...spec },
});

let n = 0;
function pod(opts: { ready?: boolean; port?: number; terminating?: boolean; ip?: string; labels?: Record<string, string>; hostname?: string; subdomain?: string } = {}): KubeObject {
  n++;
  return {
    metadata: {
      name: `p${n}`,
      namespace: 'default',
      uid: `uid-${n}`,
      labels: opts.labels ?? { app: 'web' },
      creationTimestamp: '2025-01-01T00:00:01Z',
      ...(opts.terminating ? { deletionTimestamp: '2025-01-01T00:01:00Z' } : {}),
    },
    spec: {
      nodeName: 'node-a',
      hostname: opts.hostname,
      subdomain: opts.subdomain,
      containers: [{ name: 'c', ports: [{ name: 'http', containerPort: opts.port ?? 8080, protocol: 'TCP' }] }],
    },
    status: {
      phase: 'Running',
      podIP: opts.ip ?? `10.244.0.${n}`,
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', lastTransitionTime: '2025-01-01T00:00:05Z' }],
    },
  };
}

describe('endpoints', () => {
  test('named target ports resolve per pod; different numbers make different subsets', () => {
    const a = pod({ port: 8080, ip: '10.244.0.2' });
    const b = pod({ port: 8080, ip: '10.244.0.1' });
    const c = pod({ port: 9090, ip: '10.244.0.3' });
    assert.equal(findPort(a, { targetPort: 'http', protocol: 'TCP' }), 8080);
    assert.equal(findPort(a, { targetPort: 'http', protocol: 'UDP' }), undefined);
    assert.equal(findPort(a, { port: 80, targetPort: 81 }), 81);
    const { subsets } = desiredSubsets(svc(), [a, b, c, pod({ labels: { app: 'other' } })]);
    assert.equal(subsets.length, 2);
    assert.deepEqual(subsets[0].addresses?.map((x) => x.ip), ['10.244.0.1', '10.244.0.2']);
    assert.deepEqual(subsets[0].ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    assert.deepEqual(subsets[1].ports, [{ name: 'http', port: 9090, protocol: 'TCP' }]);
    assert.deepEqual(subsets[0].addresses?.[0], {
      ip: '10.244.0.1',
      nodeName: 'node-a',
      targetRef: { kind: 'Pod', namespace: 'default', name: b.metadata.name, uid: b.metadata.uid },
    });
  });

  test('not-ready pods in notReadyAddresses, terminating ones left out; publishNotReadyAddresses lists all as ready', () => {
    const pods = [pod({ ip: '10.0.0.1' }), pod({ ip: '10.0.0.2', ready: false }), pod({ ip: '10.0.0.3', terminating: true })];
    const [subset] = desiredSubsets(svc(), pods).subsets;
    assert.deepEqual(subset.addresses?.map((a) => a.ip), ['10.0.0.1']);
    assert.deepEqual(subset.notReadyAddresses?.map((a) => a.ip), ['10.0.0.2']);
    const [all] = desiredSubsets(svc({ publishNotReadyAddresses: true }), pods).subsets;
    assert.deepEqual(all.addresses?.map((a) => a.ip), ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    assert.equal(all.notReadyAddresses, undefined);
  });

  test('StatefulSet pods get their hostname under the Service named as subdomain', () => {
    const headless = svc({ clusterIP: 'None' });
    const [subset] = desiredSubsets(headless, [pod({ hostname: 'web-0', subdomain: 'web' }), pod({ hostname: 'x', subdomain: 'other' })]).subsets;
    assert.deepEqual(subset.addresses?.map((a) => a.hostname), ['web-0', undefined]);
  });

  test('the Endpoints object: labels, trigger time, no write when nothing changed, truncation at 1000', () => {
    const pods = [pod(), pod()];
    const ep = desiredEndpoints(svc({ clusterIP: 'None' }), pods, undefined)!;
    assert.deepEqual(ep.metadata.labels, { app: 'web', 'service.kubernetes.io/headless': '', 'endpointslice.kubernetes.io/skip-mirror': 'true' });
    assert.equal(ep.metadata.annotations?.['endpoints.kubernetes.io/last-change-trigger-time'], '2025-01-01T00:00:05Z');
    assert.equal(desiredEndpoints(svc({ clusterIP: 'None' }), pods, JSON.parse(JSON.stringify(ep))), undefined);
    const many = Array.from({ length: 1005 }, (_, i) => pod({ ip: `10.1.${i >> 8}.${i & 255}`, ready: i % 2 === 0 }));
    const big = desiredEndpoints(svc(), many, undefined)!;
    assert.equal(big.metadata.annotations?.[OVER_CAPACITY_ANNOTATION], 'truncated');
    const [subset] = big.subsets;
    assert.equal(subset.addresses.length + subset.notReadyAddresses.length, 1000);
    assert.equal(subset.addresses.length, 503, 'ready addresses are kept first');
  });
});

describe('endpointslices', () => {
  test('conditions: ready, serving, terminating', () => {
    const groups = desiredGroups(svc(), [pod({ ip: '10.0.0.1' }), pod({ ip: '10.0.0.2', ready: false }), pod({ ip: '10.0.0.3', terminating: true })]);
    const [group] = groups.values();
    assert.deepEqual(group.endpoints.map((e) => [e.addresses[0], e.conditions]), [
      ['10.0.0.1', { ready: true, serving: true, terminating: false }],
      ['10.0.0.2', { ready: false, serving: false, terminating: false }],
      ['10.0.0.3', { ready: false, serving: true, terminating: true }],
    ]);
    assert.deepEqual(group.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  });

  test('packs at most 100 per slice, labelled and owned by the Service', () => {
    const pods = Array.from({ length: 250 }, (_, i) => pod({ ip: `10.2.${i >> 8}.${i & 255}` }));
    const plan = planSlices(svc(), pods, []);
    assert.deepEqual(plan.create.map((s) => s.endpoints.length), [100, 100, 50]);
    const [first] = plan.create;
    assert.equal(first.metadata.generateName, 'web-');
    assert.equal(first.metadata.labels?.['kubernetes.io/service-name'], 'web');
    assert.equal(first.metadata.labels?.['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
    assert.equal(first.metadata.ownerReferences?.[0].uid, 'svc-uid');
    assert.equal(first.addressType, 'IPv4');
  });

  test('updates in place with little churn: a readiness change rewrites one slice, a new pod fills a slice being written', () => {
    const pods = Array.from({ length: 150 }, (_, i) => pod({ ip: `10.3.${i >> 8}.${i & 255}` }));
    const created: KubeObject[] = planSlices(svc(), pods, []).create.map((s, i) => ({ ...s, metadata: { ...s.metadata, name: `web-${i}` } }));
    assert.deepEqual(planSlices(svc(), pods, created), { create: [], update: [], delete: [] }, 'nothing changed, nothing written');
    // One pod in the second slice turns unready, one pod appears.
    const second = created[1].endpoints[0].targetRef.name;
    const changed = pods.map((p) => (p.metadata.name === second ? { ...p, status: { ...p.status, conditions: [{ type: 'Ready', status: 'False' }] } } : p));
    const plan = planSlices(svc(), [...changed, pod({ ip: '10.9.9.9' })], created);
    assert.equal(plan.create.length, 0);
    assert.deepEqual(plan.update.map((s) => s.metadata.name), ['web-1']);
    assert.equal(plan.update[0].endpoints.length, 51);
    assert.equal(plan.update[0].endpoints.find((e: { targetRef: { name: string } }) => e.targetRef.name === second).conditions.ready, false);
  });

  test('different container ports for one name make separate slices; no pods leaves one placeholder', () => {
    const plan = planSlices(svc(), [pod({ port: 8080 }), pod({ port: 9090 })], []);
    assert.deepEqual(plan.create.map((s) => s.ports[0].port).sort(), [8080, 9090]);
    const named = plan.create.map((s, i) => ({ ...s, metadata: { ...s.metadata, name: `web-${i}` } }));
    const empty = planSlices(svc(), [], named);
    assert.equal(empty.delete.length, 2);
    assert.equal(empty.create.length, 1);
    assert.deepEqual(empty.create[0].endpoints, []);
    assert.equal(empty.create[0].ports, undefined);
  });
});

describe('service load balancer', () => {
  test('ingress lists ready nodes by address; a Service that stops being a LoadBalancer loses it', () => {
    const node = (ip: string, ready: boolean): KubeObject => ({
      metadata: { name: ip },
      status: { addresses: [{ type: 'InternalIP', address: ip }], conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
    });
    const lb = svc({ type: 'LoadBalancer' });
    const status = desiredLoadBalancerStatus(lb, [node('198.18.0.2', true), node('198.18.0.1', true), node('198.18.0.3', false)]);
    assert.deepEqual(status.loadBalancer.ingress, [
      { ip: '198.18.0.1', ipMode: 'VIP' },
      { ip: '198.18.0.2', ipMode: 'VIP' },
    ]);
    assert.equal(desiredLoadBalancerStatus({ ...lb, status }, [node('198.18.0.2', true), node('198.18.0.1', true)]), undefined);
    assert.deepEqual(desiredLoadBalancerStatus({ ...svc({ type: 'ClusterIP' }), status }, []), { loadBalancer: {} });
  });
});
