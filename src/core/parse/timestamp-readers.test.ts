import { describe, expect, it } from 'vitest';
import { matchTimestamp } from './timestamp.js';

const YEAR = 2024;

// The commonest shapes are read by hand (no regex captures); these are the cases where a reader
// that did not follow the regex's backtracking would differ from it.
describe('hand-written timestamp readers', () => {
  it('take what the regex takes when an optional part is cut short', () => {
    // `:5` is no seconds (two digits) but is a fraction
    expect(matchTimestamp('2024-01-15 12:34:5x', 0, YEAR, 'iso')).toEqual({ kind: 'iso', text: '2024-01-15 12:34:5', end: 18, epochMs: 1705322040500 });
    expect(matchTimestamp('03-17 6:13:3x', 0, YEAR, 'md')).toEqual({ kind: 'md', text: '03-17 6:13:3', end: 12, epochMs: 1710655980300 });
    // at most nine fraction digits
    expect(matchTimestamp('2024-01-15 12:34:56.1234567890', 0, YEAR, 'iso')).toMatchObject({ text: '2024-01-15 12:34:56.123456789', epochMs: 1705322096123 });
  });

  it('read a zone only when it is complete', () => {
    expect(matchTimestamp('2024-01-15 14:23:45 +01 x', 0, YEAR, 'iso')).toMatchObject({ text: '2024-01-15 14:23:45', epochMs: 1705328625000 });
    expect(matchTimestamp('2024-01-15 14:23:45\t+0100 x', 0, YEAR, 'iso')).toMatchObject({ end: 25, epochMs: 1705325025000 });
    expect(matchTimestamp('2024-01-15-14.23.45 x', 0, YEAR, 'iso')).toMatchObject({ end: 19, epochMs: 1705328625000 });
  });

  it('give up a trailing Z that a digit follows, as the regex does', () => {
    expect(matchTimestamp('20171223-22:15:29:606Z5', 0, YEAR, 'compact8')).toMatchObject({ text: '20171223-22:15:29:606', epochMs: 1514067329606 });
    expect(matchTimestamp('20171223-2:1:9Z x', 0, YEAR, 'compact8')).toMatchObject({ text: '20171223-2:1:9Z', epochMs: 1513994469000 });
  });

  it('read long month names, written years and short clocks in syslog timestamps', () => {
    expect(matchTimestamp('June 14 2024 15:16:01.5 x', 0, YEAR, 'syslog')).toMatchObject({ text: 'June 14 2024 15:16:01.5', epochMs: 1718378161500 });
    expect(matchTimestamp('Jun  4 1:02 x', 0, YEAR, 'syslog')).toMatchObject({ text: 'Jun  4 1:02', epochMs: 1717462920000 });
    expect(matchTimestamp('Jun 14 20245 15:16:01', 0, YEAR, 'syslog')).toBeUndefined();
  });

  it('reject a compact6 timestamp that runs into more digits', () => {
    expect(matchTimestamp('081109 2036155', 0, YEAR, 'compact6')).toBeUndefined();
    expect(matchTimestamp('081109 203615x', 0, YEAR, 'compact6')).toMatchObject({ end: 13, epochMs: 1226262975000 });
    expect(matchTimestamp('17/06/09 2:10:40.5 x', 0, YEAR, 'ymd2')).toMatchObject({ end: 18, epochMs: 1496974240500 });
  });
});
