import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError, toStatus } from '../../api/errors.ts';
import { applyJsonPatch, MAX_JSON_PATCH_COPY_BYTES, MAX_JSON_PATCH_OPERATIONS } from './json-patch.ts';
import { GENERIC_INVALID_MESSAGE } from './patch-errors.ts';

/** Asserts Kubernetes' generic 422 for a JSON patch that cannot apply, and returns the hidden reason. */
function rejects(original: unknown, patch: unknown): string {
  let reason = '';
  assert.throws(
    () => applyJsonPatch(original, patch),
    (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.code, 422);
      assert.equal(err.reason, 'Invalid');
      assert.equal(err.message, GENERIC_INVALID_MESSAGE);
      reason = String((err.cause as Error).message);
      return true;
    },
  );
  return reason;
}

function badRequest(patch: unknown, code = 400): string {
  let message = '';
  assert.throws(
    () => applyJsonPatch({}, patch),
    (err: unknown) => {
      assert.ok(err instanceof ApiError);
      assert.equal(err.code, code);
      message = err.message;
      return true;
    },
  );
  return message;
}

describe('JSON patch: add', () => {
  test('adds object members, replacing an existing one', () => {
    const out = applyJsonPatch({ a: 1 }, [
      { op: 'add', path: '/b', value: { c: [1] } },
      { op: 'add', path: '/a', value: 2 },
      { op: 'add', path: '/b/d', value: null },
    ]);
    assert.deepEqual(out, { a: 2, b: { c: [1], d: null } });
  });

  test('inserts into arrays by index, "-" appends, negative counts from the end', () => {
    const doc = { l: ['a', 'b'] };
    assert.deepEqual(applyJsonPatch(doc, [{ op: 'add', path: '/l/0', value: 'x' }]), { l: ['x', 'a', 'b'] });
    assert.deepEqual(applyJsonPatch(doc, [{ op: 'add', path: '/l/2', value: 'x' }]), { l: ['a', 'b', 'x'] });
    assert.deepEqual(applyJsonPatch(doc, [{ op: 'add', path: '/l/-', value: 'x' }]), { l: ['a', 'b', 'x'] });
    assert.deepEqual(applyJsonPatch(doc, [{ op: 'add', path: '/l/-1', value: 'x' }]), { l: ['a', 'b', 'x'] });
    assert.deepEqual(applyJsonPatch(doc, [{ op: 'add', path: '/l/-3', value: 'x' }]), { l: ['x', 'a', 'b'] });
  });

  test('rejects out-of-range and malformed indices', () => {
    rejects({ l: ['a'] }, [{ op: 'add', path: '/l/2', value: 'x' }]);
    rejects({ l: ['a'] }, [{ op: 'add', path: '/l/-3', value: 'x' }]);
    assert.match(rejects({ l: ['a'] }, [{ op: 'add', path: '/l/x', value: 'x' }]), /not a proper array index/);
  });

  test('rejects a missing parent and a path without a leading slash', () => {
    assert.match(rejects({}, [{ op: 'add', path: '/a/b', value: 1 }]), /missing path/);
    rejects({}, [{ op: 'add', path: 'a', value: 1 }]);
    rejects({ a: 'str' }, [{ op: 'add', path: '/a/b', value: 1 }]);
    rejects({ a: null }, [{ op: 'add', path: '/a/b', value: 1 }]);
  });

  test('decodes ~1 and ~0 in pointer tokens', () => {
    const out = applyJsonPatch({ metadata: { labels: {} } }, [
      { op: 'add', path: '/metadata/labels/app.kubernetes.io~1name', value: 'web' },
      { op: 'add', path: '/metadata/labels/a~0b', value: 'tilde' },
      { op: 'add', path: '/metadata/labels/~01', value: 'not a slash' },
    ]);
    assert.deepEqual(out, {
      metadata: { labels: { 'app.kubernetes.io/name': 'web', 'a~b': 'tilde', '~1': 'not a slash' } },
    });
  });

  test('an empty token names the empty key', () => {
    assert.deepEqual(applyJsonPatch({}, [{ op: 'add', path: '/', value: 1 }]), { '': 1 });
  });

  test('a missing value adds null, as Kubernetes does', () => {
    assert.deepEqual(applyJsonPatch({}, [{ op: 'add', path: '/a' }]), { a: null });
  });
});

