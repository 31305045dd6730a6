import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Expectations } from './expectations.ts';

describe('expectations', () => {
  test('unknown keys are satisfied; creations must all be observed', () => {
    const e = new Expectations();
    assert.equal(e.satisfied('ns/web'), true);
    e.expectCreations('ns/web', 3);
    assert.equal(e.satisfied('ns/web'), false);
    e.creationObserved('ns/web');
    e.creationObserved('ns/web');
    assert.deepEqual(e.pending('ns/web'), { adds: 1, dels: 0 });
    assert.equal(e.satisfied('ns/web'), false);
    e.creationObserved('ns/web');
    assert.equal(e.satisfied('ns/web'), true);
  });

  test('deletions are tracked by pod key and each counts once', () => {
    const e = new Expectations();
    e.expectDeletions('ns/web', ['ns/a', 'ns/b']);
    e.deletionObserved('ns/web', 'ns/a');
    e.deletionObserved('ns/web', 'ns/a'); // seen terminating, then removed: still one
    e.deletionObserved('ns/web', 'ns/other'); // not one we deleted
    assert.equal(e.satisfied('ns/web'), false);
    e.deletionObserved('ns/web', 'ns/b');
    assert.equal(e.satisfied('ns/web'), true);
  });

  test('expectations expire so a lost event cannot stall the controller', () => {
    let now = 0;
    const e = new Expectations({ ttlMs: 1000, now: () => now });
    e.expectCreations('ns/web', 1);
    now = 999;
    assert.equal(e.satisfied('ns/web'), false);
    now = 1001;
    assert.equal(e.satisfied('ns/web'), true);
  });

  test('delete forgets the key', () => {
    const e = new Expectations();
    e.expectCreations('ns/web', 2);
    e.delete('ns/web');
    assert.equal(e.satisfied('ns/web'), true);
    assert.equal(e.pending('ns/web'), undefined);
  });
});
