import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../api/types.ts';
import { podCells, podQOSClass } from './pod-table.ts';

const now = new Date('2024-05-01T12:00:00Z');
const created = '2024-05-01T11:55:00Z';

function pod(spec: object, status: object, meta: object = {}): KubeObject {
  return { metadata: { name: 'p', creationTimestamp: created, ...meta }, spec, status };
}
const oneContainer = { containers: [{ name: 'c', image: 'nginx' }] };
const running = { running: { startedAt: created } };

describe('pod STATUS column (printPod)', () => {
  test('pending, no statuses yet', () => {
    assert.deepEqual(podCells(pod(oneContainer, { phase: 'Pending' }), now).slice(0, 4), ['0/1', 'Pending', '0', '5m']);
  });

  test('waiting reason wins', () => {
    const status = { phase: 'Pending', containerStatuses: [{ name: 'c', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] };
    assert.equal(podCells(pod(oneContainer, status), now)[1], 'ContainerCreating');
  });

  test('running and ready, with restarts "(Xm ago)"', () => {
    const status = {
      phase: 'Running',
      containerStatuses: [
        {
          name: 'c',
          ready: true,
          restartCount: 2,
          state: running,
          lastState: { terminated: { exitCode: 1, finishedAt: '2024-05-01T11:58:00Z' } },
        },
      ],
    };
    assert.deepEqual(podCells(pod(oneContainer, status), now).slice(0, 3), ['1/1', 'Running', '2 (2m ago)']);
  });

  test('terminated without reason shows the exit code or signal', () => {
    const status = { phase: 'Failed', containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 3 } } }] };
    assert.equal(podCells(pod(oneContainer, status), now)[1], 'ExitCode:3');
    const sig = { phase: 'Failed', containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 137, signal: 9 } } }] };
    assert.equal(podCells(pod(oneContainer, sig), now)[1], 'Signal:9');
    const done = { phase: 'Succeeded', containerStatuses: [{ name: 'c', state: { terminated: { exitCode: 0, reason: 'Completed' } } }] };
    assert.equal(podCells(pod(oneContainer, done), now)[1], 'Completed');
  });

  test('init containers: Init:x/y, Init:reason, Init:ExitCode', () => {
    const spec = { initContainers: [{ name: 'i1' }, { name: 'i2' }], containers: [{ name: 'c' }] };
    const progressing = {
      phase: 'Pending',
      initContainerStatuses: [
        { name: 'i1', state: { terminated: { exitCode: 0 } } },
        { name: 'i2', state: running },
      ],
      containerStatuses: [{ name: 'c', state: { waiting: { reason: 'PodInitializing' } } }],
    };
    assert.equal(podCells(pod(spec, progressing), now)[1], 'Init:1/2');
    const crash = { phase: 'Pending', initContainerStatuses: [{ name: 'i1', restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } } }] };
    const cells = podCells(pod(spec, crash), now);
    assert.equal(cells[1], 'Init:CrashLoopBackOff');
    assert.equal(cells[2], '3');
    const failed = { phase: 'Pending', initContainerStatuses: [{ name: 'i1', state: { terminated: { exitCode: 2 } } }] };
    assert.equal(podCells(pod(spec, failed), now)[1], 'Init:ExitCode:2');
  });

  test('sidecar (restartable init) containers count toward READY', () => {
    const spec = { initContainers: [{ name: 's', restartPolicy: 'Always' }], containers: [{ name: 'c' }] };
    const status = {
      phase: 'Running',
      conditions: [{ type: 'Initialized', status: 'True' }],
      initContainerStatuses: [{ name: 's', started: true, ready: true, state: running }],
      containerStatuses: [{ name: 'c', ready: true, state: running }],
    };
    assert.deepEqual(podCells(pod(spec, status), now).slice(0, 2), ['2/2', 'Running']);
  });

  test('Terminating, NodeLost → Unknown, SchedulingGated, Completed but running', () => {
    const deleting = { deletionTimestamp: '2024-05-01T11:59:00Z' };
    assert.equal(podCells(pod(oneContainer, { phase: 'Running' }, deleting), now)[1], 'Terminating');
    assert.equal(podCells(pod(oneContainer, { phase: 'Succeeded' }, deleting), now)[1], 'Succeeded');
    assert.equal(podCells(pod(oneContainer, { phase: 'Running', reason: 'NodeLost' }, deleting), now)[1], 'Unknown');
    const gated = { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] };
    assert.equal(podCells(pod(oneContainer, gated), now)[1], 'SchedulingGated');
    const two = { containers: [{ name: 'a' }, { name: 'b' }] };
    const mixed = {
      phase: 'Running',
      containerStatuses: [
        { name: 'a', state: { terminated: { exitCode: 0, reason: 'Completed' } } },
        { name: 'b', ready: true, state: running },
      ],
    };
    assert.equal(podCells(pod(two, mixed), now)[1], 'NotReady');
  });

  test('wide cells', () => {
    const spec = { ...oneContainer, nodeName: 'n1', readinessGates: [{ conditionType: 'x/ready' }] };
    const status = { phase: 'Running', podIPs: [{ ip: '10.0.0.5' }], conditions: [{ type: 'x/ready', status: 'True' }] };
    assert.deepEqual(podCells(pod(spec, status), now).slice(4), ['10.0.0.5', 'n1', '<none>', '1/1']);
    assert.deepEqual(podCells(pod(oneContainer, {}), now).slice(4), ['<none>', '<none>', '<none>', '<none>']);
  });
});

test('QoS classes', () => {
  assert.equal(podQOSClass({ containers: [{ name: 'c' }] }), 'BestEffort');
  assert.equal(podQOSClass({ containers: [{ resources: { requests: { cpu: '100m' } } }] }), 'Burstable');
  const guaranteed = { resources: { limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1000m', memory: '1024Mi' } } };
  assert.equal(podQOSClass({ containers: [guaranteed] }), 'Guaranteed');
  assert.equal(podQOSClass({ containers: [guaranteed, { name: 'x' }] }), 'Burstable');
});
