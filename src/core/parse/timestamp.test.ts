import { describe, expect, it } from 'vitest';
import { matchTimestamp, parseTimestampValue } from './timestamp.js';

const YEAR = 2024;

/** The whole-text match of `text` at position 0. */
function at0(text: string, defaultYear = YEAR): ReturnType<typeof matchTimestamp> {
  return matchTimestamp(text, 0, defaultYear);
}

describe('matchTimestamp', () => {
  it('reads an ISO timestamp with a T and a Z zone as UTC', () => {
    expect(at0('2024-01-15T14:23:45Z rest')).toEqual({ kind: 'iso', text: '2024-01-15T14:23:45Z', end: 20, epochMs: 1705328625000 }); // 2024-01-15T14:23:45Z
  });

  it('reads an ISO timestamp with a space and a comma fraction', () => {
    expect(at0('2024-01-15 14:23:45,123 INFO x')).toMatchObject({ kind: 'iso', text: '2024-01-15 14:23:45,123', epochMs: 1705328625123 });
  });

  it('reads an ISO timestamp with a dot fraction', () => {
    expect(at0('2024-01-15 14:23:45.123 x')?.epochMs).toBe(1705328625123);
  });

  it('reads a short fraction as tenths of a second and cuts long fractions to milliseconds', () => {
    expect(at0('2024-01-15T14:23:45.5Z')?.epochMs).toBe(1705328625500);
    expect(at0('2024-01-15T14:23:45.123456789Z')?.epochMs).toBe(1705328625123);
  });

  it('applies a +01:00 zone offset', () => {
    // 14:23:45.123 at +01:00 is 13:23:45.123 UTC
    expect(at0('2024-01-15T14:23:45.123+01:00')).toMatchObject({ text: '2024-01-15T14:23:45.123+01:00', epochMs: 1705325025123 });
  });

  it('applies a zone written without a colon after a space', () => {
    expect(at0('2024-01-15 14:23:45.5 +0100')?.epochMs).toBe(1705325025500);
    expect(at0('2024-01-15 14:23:45 -0500')?.epochMs).toBe(1705346625000); // 19:23:45Z
  });

  it('reads a syslog timestamp with the default year', () => {
    expect(at0('Jun 14 15:16:01 combo sshd[1]: x')).toEqual({ kind: 'syslog', text: 'Jun 14 15:16:01', end: 15, epochMs: 1718378161000 }); // 2024-06-14T15:16:01Z
  });

  it('uses the caller\'s year for a syslog timestamp and the written year when there is one', () => {
    expect(at0('Jun 14 15:16:01', 2023)?.epochMs).toBe(1686755761000); // 2023-06-14T15:16:01Z
    expect(at0('Jun 14 2023 15:16:01', 2024)?.epochMs).toBe(1686755761000);
  });

  it('reads a syslog timestamp with a space-padded day', () => {
    expect(at0('Jun  4 15:16:01 host x')).toMatchObject({ text: 'Jun  4 15:16:01', epochMs: 1717514161000 }); // 2024-06-04T15:16:01Z
  });

  it('reads a common-log-format timestamp in brackets with its zone', () => {
    expect(at0('[15/Jan/2024:14:23:45 +0000] "GET /"')).toMatchObject({ kind: 'clf', text: '[15/Jan/2024:14:23:45 +0000]', epochMs: 1705328625000 });
    expect(at0('[15/Jan/2024:14:23:45 +0200]')?.epochMs).toBe(1705321425000); // 12:23:45Z
  });

  it('reads a ctime timestamp with its year', () => {
    expect(at0('Sun Dec 04 04:47:44 2005 [notice] x')).toMatchObject({ kind: 'ctime', text: 'Sun Dec 04 04:47:44 2005', epochMs: 1133671664000 }); // 2005-12-04T04:47:44Z
  });

  it('reads a ctime timestamp with a zone before the year', () => {
    expect(at0('Sun Dec 04 04:47:44 UTC 2005')?.epochMs).toBe(1133671664000);
  });

  it('reads an RFC 1123 timestamp', () => {
    expect(at0('Mon, 15 Jan 2024 14:23:45 GMT')).toMatchObject({ kind: 'ctime', text: 'Mon, 15 Jan 2024 14:23:45 GMT', epochMs: 1705328625000 });
  });

  it('reads a compact8 timestamp with milliseconds after a colon', () => {
    expect(at0('20171223-22:15:29:606|Step_LSC|1|x')).toMatchObject({ kind: 'compact8', text: '20171223-22:15:29:606', epochMs: 1514067329606 }); // 2017-12-23T22:15:29.606Z
  });

  it('reads a compact8 timestamp whose seconds are not zero-padded', () => {
    expect(at0('20171223-22:16:0:119|Step_LSC|1|x')).toMatchObject({ text: '20171223-22:16:0:119', epochMs: 1514067360119 }); // 2017-12-23T22:16:00.119Z
  });

  it('reads compact8 timestamps without separators in the time', () => {
    expect(at0('20240115T142345Z')?.epochMs).toBe(1705328625000);
    expect(at0('20240115 142345 x')?.epochMs).toBe(1705328625000);
  });

  it('reads a compact6 timestamp as a two-digit year in this century', () => {
    expect(at0('081109 203615 148 INFO x')).toMatchObject({ kind: 'compact6', text: '081109 203615', epochMs: 1226262975000 }); // 2008-11-09T20:36:15Z
  });

  it('reads a ymd2 timestamp year first', () => {
    expect(at0('17/06/09 20:10:40 INFO x')).toMatchObject({ kind: 'ymd2', text: '17/06/09 20:10:40', epochMs: 1497039040000 }); // 2017-06-09T20:10:40Z
  });

  it('reads an Android month-day timestamp with the default year', () => {
    expect(at0('03-17 16:13:38.811  1702  2395 D x')).toMatchObject({ kind: 'md', text: '03-17 16:13:38.811', epochMs: 1710692018811 }); // 2024-03-17T16:13:38.811Z
    expect(at0('03-17 16:13:38.811', 2023)?.epochMs).toBe(1679069618811);
  });

  it('reads month-first and day-first dates with a four-digit year', () => {
    expect(at0('01/15/2024 14:23:45 x')).toMatchObject({ kind: 'dmy4', epochMs: 1705328625000 });
    expect(at0('15.01.2024 14:23:45 x')).toMatchObject({ kind: 'dmy4', epochMs: 1705328625000 });
  });

  it('reads epoch seconds', () => {
    expect(at0('1718376961 INFO x')).toEqual({ kind: 'epoch', text: '1718376961', end: 10, epochMs: 1718376961000 });
  });

  it('reads epoch milliseconds and fractional epoch seconds', () => {
    expect(at0('1718376961123 x')).toMatchObject({ kind: 'epoch', text: '1718376961123', epochMs: 1718376961123 });
    expect(at0('1718376961.5 x')?.epochMs).toBe(1718376961500);
  });

  it('does not read an implausible 10-digit number as a timestamp', () => {
    expect(at0('9999999999 x')).toBeUndefined();
    expect(at0('0000000042 x')).toBeUndefined();
    expect(at0('1234567890123456 x')).toBeUndefined();
  });

  it('reads a time of day alone without an instant', () => {
    expect(at0('14:23:45.123 x')).toMatchObject({ kind: 'time', text: '14:23:45.123', epochMs: undefined });
  });

  it('matches at the given position only', () => {
    const line = 'host 2024-01-15T14:23:45Z x';
    expect(matchTimestamp(line, 0, YEAR)).toBeUndefined();
    expect(matchTimestamp(line, 5, YEAR)).toMatchObject({ end: 25, epochMs: 1705328625000 });
  });

  it('tries only the requested shape when given a kind', () => {
    expect(matchTimestamp('2024-01-15 14:23:45 x', 0, YEAR, 'syslog')).toBeUndefined();
    expect(matchTimestamp('2024-01-15 14:23:45 x', 0, YEAR, 'iso')?.epochMs).toBe(1705328625000);
    expect(matchTimestamp('2024-01-15 14:23:45 x', 0, YEAR, 'no-such-kind')).toBeUndefined();
  });

  it('returns undefined for text that is no timestamp', () => {
    expect(at0('hello world')).toBeUndefined();
    expect(at0('')).toBeUndefined();
    expect(at0('Error: 2024-01-15')).toBeUndefined();
  });

  it('rejects an impossible month', () => {
    expect(at0('2024-13-15T14:23:45Z')?.epochMs).toBeUndefined();
  });
});

