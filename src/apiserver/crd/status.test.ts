import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cronTab } from './fixtures.test-helpers.ts';
import { crdStatus } from './status.ts';

const NOW = new Date('2025-01-02T03:04:05.678Z');

describe('crdStatus', () => {
  test('a CRD with free names is accepted and established', () => {
    const status = crdStatus(cronTab(), [], NOW);
    assert.deepEqual(status.acceptedNames, {
      plural: 'crontabs',
      singular: 'crontab',
      shortNames: ['ct'],
      kind: 'CronTab',
      listKind: 'CronTabList',
    });
    assert.deepEqual(status.conditions, [
      {
        type: 'NamesAccepted',
        status: 'True',
        lastTransitionTime: '2025-01-02T03:04:05Z',
        reason: 'NoConflicts',
        message: 'no conflicts found',
      },
      {
        type: 'Established',
        status: 'True',
        lastTransitionTime: '2025-01-02T03:04:05Z',
        reason: 'InitialNamesAccepted',
        message: 'the initial names have been accepted',
      },
    ]);
    assert.deepEqual(status.storedVersions, ['v1']);
  });

  test('names taken by another CRD of the same group conflict; other groups do not', () => {
    const other = cronTab();
    other.metadata.name = 'crontabs2.stable.example.com';
    other.status = crdStatus(other, [], NOW);
    const status = crdStatus(cronTab(), [other], NOW);
    const accepted = status.conditions.find((c) => c.type === 'NamesAccepted')!;
    assert.equal(accepted.status, 'False');
    assert.equal(accepted.reason, 'ListKindConflict');
    assert.equal(accepted.message, '"CronTabList" is already in use');
    assert.deepEqual(status.acceptedNames, { plural: '', kind: '' });
    assert.deepEqual(
      status.conditions.find((c) => c.type === 'Established'),
      {
        type: 'Established',
        status: 'False',
        lastTransitionTime: '2025-01-02T03:04:05Z',
        reason: 'NotAccepted',
        message: 'not all names are accepted',
      },
    );

    other.spec.group = 'other.example.com';
    assert.equal(crdStatus(cronTab(), [other], NOW).conditions[0].status, 'True');
  });

  test('a plural clash is reported as PluralConflict while free names are still taken', () => {
    const other = cronTab();
    other.metadata.name = 'x.stable.example.com';
    other.status = { acceptedNames: { plural: 'crontabs', kind: 'Other' }, conditions: [], storedVersions: ['v1'] };
    const status = crdStatus(cronTab(), [other], NOW);
    assert.equal(status.conditions[0].reason, 'PluralConflict');
    assert.equal(status.acceptedNames.kind, 'CronTab');
    assert.equal(status.acceptedNames.plural, '');
  });

  test('keeps transition times when nothing changes and remembers stored versions', () => {
    const crd = cronTab();
    crd.status = crdStatus(crd, [], NOW);
    crd.spec.versions[0].storage = false;
    crd.spec.versions.push({ ...structuredClone(crd.spec.versions[0]), name: 'v2', storage: true });
    const later = crdStatus(crd, [], new Date('2025-02-01T00:00:00Z'));
    assert.equal(later.conditions[0].lastTransitionTime, '2025-01-02T03:04:05Z');
    assert.deepEqual(later.storedVersions, ['v1', 'v2']);
  });
});
