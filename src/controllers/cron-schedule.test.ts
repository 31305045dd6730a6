import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CronSyntaxError, parseGoDuration, parseSchedule } from './cron-schedule.ts';

const utc = (s: string) => new Date(s);
const nextIso = (schedule: string, after: string, timeZone = 'UTC') =>
  parseSchedule(schedule, { timeZone }).next(utc(after))?.toISOString();
const series = (schedule: string, after: string, n: number, timeZone = 'UTC') => {
  const s = parseSchedule(schedule, { timeZone });
  const out: string[] = [];
  let t: Date | undefined = utc(after);
  for (let i = 0; i < n && t; i++) {
    t = s.next(t);
    if (t) out.push(t.toISOString());
  }
  return out;
};

describe('cron schedule parsing', () => {
  test('steps, ranges, lists and names', () => {
    assert.equal(nextIso('*/15 * * * *', '2024-05-01T10:07:30Z'), '2024-05-01T10:15:00.000Z');
    assert.equal(nextIso('*/15 * * * *', '2024-05-01T10:45:00Z'), '2024-05-01T11:00:00.000Z');
    assert.equal(nextIso('5/20 * * * *', '2024-05-01T10:26:00Z'), '2024-05-01T10:45:00.000Z');
    assert.equal(nextIso('0 9-17/4 * * *', '2024-05-01T10:00:00Z'), '2024-05-01T13:00:00.000Z');
    assert.equal(nextIso('0 12 * jan-mar MON-FRI', '2024-03-29T13:00:00Z'), '2025-01-01T12:00:00.000Z');
    assert.equal(nextIso('0 0 1,15 * *', '2024-05-02T00:00:00Z'), '2024-05-15T00:00:00.000Z');
  });

  test('every minute fires on the next whole minute, never the same instant', () => {
    assert.deepEqual(series('* * * * *', '2024-05-01T10:00:00Z', 3), [
      '2024-05-01T10:01:00.000Z',
      '2024-05-01T10:02:00.000Z',
      '2024-05-01T10:03:00.000Z',
    ]);
    assert.equal(nextIso('* * * * *', '2024-05-01T10:00:59.999Z'), '2024-05-01T10:01:00.000Z');
  });

  test('descriptors and @every', () => {
    assert.equal(nextIso('@hourly', '2024-05-01T10:07:00Z'), '2024-05-01T11:00:00.000Z');
    assert.equal(nextIso('@daily', '2024-05-01T10:07:00Z'), '2024-05-02T00:00:00.000Z');
    assert.equal(nextIso('@midnight', '2024-05-01T10:07:00Z'), '2024-05-02T00:00:00.000Z');
    assert.equal(nextIso('@weekly', '2024-05-01T10:07:00Z'), '2024-05-05T00:00:00.000Z'); // a Sunday
    assert.equal(nextIso('@monthly', '2024-05-01T10:07:00Z'), '2024-06-01T00:00:00.000Z');
    assert.equal(nextIso('@yearly', '2024-05-01T10:07:00Z'), '2025-01-01T00:00:00.000Z');
    assert.equal(nextIso('@annually', '2024-05-01T10:07:00Z'), '2025-01-01T00:00:00.000Z');
    assert.equal(nextIso('@every 90s', '2024-05-01T10:07:00.400Z'), '2024-05-01T10:08:30.000Z');
    assert.equal(nextIso('@every 1h30m', '2024-05-01T10:07:00Z'), '2024-05-01T11:37:00.000Z');
    assert.equal(nextIso('@every 200ms', '2024-05-01T10:07:00Z'), '2024-05-01T10:07:01.000Z'); // at least 1 s
    assert.equal(parseGoDuration('1.5h'), 90 * 60_000);
    assert.throws(() => parseGoDuration('5 minutes'), CronSyntaxError);
  });

  test('day of month and day of week: either matches when both are restricted', () => {
    // 2024-09-06 and 2024-09-20 are Fridays; 2024-09-13 is Friday the 13th.
    assert.deepEqual(series('0 0 13 * 5', '2024-09-01T00:00:00Z', 4), [
      '2024-09-06T00:00:00.000Z',
      '2024-09-13T00:00:00.000Z',
      '2024-09-20T00:00:00.000Z',
      '2024-09-27T00:00:00.000Z',
    ]);
    assert.deepEqual(series('0 0 13 * *', '2024-09-01T00:00:00Z', 2), ['2024-09-13T00:00:00.000Z', '2024-10-13T00:00:00.000Z']);
    // '?' and '*' leave the other field in charge: only Fridays.
    assert.deepEqual(series('0 0 ? * 5', '2024-09-01T00:00:00Z', 2), ['2024-09-06T00:00:00.000Z', '2024-09-13T00:00:00.000Z']);
    // '*/2' is a restriction (robfig drops the star bit for steps > 1): odd days OR Fridays.
    assert.deepEqual(series('0 0 */2 * 5', '2024-09-01T00:00:00Z', 3), [
      '2024-09-03T00:00:00.000Z',
      '2024-09-05T00:00:00.000Z',
      '2024-09-06T00:00:00.000Z',
    ]);
  });

  test('impossible and rare dates', () => {
    assert.equal(nextIso('0 0 30 2 *', '2024-01-01T00:00:00Z'), undefined);
    assert.equal(nextIso('0 0 29 2 *', '2025-01-01T00:00:00Z'), '2028-02-29T00:00:00.000Z');
    assert.equal(nextIso('0 0 31 * *', '2024-04-01T00:00:00Z'), '2024-05-31T00:00:00.000Z');
  });

  test('syntax errors read like robfig/cron', () => {
    const err = (s: string) => assert.throws(() => parseSchedule(s, { timeZone: 'UTC' }), CronSyntaxError);
    err('61 * * * *');
    err('* * *');
    err('@fortnightly');
    err('0 0 * * 7');
    err('5-1 * * * *');
    err('*/0 * * * *');
    err('a * * * *');
    assert.throws(() => parseSchedule('0 0 * * 7', { timeZone: 'UTC' }), /end of range \(7\) above maximum \(6\)/);
    assert.throws(() => parseSchedule('* * * * *', { timeZone: 'Mars/Olympus' }), RangeError);
  });
});