describe('JSON patch: remove and replace', () => {
  test('removes members and elements', () => {
    const out = applyJsonPatch({ a: 1, b: [1, 2, 3] }, [
      { op: 'remove', path: '/a' },
      { op: 'remove', path: '/b/1' },
      { op: 'remove', path: '/b/-1' },
    ]);
    assert.deepEqual(out, { b: [1] });
  });

  test('removing a missing member or index fails', () => {
    assert.match(rejects({}, [{ op: 'remove', path: '/spec/affinity' }]), /missing path/);
    assert.match(rejects({ a: 1 }, [{ op: 'remove', path: '/b' }]), /nonexistent key/);
    rejects({ l: [1] }, [{ op: 'remove', path: '/l/1' }]);
    rejects({ l: [1] }, [{ op: 'remove', path: '/l/-' }]);
  });

  test('replaces members, elements and the whole document', () => {
    assert.deepEqual(applyJsonPatch({ a: 1 }, [{ op: 'replace', path: '/a', value: 2 }]), { a: 2 });
    assert.deepEqual(applyJsonPatch({ l: [1, 2] }, [{ op: 'replace', path: '/l/-1', value: 9 }]), { l: [1, 9] });
    assert.deepEqual(applyJsonPatch({ a: 1 }, [{ op: 'replace', path: '', value: { b: 2 } }]), { b: 2 });
    rejects({ a: 1 }, [{ op: 'replace', path: '', value: 3 }]);
  });

  test('replace of a missing member adds it (Kubernetes leniency); of a missing index fails', () => {
    assert.deepEqual(applyJsonPatch({ metadata: {} }, [{ op: 'replace', path: '/metadata/x', value: 1 }]), {
      metadata: { x: 1 },
    });
    rejects({ l: [1] }, [{ op: 'replace', path: '/l/1', value: 2 }]);
    rejects({ l: [1] }, [{ op: 'replace', path: '/l/-', value: 2 }]);
  });
});

describe('JSON patch: move, copy, test', () => {
  test('move relocates a value', () => {
    const out = applyJsonPatch({ a: { x: 1 }, l: [1, 2] }, [
      { op: 'move', from: '/a/x', path: '/b' },
      { op: 'move', from: '/l/0', path: '/l/-' },
    ]);
    assert.deepEqual(out, { a: {}, b: 1, l: [2, 1] });
  });

  test('move from a missing path or into its own child fails', () => {
    rejects({}, [{ op: 'move', from: '/a', path: '/b' }]);
    rejects({ a: { b: {} } }, [{ op: 'move', from: '/a', path: '/a/b/c' }]);
    rejects({ a: 1 }, [{ op: 'move', path: '/b' }]);
  });

  test('copy duplicates without aliasing', () => {
    const out = applyJsonPatch({ a: { x: [1] } }, [
      { op: 'copy', from: '/a', path: '/b' },
      { op: 'add', path: '/b/x/-', value: 2 },
    ]);
    assert.deepEqual(out, { a: { x: [1] }, b: { x: [1, 2] } });
  });

  test('copy from a missing member fails', () => {
    assert.match(rejects({}, [{ op: 'copy', from: '/nope', path: '/b' }]), /missing from path/);
  });

  test('copy growth is capped (Kubernetes JSONPatchMaxCopyBytes)', () => {
    const doc = { a: 'x'.repeat(1024 * 1024) };
    const ops = [1, 2, 3, 4].map((i) => ({ op: 'copy', from: '/a', path: `/c${i}` }));
    assert.match(rejects(doc, ops), new RegExp(`exceeding the limit ${MAX_JSON_PATCH_COPY_BYTES}`));
  });

  test('test compares structurally and stops the patch when it fails', () => {
    const doc = { metadata: { resourceVersion: '5', labels: { a: 'b', c: 'd' } }, l: [1, { x: 2 }] };
    const ok = applyJsonPatch(doc, [
      { op: 'test', path: '/metadata/labels', value: { c: 'd', a: 'b' } },
      { op: 'test', path: '/l', value: [1, { x: 2 }] },
      { op: 'test', path: '/l/-1/x', value: 2 },
      { op: 'replace', path: '/metadata/resourceVersion', value: '6' },
    ]) as typeof doc;
    assert.equal(ok.metadata.resourceVersion, '6');
    assert.match(
      rejects(doc, [
        { op: 'test', path: '/metadata/resourceVersion', value: '4' },
        { op: 'replace', path: '/metadata/resourceVersion', value: '6' },
      ]),
      /testing value \/metadata\/resourceVersion failed/,
    );
    rejects(doc, [{ op: 'test', path: '/metadata/labels', value: { a: 'b' } }]);
    rejects(doc, [{ op: 'test', path: '/l/0', value: '1' }]);
  });

  test('test on a missing member passes only for null (Kubernetes leniency)', () => {
    assert.deepEqual(applyJsonPatch({ a: 1 }, [{ op: 'test', path: '/b', value: null }]), { a: 1 });
    assert.deepEqual(applyJsonPatch({ a: 1 }, [{ op: 'test', path: '/b' }]), { a: 1 });
    rejects({ metadata: {} }, [{ op: 'test', path: '/metadata/annotations/x', value: 'y' }]);
    rejects({ a: 1 }, [{ op: 'test', path: '/a' }]);
  });

  test('test of the whole document', () => {
    assert.deepEqual(applyJsonPatch({ a: 1 }, [{ op: 'test', path: '', value: { a: 1 } }]), { a: 1 });
    rejects({ a: 1 }, [{ op: 'test', path: '', value: { a: 2 } }]);
  });
});

