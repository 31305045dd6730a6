import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isPodActive, isPodAvailable, isPodReady, maxContainerRestarts } from './pod-conditions.ts';

describe('pod conditions', () => {
  const now = Date.parse('2025-01-01T00:01:00Z');
  const ready = {
    metadata: {},
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2025-01-01T00:00:30Z' }],
    },
  };

  test('active excludes finished and terminating pods', () => {
    assert.equal(isPodActive(ready), true);
    assert.equal(isPodActive({ metadata: {}, status: { phase: 'Succeeded' } }), false);
    assert.equal(isPodActive({ metadata: {}, status: { phase: 'Failed' } }), false);
    assert.equal(isPodActive({ metadata: { deletionTimestamp: 'x' }, status: { phase: 'Running' } }), false);
    assert.equal(isPodActive({ metadata: {} }), true);
  });

  test('ready and available after minReadySeconds', () => {
    assert.equal(isPodReady(ready), true);
    assert.equal(isPodReady({ metadata: {}, status: { conditions: [{ type: 'Ready', status: 'False' }] } }), false);
    assert.equal(isPodAvailable(ready, 0, now), true);
    assert.equal(isPodAvailable(ready, 20, now), true);
    assert.equal(isPodAvailable(ready, 30, now), false);
    assert.equal(
      maxContainerRestarts({ metadata: {}, status: { containerStatuses: [{ restartCount: 2 }, { restartCount: 5 }] } }),
      5,
    );
  });
});
