import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ApiError } from './errors.ts';
import {
  formatLabels,
  formatLabelSelector,
  labelSelectorToRequirements,
  matchesSelector,
  parseLabelSelector,
  selectorToString,
  validateAnnotations,
  validateLabels,
} from './labels.ts';

function parseError(input: string): string {
  try {
    parseLabelSelector(input);
  } catch (err) {
    assert.ok(err instanceof ApiError);
    assert.equal(err.code, 400);
    return err.message;
  }
  assert.fail(`expected ${input} to fail`);
}

describe('parseLabelSelector', () => {
  test('parses every operator and normalizes', () => {
    const sel = parseLabelSelector('z=1, a==2,b!=3,c in (y, x ,x),d notin (q),e,!f,g>5,h<7');
    assert.equal(selectorToString(sel), 'a==2,b!=3,c in (x,y),d notin (q),e,!f,g>5,h<7,z=1');
    assert.deepEqual(sel.find((r) => r.key === 'c'), { key: 'c', operator: 'in', values: ['x', 'y'] });
  });

  test('empty selector matches everything; empty value means empty label', () => {
    assert.deepEqual(parseLabelSelector(''), []);
    assert.ok(matchesSelector(parseLabelSelector('  '), { a: 'b' }));
    assert.ok(matchesSelector(parseLabelSelector('a='), { a: '' }));
    assert.ok(matchesSelector(parseLabelSelector('a in ()'), { a: '' }));
  });

  test('matches like Kubernetes', () => {
    const labels = { app: 'web', tier: 'front', n: '10' };
    assert.ok(matchesSelector(parseLabelSelector('app=web,tier in (front,back)'), labels));
    assert.ok(!matchesSelector(parseLabelSelector('app=web,tier notin (front)'), labels));
    assert.ok(matchesSelector(parseLabelSelector('missing!=x'), labels));
    assert.ok(matchesSelector(parseLabelSelector('missing notin (x)'), labels));
    assert.ok(!matchesSelector(parseLabelSelector('missing in (x)'), labels));
    assert.ok(matchesSelector(parseLabelSelector('!missing,app'), labels));
    assert.ok(!matchesSelector(parseLabelSelector('!app'), labels));
    assert.ok(matchesSelector(parseLabelSelector('n>5,n<11'), labels));
    assert.ok(!matchesSelector(parseLabelSelector('app>5'), labels));
    assert.ok(!matchesSelector(parseLabelSelector('app'), undefined));
  });

  test('errors use Kubernetes wording', () => {
    assert.equal(parseError('env IN (a)'), 'unable to parse requirement: found \'IN\', expected: in, notin, =, ==, !=, gt, lt');
    assert.equal(parseError('a=b c'), "found 'c', expected: ',' or 'end of string'");
    assert.equal(parseError('a=b,'), "found '', expected: identifier after ','");
    assert.equal(parseError('=b'), "found '=', expected: !, identifier, or 'end of string'");
    assert.equal(parseError('a in x'), "unable to parse requirement: found 'x' expected: '('");
    assert.equal(parseError('a in (x'), "unable to parse requirement: found '', expected: ',' or ')'");
    assert.match(parseError('a:=b'), /^unable to parse requirement: <nil>: Invalid value: "a:": name part must consist of/);
    assert.match(
      parseError('app=-web'),
      /^unable to parse requirement: values\[0\]\[app\]: Invalid value: "-web": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '\.', and must start and end with an alphanumeric character \(e\.g\. 'MyValue', {2}or 'my_value', {2}or '12345', regex used for validation is '\(\(\[A-Za-z0-9\]\[-A-Za-z0-9_\.\]\*\)\?\[A-Za-z0-9\]\)\?'\)$/,
    );
    assert.match(parseError('a>x'), /for 'Gt', 'Lt' operators, the value must be an integer/);
  });
});

describe('metav1.LabelSelector', () => {
  test('converts matchLabels and matchExpressions', () => {
    const reqs = labelSelectorToRequirements({
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['b', 'a'] },
        { key: 'old', operator: 'DoesNotExist' },
        { key: 'env', operator: 'Exists' },
        { key: 'x', operator: 'NotIn', values: ['1'] },
      ],
    });
    assert.ok(reqs);
    assert.equal(selectorToString(reqs), 'app=web,env,!old,tier in (a,b),x notin (1)');
    assert.ok(matchesSelector(reqs, { app: 'web', tier: 'a', env: '' }));
    assert.equal(labelSelectorToRequirements(null), undefined);
    assert.deepEqual(labelSelectorToRequirements({}), []);
  });

  test('rejects bad operators and formats for tables', () => {
    assert.throws(
      () => labelSelectorToRequirements({ matchExpressions: [{ key: 'a', operator: 'Bogus' }] }),
      /"Bogus" is not a valid label selector operator/,
    );
    assert.equal(formatLabelSelector({ matchLabels: { b: '2', a: '1' } }), 'a=1,b=2');
    assert.equal(formatLabelSelector({}), '<none>');
    assert.equal(formatLabels({ b: '2', a: '1' }), 'a=1,b=2');
    assert.equal(formatLabels({}), '<none>');
  });
});

describe('validateLabels / validateAnnotations', () => {
  test('keys and values are reported at the labels path', () => {
    const causes = validateLabels({ 'example.com/ok': 'fine', 'bad key': 'v', k: 'x'.repeat(64) }, 'metadata.labels');
    assert.equal(causes.length, 2);
    assert.equal(causes[0].field, 'metadata.labels');
    assert.match(causes[0].message ?? '', /^Invalid value: "bad key": name part must consist of/);
    assert.match(causes[1].message ?? '', /must be no more than 63 characters$/);
    assert.deepEqual(validateLabels({ 'a.b/c': '' }, 'x'), []);
  });

  test('prefix must be a DNS subdomain', () => {
    const [cause] = validateLabels({ 'Bad_Prefix/name': 'v' }, 'metadata.labels');
    assert.match(cause.message ?? '', /prefix part a lowercase RFC 1123 subdomain/);
  });

  test('annotations: 256 KiB total', () => {
    assert.deepEqual(validateAnnotations({ 'Example.com/Key': 'v' }, 'metadata.annotations'), []);
    const [cause] = validateAnnotations({ a: 'x'.repeat(256 * 1024) }, 'metadata.annotations');
    assert.deepEqual(cause, {
      reason: 'FieldValueTooLong',
      message: 'Too long: must have at most 262144 bytes',
      field: 'metadata.annotations',
    });
  });
});
