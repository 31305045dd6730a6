import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../api/types.ts';
import { expiresAtMs } from './ttl-after-finished.ts';

const job = (spec: Record<string, unknown>, conditions: Record<string, unknown>[], deleting = false): KubeObject => ({
  metadata: { name: 'j', ...(deleting ? { deletionTimestamp: '2024-05-01T10:05:00Z' } : {}) },
  spec,
  status: { conditions },
});
const complete = { type: 'Complete', status: 'True', lastTransitionTime: '2024-05-01T10:00:00Z' };

test('a finished Job expires ttlSecondsAfterFinished after its terminal condition', () => {
  assert.equal(expiresAtMs(job({ ttlSecondsAfterFinished: 30 }, [complete])), Date.parse('2024-05-01T10:00:30Z'));
  assert.equal(expiresAtMs(job({ ttlSecondsAfterFinished: 0 }, [{ ...complete, type: 'Failed' }])), Date.parse('2024-05-01T10:00:00Z'));
});

test('no TTL, not finished, or already being deleted: never', () => {
  assert.equal(expiresAtMs(job({}, [complete])), undefined);
  assert.equal(expiresAtMs(job({ ttlSecondsAfterFinished: 30 }, [{ type: 'SuccessCriteriaMet', status: 'True' }])), undefined);
  assert.equal(expiresAtMs(job({ ttlSecondsAfterFinished: 30 }, [{ ...complete, status: 'False' }])), undefined);
  assert.equal(expiresAtMs(job({ ttlSecondsAfterFinished: 30 }, [complete], true)), undefined);
});
