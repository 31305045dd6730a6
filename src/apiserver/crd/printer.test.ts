import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cronTab } from './fixtures.test-helpers.ts';
import { evalJsonPath, parseJsonPath } from './jsonpath.ts';
import { cellsFor, DEFAULT_COLUMNS, humanAge, printerColumnsOf, tableColumns } from './printer.ts';

const NOW = new Date('2025-01-10T00:00:00Z');
const ago = (ms: number) => humanAge(new Date(NOW.getTime() - ms), NOW);
const S = 1000;
const M = 60 * S;
const H = 60 * M;
const D = 24 * H;

describe('humanAge', () => {
  test('matches duration.HumanDuration', () => {
    assert.equal(ago(5 * S), '5s');
    assert.equal(ago(119 * S), '119s');
    assert.equal(ago(3 * M + 20 * S), '3m20s');
    assert.equal(ago(5 * M), '5m');
    assert.equal(ago(150 * M), '150m');
    assert.equal(ago(5 * H + 30 * M), '5h30m');
    assert.equal(ago(30 * H), '30h');
    assert.equal(ago(3 * D + 4 * H), '3d4h');
    assert.equal(ago(100 * D), '100d');
    assert.equal(ago(800 * D), '2y70d');
    assert.equal(ago(-10 * S), '<invalid>');
  });
});

describe('jsonpath', () => {
  const obj = {
    spec: { hosts: ['a', 'b'], ports: [{ n: 1 }, { n: 2 }] },
    status: {
      conditions: [
        { type: 'Synced', status: 'True' },
        { type: 'Ready', status: 'False' },
      ],
    },
  };
  test('fields, indexes, wildcards, filters, recursion', () => {
    const run = (p: string) => evalJsonPath(parseJsonPath(p), obj);
    assert.deepEqual(run('.spec.hosts'), [['a', 'b']]);
    assert.deepEqual(run('.spec.hosts[*]'), ['a', 'b']);
    assert.deepEqual(run('.spec.hosts[-1]'), ['b']);
    assert.deepEqual(run('.spec.ports[*].n'), [1, 2]);
    assert.deepEqual(run('.status.conditions[?(@.type=="Ready")].status'), ['False']);
    assert.deepEqual(run("['spec']['hosts'][0]"), ['a']);
    assert.deepEqual(run('..n'), [1, 2]);
    assert.deepEqual(run('.spec.missing.x'), []);
  });
});

describe('printer columns', () => {
  test('typed cells like the apiextensions table convertor', () => {
    const crd = cronTab();
    crd.spec.versions[0].additionalPrinterColumns!.push(
      { name: 'Hosts', type: 'string', jsonPath: '.spec.hosts' },
      { name: 'First', type: 'string', jsonPath: '.spec.hosts[*]' },
      { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
      { name: 'Bad', type: 'integer', jsonPath: '.spec.cronSpec' },
    );
    const cols = printerColumnsOf(crd, 'v1');
    const cells = cellsFor(cols)(
      {
        metadata: { creationTimestamp: '2025-01-09T21:00:00Z' },
        spec: { cronSpec: '* * * * */5', replicas: 3, hosts: ['a', 'b'] },
        status: { conditions: [{ type: 'Ready', status: 'True' }] },
      },
      NOW,
    );
    assert.deepEqual(cells, ['* * * * */5', 3, '3h', '["a","b"]', 'a', 'True', null]);
    assert.deepEqual(tableColumns(cols)[0], {
      name: 'Spec',
      type: 'string',
      description: 'Custom resource definition column (in JSONPath format): .spec.cronSpec',
      priority: 0,
    });
  });

  test('versions without columns get AGE only', () => {
    const crd = cronTab();
    delete crd.spec.versions[0].additionalPrinterColumns;
    const cols = printerColumnsOf(crd, 'v1');
    assert.equal(cols, DEFAULT_COLUMNS);
    assert.deepEqual(
      tableColumns(cols).map((c) => [c.name, c.type]),
      [['Age', 'date']],
    );
    assert.deepEqual(cellsFor(cols)({ metadata: { creationTimestamp: 'junk' } }, NOW), ['<invalid>']);
    assert.deepEqual(cellsFor(cols)({ metadata: {} }, NOW), [null]);
  });
});
