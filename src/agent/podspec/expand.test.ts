import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { expand, mappingFor } from './expand.ts';

const vars = new Map([
  ['VAR_A', 'A'],
  ['VAR_B', 'B'],
  ['EMPTY', ''],
]);
const m = mappingFor(vars);

describe('expand (cases from Kubernetes expansion tests)', () => {
  const cases: [string, string][] = [
    ['$(VAR_A)', 'A'],
    ['___$(VAR_B)___', '___B___'],
    ['$(VAR_A)-$(VAR_B)', 'A-B'],
    ['$(VAR_A)$(VAR_B)', 'AB'],
    ['$(EMPTY)', ''],
    ['$(UNKNOWN)', '$(UNKNOWN)'],
    ['$$(VAR_A)', '$(VAR_A)'],
    ['$$$(VAR_A)', '$A'],
    ['$$$$(VAR_A)', '$$(VAR_A)'],
    ['$$', '$'],
    ['$', '$'],
    ['foo$', 'foo$'],
    ['$(VAR_A', '$(VAR_A'],
    ['$(VAR_A)$(', 'A$('],
    ['$VAR_A', '$VAR_A'],
    ['$()', '$()'],
    ['f00__(VAR_A)__', 'f00__(VAR_A)__'],
    ['$(VAR_A)$$(VAR_B)', 'A$(VAR_B)'],
    ['$(VAR_A)_$(UNKNOWN)_$(VAR_B)', 'A_$(UNKNOWN)_B'],
    ['no vars', 'no vars'],
    ['$(VAR_A)))', 'A))'],
  ];
  for (const [input, want] of cases) {
    test(JSON.stringify(input), () => assert.equal(expand(input, m), want));
  }
});

test('mappingFor searches contexts in order', () => {
  const first = new Map([['X', '1']]);
  const second = new Map([
    ['X', '2'],
    ['Y', '3'],
  ]);
  assert.equal(expand('$(X)$(Y)', mappingFor(first, second)), '13');
});
