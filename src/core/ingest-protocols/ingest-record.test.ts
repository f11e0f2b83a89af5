import { describe, expect, it } from 'vitest';
import {
  AttributeBag,
  cut,
  DEFAULT_INGEST_LIMITS,
  IngestCollector,
  INGEST_ERROR_CODES,
  nanosToMs,
  normalizeId,
  resolveLimits,
  toLogRecord,
} from './ingest-record.js';

describe('nanosToMs', () => {
  it('divides decimal strings exactly and numbers approximately', () => {
    expect(nanosToMs('1718376961123456789')).toBe(1718376961123);
    expect(nanosToMs(1718376961123456789)).toBe(1718376961123);
    expect(nanosToMs('0')).toBeUndefined();
    expect(nanosToMs(0)).toBeUndefined();
    expect(nanosToMs('')).toBeUndefined();
    expect(nanosToMs(undefined)).toBeUndefined();
    expect(nanosToMs('999')).toBeUndefined(); // under a millisecond after the epoch: unset
  });

  it('rejects what is not a nanosecond count', () => {
    for (const v of ['1.5e18', '-1', 'now', {}, -5, Number.NaN, '99999999999999999999999']) expect(nanosToMs(v)).toBeNull();
  });
});

describe('normalizeId', () => {
  it('accepts hex in any case and base64, and treats empty or zero ids as absent', () => {
    expect(normalizeId('0AF7651916CD43DD8448EB211C80319C', 16)).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(normalizeId('CvdlGRbNQ92ESOshHIAxnA==', 16)).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(normalizeId('t61rcWkgMzE=', 8)).toBe('b7ad6b7169203331');
    expect(normalizeId('', 16)).toBeUndefined();
    expect(normalizeId('00000000000000000000000000000000', 16)).toBeUndefined();
  });

  it('rejects ids of the wrong length or alphabet', () => {
    expect(normalizeId('b7ad6b7169203331', 16)).toBeNull();
    expect(normalizeId('zzad6b7169203331', 8)).toBeNull();
    expect(normalizeId(12345, 8)).toBeNull();
  });
});

describe('AttributeBag', () => {
  it('keeps the first value for a key, cuts keys and values, drops keys past the limit', () => {
    const bag = new AttributeBag(resolveLimits({ maxAttributes: 2, maxAttributeKeyChars: 4, maxAttributeValueChars: 3 }));
    bag.set('a', '1');
    bag.set('a', '2');
    expect(bag.truncated).toBe(false);
    bag.set('longkey', 'value');
    bag.set('c', '3');
    bag.set('', 'ignored');
    expect(bag.toObject()).toEqual({ a: '1', long: 'val' });
    expect(bag.truncated).toBe(true);
  });

  it('stores __proto__ as a plain key', () => {
    const bag = new AttributeBag(resolveLimits({}));
    bag.set('__proto__', 'x');
    const o = bag.toObject()!;
    expect(Object.keys(o)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(o)).toBe(Object.prototype);
  });
});

describe('IngestCollector', () => {
  it('cuts long messages and names, counts truncation and caps rejection details', () => {
    const c = new IngestCollector({ maxMessageChars: 3, maxNameChars: 2, maxRejectionDetails: 1 });
    c.accept({ message: 'abcdef', service: 'svc', host: 'h' });
    c.accept({ message: 'ok' });
    c.reject(2, 'VIGIL_INGEST_INVALID_RECORD', 'bad');
    c.reject(3, 'VIGIL_INGEST_INVALID_RECORD', 'bad');
    expect(c.done()).toEqual({
      records: [{ message: 'abc', service: 'sv', host: 'h' }, { message: 'ok' }],
      rejected: [{ index: 2, code: 'VIGIL_INGEST_INVALID_RECORD', message: 'bad' }],
      rejectedCount: 2,
      truncated: 1,
    });
  });

  it('never splits a surrogate pair', () => {
    expect(cut('ab😀', 3)).toBe('ab');
    expect(cut('ab😀', 4)).toBe('ab😀');
  });

  it('has sane defaults and stable codes', () => {
    expect(DEFAULT_INGEST_LIMITS.maxRecords).toBeGreaterThan(1000);
    expect(INGEST_ERROR_CODES.every((c) => /^VIGIL_INGEST_[A-Z_]+$/.test(c))).toBe(true);
  });
});

describe('toLogRecord', () => {
  it('maps service to component and the trace id to the request id', () => {
    expect(toLogRecord({ message: 'm', timestamp: 5, level: 'warn', service: 's', host: 'h', traceId: 't'.repeat(32), spanId: 'p'.repeat(16), attributes: { a: '1' } })).toEqual({
      message: 'm', timestamp: 5, level: 'warn', component: 's', host: 'h', requestId: 't'.repeat(32),
      attributes: { a: '1', trace_id: 't'.repeat(32), span_id: 'p'.repeat(16) },
    });
    expect(toLogRecord({ message: 'bare' })).toEqual({ message: 'bare' });
    expect(toLogRecord({ message: 'm', attributes: { 'syslog.procid': '812' } })).toEqual({ message: 'm', pid: '812', attributes: { 'syslog.procid': '812' } });
  });
});
