import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  allocatableOf,
  capacityOf,
  conditionSamples,
  conditionsChanged,
  type MachineInfo,
  newNode,
  nodeConditions,
  osImageFrom,
} from './node-object.ts';

const machine: MachineInfo = {
  cpus: 2,
  memoryBytes: 4 * 1024 ** 3,
  diskBytes: 100 * 1024 ** 3,
  kernelVersion: '6.1.0',
  osImage: 'Debian GNU/Linux 12 (bookworm)',
  architecture: 'amd64',
  machineID: 'm',
  bootID: 'b',
  runtimeVersion: 'runc://1.1.5',
};
const calm = {
  memoryAvailableBytes: 2 * 1024 ** 3,
  diskAvailableBytes: 50,
  diskCapacityBytes: 100,
  pidsInUse: 100,
  pidMax: 32768,
};

describe('node object', () => {
  test('capacity from the machine; allocatable less the eviction thresholds', () => {
    assert.deepEqual(capacityOf(machine), {
      cpu: '2',
      memory: '4194304Ki',
      pods: '110',
      'ephemeral-storage': '104857600Ki',
    });
    const a = allocatableOf(machine);
    assert.equal(a.memory, `${4194304 - 102400}Ki`);
    assert.equal(Number(a['ephemeral-storage']), Math.floor(100 * 1024 ** 3 * 0.9));
  });

  test('labels, role and nodeInfo', () => {
    const n = newNode({ name: 'n1', ip: '10.0.0.1', controlPlane: true }, machine, 10250);
    assert.equal(n.metadata.labels?.['node-role.kubernetes.io/control-plane'], '');
    assert.equal(n.metadata.labels?.['kubernetes.io/hostname'], 'n1');
    assert.equal(n.status.nodeInfo.kubeletVersion, 'v1.32.0-skiff');
    assert.equal(n.status.nodeInfo.containerRuntimeVersion, 'runc://1.1.5');
    assert.deepEqual(n.status.addresses, [
      { type: 'InternalIP', address: '10.0.0.1' },
      { type: 'Hostname', address: 'n1' },
    ]);
    assert.equal(
      newNode({ name: 'n2', ip: '1.2.3.4', controlPlane: false }, machine, 1).metadata.labels?.[
        'node-role.kubernetes.io/control-plane'
      ],
      undefined,
    );
  });

  test('pressure conditions from real thresholds', () => {
    const ok = conditionSamples(calm, { ok: true });
    assert.deepEqual(
      ok.map((c) => `${c.type}=${c.status}`),
      ['MemoryPressure=False', 'DiskPressure=False', 'PIDPressure=False', 'Ready=True'],
    );
    const tight = conditionSamples(
      {
        memoryAvailableBytes: 50 * 1024 ** 2,
        diskAvailableBytes: 5,
        diskCapacityBytes: 100,
        pidsInUse: 32000,
        pidMax: 32768,
      },
      { ok: false, message: 'no network' },
    );
    assert.deepEqual(
      tight.map((c) => `${c.type}=${c.status}`),
      ['MemoryPressure=True', 'DiskPressure=True', 'PIDPressure=True', 'Ready=False'],
    );
    assert.equal(tight[3].message, 'no network');
    assert.equal(conditionsChanged(ok, ok), false);
    assert.equal(conditionsChanged(ok, tight), true);
  });

  test('transition times survive heartbeats', () => {
    const first = nodeConditions(conditionSamples(calm, { ok: true }), undefined, 'T0');
    const second = nodeConditions(conditionSamples(calm, { ok: true }), first, 'T1');
    assert.equal(second[3].lastTransitionTime, 'T0');
    assert.equal(second[3].lastHeartbeatTime, 'T1');
  });

  test('OS image from os-release', () => {
    assert.equal(
      osImageFrom('NAME="Debian"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n'),
      'Debian GNU/Linux 12 (bookworm)',
    );
    assert.equal(osImageFrom(''), 'Linux');
  });
});