describe('cron schedule time zones', () => {
  test('wall-clock times in the given zone', () => {
    assert.equal(nextIso('0 9 * * *', '2024-01-01T00:00:00Z', 'Europe/Berlin'), '2024-01-01T08:00:00.000Z');
    assert.equal(nextIso('0 9 * * *', '2024-07-01T00:00:00Z', 'Europe/Berlin'), '2024-07-01T07:00:00.000Z');
    assert.equal(nextIso('30 0 * * *', '2024-07-01T00:00:00Z', 'Asia/Kolkata'), '2024-07-01T19:00:00.000Z');
    assert.equal(nextIso('@daily', '2024-07-01T12:00:00Z', 'America/Los_Angeles'), '2024-07-02T07:00:00.000Z');
    // Day of week is the zone's: Monday 00:30 in Tokyo is Sunday 15:30 UTC.
    assert.equal(nextIso('30 0 * * 1', '2024-09-01T00:00:00Z', 'Asia/Tokyo'), '2024-09-01T15:30:00.000Z');
  });

  test('a time skipped when DST starts does not run that day', () => {
    // New York: 2021-03-14 02:00 EST jumps to 03:00 EDT.
    assert.deepEqual(series('30 2 * * *', '2021-03-13T12:00:00Z', 2, 'America/New_York'), [
      '2021-03-15T06:30:00.000Z',
      '2021-03-16T06:30:00.000Z',
    ]);
    assert.deepEqual(series('0 * * * *', '2021-03-14T05:30:00Z', 3, 'America/New_York'), [
      '2021-03-14T06:00:00.000Z', // 01:00 EST
      '2021-03-14T07:00:00.000Z', // 03:00 EDT
      '2021-03-14T08:00:00.000Z',
    ]);
  });

  test('a time repeated when DST ends runs twice, as robfig/cron does', () => {
    // New York: 2021-11-07 02:00 EDT falls back to 01:00 EST.
    assert.deepEqual(series('30 1 * * *', '2021-11-07T04:00:00Z', 3, 'America/New_York'), [
      '2021-11-07T05:30:00.000Z', // 01:30 EDT
      '2021-11-07T06:30:00.000Z', // 01:30 EST
      '2021-11-08T06:30:00.000Z',
    ]);
    assert.equal(nextIso('0 3 * * *', '2021-11-06T12:00:00Z', 'America/New_York'), '2021-11-07T08:00:00.000Z');
  });

  test('midnight that does not exist (São Paulo 2018) becomes 01:00', () => {
    // 2018-11-04 00:00 jumped to 01:00 in America/Sao_Paulo.
    assert.equal(nextIso('0 * 4 11 *', '2018-11-03T12:00:00Z', 'America/Sao_Paulo'), '2018-11-04T03:00:00.000Z');
  });
});
