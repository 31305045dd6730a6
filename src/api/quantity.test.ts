import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isValidQuantity, parseQuantity } from './quantity.ts';

test('parses quantities to base units', () => {
  assert.equal(parseQuantity('100m'), 0.1);
  assert.equal(parseQuantity('1Gi'), 2 ** 30);
  assert.equal(parseQuantity('1.5k'), 1500);
  assert.equal(parseQuantity('2e3'), 2000);
  assert.equal(parseQuantity(4), 4);
  assert.equal(parseQuantity('1000m'), parseQuantity('1'));
  assert.equal(parseQuantity('abc'), undefined);
  assert.ok(!isValidQuantity('1Gb'));
});
