import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cgroupResources, MAX_SHARES, MIN_SHARES, milliCpuToQuota, milliCpuToShares, milliValue, wholeValue } from './resources.ts';

test('MilliCPUToShares: 1024 per CPU, floor, clamped to [2, 262144]', () => {
  assert.equal(milliCpuToShares(0), MIN_SHARES);
  assert.equal(milliCpuToShares(1), MIN_SHARES);
  assert.equal(milliCpuToShares(100), 102);
  assert.equal(milliCpuToShares(250), 256);
  assert.equal(milliCpuToShares(1000), 1024);
  assert.equal(milliCpuToShares(1_000_000), MAX_SHARES);
});

test('milliCpuToQuota: period-scaled, at least 1 ms, 0 for no limit', () => {
  assert.equal(milliCpuToQuota(0), 0);
  assert.equal(milliCpuToQuota(500), 50_000);
  assert.equal(milliCpuToQuota(2000), 200_000);
  assert.equal(milliCpuToQuota(5), 1000);
});

test('quantities round up like resource.Quantity', () => {
  assert.equal(milliValue('0.1'), 100);
  assert.equal(milliValue('100m'), 100);
  assert.equal(milliValue('1.0001m'), 2);
  assert.equal(milliValue(2), 2000);
  assert.equal(wholeValue('128Mi'), 134217728);
  assert.equal(wholeValue('1.5'), 2);
  assert.equal(wholeValue(undefined), 0);
});

test('cgroupResources from requests and limits', () => {
  assert.deepEqual(cgroupResources({}), { cpuShares: 2 });
  assert.deepEqual(cgroupResources({ resources: { requests: { cpu: '250m' } } }), { cpuShares: 256 });
  assert.deepEqual(cgroupResources({ resources: { limits: { cpu: '500m', memory: '64Mi' } } }), {
    cpuShares: 512,
    cpuQuota: 50_000,
    cpuPeriod: 100_000,
    memoryLimit: 67108864,
  });
  assert.deepEqual(cgroupResources({ resources: { requests: { cpu: '100m' }, limits: { cpu: '1', memory: '1G' } } }), {
    cpuShares: 102,
    cpuQuota: 100_000,
    cpuPeriod: 100_000,
    memoryLimit: 1e9,
  });
});