describe('parseTimestampValue', () => {
  it('reads numbers as epoch seconds, milliseconds, microseconds or nanoseconds by magnitude', () => {
    expect(parseTimestampValue(1705328625, YEAR)).toBe(1705328625000);
    expect(parseTimestampValue(1705328625.5, YEAR)).toBe(1705328625500);
    expect(parseTimestampValue(1705328625123, YEAR)).toBe(1705328625123);
    expect(parseTimestampValue(1705328625123456, YEAR)).toBe(1705328625123);
    expect(parseTimestampValue(1705328625123456000, YEAR)).toBe(1705328625123);
  });

  it('reads numeric strings like numbers', () => {
    expect(parseTimestampValue('1705328625', YEAR)).toBe(1705328625000);
    expect(parseTimestampValue('1705328625123', YEAR)).toBe(1705328625123);
  });

  it('reads ISO strings with and without zones', () => {
    expect(parseTimestampValue('2024-01-15T14:23:45Z', YEAR)).toBe(1705328625000);
    expect(parseTimestampValue('2024-01-15T14:23:45.123+01:00', YEAR)).toBe(1705325025123);
    expect(parseTimestampValue('2024-01-15 14:23:45', YEAR)).toBe(1705328625000);
  });

  it('reads other log timestamp shapes in strings', () => {
    expect(parseTimestampValue('Jun 14 15:16:01', YEAR)).toBe(1718378161000);
  });

  it('returns undefined for values that are no timestamp', () => {
    expect(parseTimestampValue('garbage', YEAR)).toBeUndefined();
    expect(parseTimestampValue('', YEAR)).toBeUndefined();
    expect(parseTimestampValue(Number.NaN, YEAR)).toBeUndefined();
    expect(parseTimestampValue(null, YEAR)).toBeUndefined();
    expect(parseTimestampValue(true, YEAR)).toBeUndefined();
  });
});
