import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type GcImage, planImageGc } from './gc.ts';

const MB = 1_000_000;
const images: GcImage[] = [
  { id: 'sha256:old', names: ['docker.io/library/old:1'], layers: ['base', 'old'], lastUsed: '2024-01-01T00:00:00Z' },
  { id: 'sha256:mid', names: ['docker.io/library/mid:1'], layers: ['base', 'mid'], lastUsed: '2024-02-01T00:00:00Z' },
  { id: 'sha256:new', names: ['docker.io/library/new:1'], layers: ['base', 'new'], lastUsed: '2024-03-01T00:00:00Z' },
];
const layerSizes = { base: 50 * MB, old: 10 * MB, mid: 20 * MB, new: 30 * MB };

describe('image GC plan', () => {
  test('does nothing below the high threshold', () => {
    const plan = planImageGc({ images, layerSizes, inUse: new Set(), capacityBytes: 1000 * MB, availableBytes: 200 * MB, highPercent: 85, lowPercent: 80 });
    assert.equal(plan.usagePercent, 80);
    assert.deepEqual(plan.remove, []);
  });

  test('frees down to the low threshold, least recently used first, counting shared layers once', () => {
    // 90% used: must free 1000*20% - 100 = 100 MB.
    const plan = planImageGc({ images, layerSizes, inUse: new Set(), capacityBytes: 1000 * MB, availableBytes: 100 * MB, highPercent: 85, lowPercent: 80 });
    assert.equal(plan.bytesToFree, 100 * MB);
    // old frees 10 MB, mid 20 MB, new 30 + base 50 MB (last user of base) = 110 MB.
    assert.deepEqual(plan.remove, ['sha256:old', 'sha256:mid', 'sha256:new']);
    assert.equal(plan.bytesFreed, 110 * MB);
  });

  test('never removes images in use (by ID or name)', () => {
    const plan = planImageGc({
      images,
      layerSizes,
      inUse: new Set(['sha256:old', 'docker.io/library/new:1']),
      capacityBytes: 1000 * MB,
      availableBytes: 100 * MB,
      highPercent: 85,
      lowPercent: 80,
    });
    assert.deepEqual(plan.remove, ['sha256:mid']);
    assert.equal(plan.bytesFreed, 20 * MB);
  });
});
