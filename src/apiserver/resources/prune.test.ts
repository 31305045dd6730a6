import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFieldPath, removeFieldPaths } from './prune.ts';

test('parses field paths with list indexes', () => {
  assert.deepEqual(parseFieldPath('spec.template.spec.containers[0].imagee'), ['spec', 'template', 'spec', 'containers', 0, 'imagee']);
  assert.deepEqual(parseFieldPath('a[1][2].b'), ['a', 1, 2, 'b']);
});

test('removes unknown fields and leaves the rest', () => {
  const obj = { spec: { containers: [{ name: 'a', imagee: 'x' }, { name: 'b' }], foo: 1 }, dataa: {} };
  removeFieldPaths(obj, ['spec.containers[0].imagee', 'spec.foo', 'dataa', 'spec.missing.deep']);
  assert.deepEqual(obj, { spec: { containers: [{ name: 'a' }, { name: 'b' }] } });
});
