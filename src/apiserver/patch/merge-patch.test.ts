import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError } from '../../api/errors.ts';
import { applyMergePatch, mergePatch } from './merge-patch.ts';

describe('JSON merge patch (RFC 7386)', () => {
  // The examples of RFC 7386 appendix A.
  const rfcCases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [
      ['a', 'b'],
      ['c', 'd'],
      ['c', 'd'],
    ],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, expected] of rfcCases) {
    test(`${JSON.stringify(target)} + ${JSON.stringify(patch)}`, () => {
      assert.deepEqual(mergePatch(target, patch), expected);
    });
  }

  test('merges a Kubernetes object: labels added and removed, lists replaced', () => {
    const pod = {
      metadata: { name: 'p', labels: { app: 'web', tier: 'front' } },
      spec: { containers: [{ name: 'a', image: 'nginx:1.14' }, { name: 'b' }] },
    };
    const out = applyMergePatch(pod, {
      metadata: { labels: { tier: null, version: 'v2' } },
      spec: { containers: [{ name: 'a', image: 'nginx:1.15' }] },
    });
    assert.deepEqual(out, {
      metadata: { name: 'p', labels: { app: 'web', version: 'v2' } },
      spec: { containers: [{ name: 'a', image: 'nginx:1.15' }] },
    });
  });

  test('nulls inside inserted values are dropped, as Kubernetes does', () => {
    const out = mergePatch({ spec: {} }, { spec: { a: { b: null, c: 1 }, l: [{ x: null, y: 2 }, null] } });
    assert.deepEqual(out, { spec: { a: { c: 1 }, l: [{ y: 2 }] } });
  });

  test('the handler rejects null and scalar bodies with 400 "Invalid JSON Patch"', () => {
    for (const body of [null, 'x', 3, true]) {
      assert.throws(
        () => applyMergePatch({ a: 1 }, body),
        (err: unknown) => err instanceof ApiError && err.code === 400 && err.message === 'Invalid JSON Patch',
      );
    }
  });

  test('never changes its inputs nor shares structure with them', () => {
    const original = { a: { b: { c: 1 } }, keep: { deep: [1] } };
    const patch = { a: { b: { d: { e: 2 } } }, x: [{ y: 1 }] };
    const snapshot = structuredClone({ original, patch });
    const out = mergePatch(original, patch) as typeof original & typeof patch;
    assert.deepEqual({ original, patch }, snapshot);
    out.keep.deep.push(2);
    out.x[0].y = 9;
    assert.deepEqual({ original, patch }, snapshot);
  });

  test('"__proto__" keys are data, not prototypes', () => {
    const patch = JSON.parse('{"__proto__": {"polluted": true}, "a": {"__proto__": {"b": 1}}}');
    const out = mergePatch(JSON.parse('{"a": {"__proto__": {"c": 2}}}'), patch) as Record<string, unknown>;
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.getPrototypeOf(out), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, { polluted: true });
    const a = out.a as object;
    assert.equal(Object.getPrototypeOf(a), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(a, '__proto__')?.value, { c: 2, b: 1 });
  });

  test('deep nesting is refused with a 400', () => {
    let deep: unknown = {};
    for (let i = 0; i < 50_000; i++) deep = { d: deep };
    assert.throws(
      () => applyMergePatch({}, deep),
      (err: unknown) => err instanceof ApiError && err.code === 400,
    );
  });
});
