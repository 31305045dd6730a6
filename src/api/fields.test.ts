import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkSupportedFields, fieldSelectorToString, matchesFields, parseFieldSelector, requiresExactMatch } from './fields.ts';

test('parses =, == and != with comma AND', () => {
  const sel = parseFieldSelector('metadata.name=web,status.phase!=Running,spec.nodeName==n1');
  assert.deepEqual(sel, [
    { field: 'metadata.name', operator: '=', value: 'web' },
    { field: 'status.phase', operator: '!=', value: 'Running' },
    { field: 'spec.nodeName', operator: '=', value: 'n1' },
  ]);
  assert.ok(matchesFields(sel, { 'metadata.name': 'web', 'status.phase': 'Pending', 'spec.nodeName': 'n1' }));
  assert.ok(!matchesFields(sel, { 'metadata.name': 'web', 'status.phase': 'Running', 'spec.nodeName': 'n1' }));
  assert.equal(requiresExactMatch(sel, 'metadata.name'), 'web');
  assert.deepEqual(parseFieldSelector(''), []);
});

test('empty values and escapes', () => {
  const sel = parseFieldSelector('spec.nodeName=,a=x\\,y\\=z');
  assert.ok(matchesFields(sel, { a: 'x,y=z' }));
  assert.equal(fieldSelectorToString(sel), 'spec.nodeName=,a=x\\,y\\=z');
});

test('errors are 400s with Kubernetes wording', () => {
  assert.throws(() => parseFieldSelector('nonsense'), { code: 400, message: "invalid selector: 'nonsense'; can't understand 'nonsense'" });
  assert.throws(() => parseFieldSelector('a=b=c'), { code: 400, message: 'invalid field selector: unescaped character in value: =' });
  assert.throws(() => checkSupportedFields(parseFieldSelector('spec.foo=1'), ['metadata.name']), {
    code: 400,
    message: 'field label not supported: spec.foo',
  });
  assert.doesNotThrow(() => checkSupportedFields(parseFieldSelector('metadata.name=1'), ['metadata.name']));
});
