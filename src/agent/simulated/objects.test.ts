import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IpPool } from './ip-pool.ts';
import {
  MAX_SIMULATED_NODES,
  POD_IPS_PER_NODE,
  nodeIp,
  nodeLease,
  podAction,
  podCidr,
  podIp,
  runningStatus,
  simulatedNode,
} from './objects.ts';

const NOW = new Date('2025-01-02T03:04:05.678Z');

describe('simulated node objects', () => {
  test('addresses stay inside 198.18.0.0/15, one /25 per node', () => {
    assert.equal(nodeIp(0), '198.18.0.1');
    assert.equal(podCidr(0), '198.18.0.0/25');
    assert.equal(podIp(0, 0), '198.18.0.2');
    assert.equal(podCidr(1), '198.18.0.128/25');
    assert.equal(podIp(1, POD_IPS_PER_NODE - 1), '198.18.0.254');
    assert.equal(podCidr(MAX_SIMULATED_NODES - 1), '198.19.255.128/25');
    assert.ok(POD_IPS_PER_NODE >= 110);
  });

  test('node carries the labels, capacity, address and Ready condition', () => {
    const node = simulatedNode('sim-node-3', 3, NOW);
    assert.equal(node.metadata.labels?.['kubernetes.io/hostname'], 'sim-node-3');
    assert.equal(node.metadata.labels?.type, 'simulated');
    assert.ok(node.metadata.annotations?.['skiff.dev/simulated-node']);
    assert.deepEqual(node.status.allocatable, node.status.capacity);
    assert.equal(node.status.capacity.cpu, '32');
    assert.equal(node.status.capacity.pods, '110');
    assert.deepEqual(node.status.addresses[0], { type: 'InternalIP', address: '198.18.1.129' });
    const ready = node.status.conditions.find((c: { type: string }) => c.type === 'Ready');
    assert.equal(ready.status, 'True');
    assert.equal(ready.lastHeartbeatTime, '2025-01-02T03:04:05Z');
    assert.equal(node.spec.podCIDR, '198.18.1.128/25');
  });

  test('lease is owned by the node and renewed in microseconds', () => {
    const lease = nodeLease({ metadata: { name: 'n', uid: 'u1' } }, NOW);
    assert.equal(lease.metadata.namespace, 'kube-node-lease');
    assert.equal(lease.metadata.ownerReferences?.[0].uid, 'u1');
    assert.equal(lease.spec.renewTime, '2025-01-02T03:04:05.678000Z');
    assert.equal(lease.spec.holderIdentity, 'n');
  });

  test('podAction: run until Running and Ready, delete when terminating, leave finished pods', () => {
    const pod = { metadata: { name: 'p', uid: 'u' }, spec: { nodeName: 'n', containers: [{ name: 'c' }] }, status: { phase: 'Pending' } };
    assert.equal(podAction(pod), 'run');
    const status = runningStatus(pod, { podIp: '198.18.0.2', hostIp: '198.18.0.1', now: NOW });
    assert.equal(podAction({ ...pod, status }), 'none');
    assert.equal(podAction({ ...pod, status: { phase: 'Succeeded' } }), 'none');
    assert.equal(podAction({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: 'x' }, status }), 'delete');
  });

  test('running status reports ready containers, addresses and conditions', () => {
    const pod = {
      metadata: { name: 'p', uid: 'abc-def' },
      spec: { initContainers: [{ name: 'init', image: 'busybox' }], containers: [{ name: 'web', image: 'nginx' }, { name: 'side', image: 'envoy' }] },
      status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: 'earlier' }] },
    };
    const status = runningStatus(pod, { podIp: '198.18.0.5', hostIp: '198.18.0.1', now: NOW });
    assert.equal(status.phase, 'Running');
    assert.equal(status.podIP, '198.18.0.5');
    assert.deepEqual(status.podIPs, [{ ip: '198.18.0.5' }]);
    assert.equal(status.hostIP, '198.18.0.1');
    assert.equal(status.startTime, '2025-01-02T03:04:05Z');
    const types = status.conditions.map((c: { type: string; status: string }) => `${c.type}=${c.status}`);
    for (const t of ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled']) assert.ok(types.includes(`${t}=True`), t);
    assert.equal(status.conditions.find((c: { type: string }) => c.type === 'PodScheduled').lastTransitionTime, 'earlier');
    assert.equal(status.containerStatuses.length, 2);
    const web = status.containerStatuses[0];
    assert.deepEqual([web.name, web.image, web.ready, web.restartCount], ['web', 'nginx', true, 0]);
    assert.ok(web.state.running.startedAt);
    assert.match(web.containerID, /^simulated:\/\/[0-9a-f]+$/);
    assert.notEqual(web.containerID, status.containerStatuses[1].containerID);
    assert.equal(status.initContainerStatuses[0].state.terminated.reason, 'Completed');
  });
});

describe('IpPool', () => {
  test('gives each pod its own address, keeps it, and reuses freed ones', () => {
    const pool = new IpPool(0);
    const a = pool.assign('a');
    const b = pool.assign('b');
    assert.equal(a, '198.18.0.2');
    assert.equal(b, '198.18.0.3');
    assert.equal(pool.assign('a'), a);
    pool.release('a');
    assert.equal(pool.size, 1);
    assert.equal(pool.assign('c', '198.18.0.3'), '198.18.0.4', 'a reported address already in use is not taken twice');
    assert.equal(pool.assign('d', '198.18.0.100'), '198.18.0.100', 'a free reported address is kept (restart)');
  });

  test('runs out after every address is used', () => {
    const pool = new IpPool(2);
    for (let i = 0; i < POD_IPS_PER_NODE; i++) assert.ok(pool.assign(`p${i}`));
    assert.equal(pool.assign('one-too-many'), undefined);
  });
});