describe('JSON patch: malformed bodies', () => {
  test('unknown or missing op is a 422', () => {
    assert.match(rejects({}, [{ op: 'frobnicate', path: '/a' }]), /Unexpected kind: frobnicate/);
    assert.match(rejects({}, [{ path: '/a' }]), /Unexpected kind: unknown/);
    assert.match(rejects({}, [null]), /Unexpected kind: unknown/);
    rejects({}, [{ op: 'add', path: 5, value: 1 }]);
  });

  test('a body that is not a list of objects is a 400 in Go decoder words', () => {
    assert.equal(badRequest({ op: 'add' }), 'json: cannot unmarshal object into Go value of type jsonpatch.Patch');
    assert.equal(badRequest(['add']), 'json: cannot unmarshal string into Go value of type jsonpatch.Operation');
  });

  test('a null body is an empty patch', () => {
    assert.deepEqual(applyJsonPatch({ a: 1 }, null), { a: 1 });
  });

  test('more than 10000 operations is a 413', () => {
    const ops = Array.from({ length: MAX_JSON_PATCH_OPERATIONS + 1 }, () => ({ op: 'test', path: '/a', value: 1 }));
    assert.match(badRequest(ops, 413), /maximum operations in a JSON patch is 10000, got 10001/);
    assert.deepEqual(applyJsonPatch({ a: 1 }, ops.slice(1)), { a: 1 });
  });

  test('the 422 renders as Kubernetes renders it', () => {
    try {
      applyJsonPatch({}, [{ op: 'remove', path: '/x' }]);
      assert.fail('expected a failure');
    } catch (err) {
      assert.deepEqual(toStatus(err), {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: 'the server rejected our request due to an error in our request',
        reason: 'Invalid',
        details: {},
        code: 422,
      });
    }
  });
});

describe('JSON patch: safety', () => {
  test('never changes its inputs, and a failed patch leaves the original intact', () => {
    const original = { a: { b: [1, 2] } };
    const patch = [
      { op: 'add', path: '/a/b/-', value: { deep: true } },
      { op: 'remove', path: '/a/b/0' },
    ];
    const snapshot = structuredClone({ original, patch });
    const out = applyJsonPatch(original, patch) as { a: { b: unknown[] } };
    assert.deepEqual({ original, patch }, snapshot);
    (out.a.b[1] as { deep: boolean }).deep = false;
    assert.deepEqual(patch[0].value, { deep: true });
    rejects(original, [
      { op: 'remove', path: '/a/b/0' },
      { op: 'remove', path: '/zzz' },
    ]);
    assert.deepEqual(original, snapshot.original);
  });

  test('"__proto__" and "constructor" are ordinary keys', () => {
    const out = applyJsonPatch({}, [
      { op: 'add', path: '/__proto__', value: { polluted: true } },
      { op: 'add', path: '/__proto__/more', value: 1 },
      { op: 'add', path: '/constructor', value: 'c' },
    ]) as Record<string, unknown>;
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, { polluted: true, more: 1 });
    assert.equal(out.constructor, 'c');
    rejects({}, [{ op: 'remove', path: '/toString' }]);
    rejects({}, [{ op: 'add', path: '/constructor/prototype/polluted', value: 1 }]);
  });

  test('deeply nested values are refused with a 400 instead of overflowing the stack', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 100_000; i++) deep = { d: deep };
    assert.throws(
      () => applyJsonPatch({}, [{ op: 'add', path: '/x', value: deep }]),
      (err: unknown) => err instanceof ApiError && err.code === 400 && /nesting depth/.test(err.message),
    );
  });
});
