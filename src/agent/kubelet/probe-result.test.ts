import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyProbeOutcome, initialProbeState, probeTiming, unhealthyMessage } from './probe-result.ts';

describe('probe results', () => {
  test('initial results: live, not ready, not started', () => {
    assert.equal(initialProbeState('liveness').result, 'success');
    assert.equal(initialProbeState('readiness').result, 'failure');
    assert.equal(initialProbeState('startup').result, 'unknown');
  });

  test('failures flip the result only after failureThreshold in a row', () => {
    const timing = probeTiming({ failureThreshold: 3 }, 'liveness');
    let s = initialProbeState('liveness');
    s = applyProbeOutcome(s, false, timing);
    s = applyProbeOutcome(s, false, timing);
    assert.equal(s.result, 'success');
    s = applyProbeOutcome(s, true, timing);
    s = applyProbeOutcome(s, false, timing);
    s = applyProbeOutcome(s, false, timing);
    assert.equal(s.result, 'success', 'a success in between resets the run');
    s = applyProbeOutcome(s, false, timing);
    assert.equal(s.result, 'failure');
  });

  test('readiness needs successThreshold successes; liveness and startup always use 1', () => {
    const timing = probeTiming({ successThreshold: 2 }, 'readiness');
    let s = applyProbeOutcome(initialProbeState('readiness'), true, timing);
    assert.equal(s.result, 'failure');
    s = applyProbeOutcome(s, true, timing);
    assert.equal(s.result, 'success');
    assert.equal(probeTiming({ successThreshold: 5 }, 'liveness').successThreshold, 1);
  });

  test('defaults are core/v1 defaults', () => {
    assert.deepEqual(probeTiming({}, 'readiness'), {
      periodSeconds: 10,
      timeoutSeconds: 1,
      successThreshold: 1,
      failureThreshold: 3,
      initialDelaySeconds: 0,
    });
    assert.equal(probeTiming({ periodSeconds: 2, initialDelaySeconds: 5 }, 'liveness').periodSeconds, 2);
  });

  test('event wording', () => {
    assert.equal(
      unhealthyMessage('liveness', 'HTTP probe failed with statuscode: 500'),
      'Liveness probe failed: HTTP probe failed with statuscode: 500',
    );
  });
});
