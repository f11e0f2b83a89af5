import { describe, expect, it } from 'vitest';
import { parseTimestampValue } from '../core/parse/timestamp.js';
import { parseNdjsonBody, parseTextBody, recordFromObject } from './ingest-body.js';

const LIMITS = { maxBodyBytes: 1 << 20, maxLineBytes: 200, maxRecordsPerRequest: 5 };
const body = (s: string) => Buffer.from(s, 'utf8');

describe('ingest bodies', () => {
  it('splits text into lines, skipping blank ones and CRs before LFs, keeping line numbers for rejections', () => {
    const out = parseTextBody(body(`a\r\n\r\n  \n\tb\n${'x'.repeat(201)}\n\u00a0\nc\r`), LIMITS);
    expect(out.records).toEqual([{ kind: 'line', text: 'a' }, { kind: 'line', text: '\tb' }, { kind: 'line', text: 'c' }]);
    expect(out.errors).toEqual([{ index: 4, code: 'VIGIL_INGEST_LINE_TOO_LONG', message: expect.any(String) }]);
    expect(out.rejected).toBe(1);
  });

  it('refuses more records than allowed before doing any work, blank lines not counted', () => {
    expect(() => parseTextBody(body('1\n2\n3\n4\n5\n6'), LIMITS)).toThrow(expect.objectContaining({ code: 'VIGIL_INGEST_TOO_MANY_RECORDS', statusCode: 413 }));
    expect(parseTextBody(body('1\n\n2\n\n3\n4\n5\n\n'), LIMITS).records).toHaveLength(5);
  });

  it('reads NDJSON records, rejecting bad lines alone with their line numbers', () => {
    const lines = [
      '{"message":"ok","level":" WARN ","service":"api","host":"h1","timestamp":"2026-01-15T10:00:00.250+01:00"}',
      '',
      'not json',
      '{"msg":"no message"}',
      '[1,2]',
      '{"message":"with attrs","attributes":{"trace_id":"t-1","n":3},"user":{"id":7},"level":"LOUDEST"}',
    ];
    const out = parseNdjsonBody(body(lines.join('\n')), LIMITS, 2026);
    expect(out.records.map((r) => (r.kind === 'record' ? r.record : r))).toEqual([
      { message: 'ok', level: 'warn', component: 'api', host: 'h1', timestamp: Date.UTC(2026, 0, 15, 9, 0, 0, 250), timestampText: '2026-01-15T10:00:00.250+01:00' },
      { message: 'with attrs', attributes: { level: 'LOUDEST', trace_id: 't-1', n: '3', user: '{"id":7}' }, requestId: 't-1' },
    ]);
    expect(out.errors.map((e) => [e.index, e.code])).toEqual([[2, 'VIGIL_BAD_REQUEST'], [3, 'VIGIL_BAD_REQUEST'], [4, 'VIGIL_BAD_REQUEST']]);
    expect(out.rejectedByCode).toEqual({ VIGIL_BAD_REQUEST: 3 });
  });

  it('keeps an unreadable timestamp or level as an attribute, and at most 32 attributes', () => {
    const many = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i]));
    const rec = recordFromObject({ message: 'm', timestamp: 'yesterday-ish', level: 'LOUD', ...many }, 2026);
    expect(rec).toMatchObject({ message: 'm', attributes: { timestamp: 'yesterday-ish', level: 'LOUD', k0: '0' } });
    expect(Object.keys((rec as { attributes: object }).attributes)).toHaveLength(32);
    expect(recordFromObject({ message: 'm', attributes: 'x' }, 2026)).toBe('"attributes" must be an object');
  });

  it('reads timestamps exactly as the parser does, whichever way it reads them', () => {
    const samples: (string | number)[] = [
      '2026-01-15T10:00:00Z', '2026-01-15T10:00:00.1Z', '2026-01-15T10:00:00.123456789Z', '2026-01-15T10:00:00+05:45', '2026-01-15T10:00:00.5-03:30',
      '2026-02-31T10:00:00Z', '2026-01-15T24:00:00Z', '2026-01-15T23:59:60Z', '2026-01-15T25:00:00Z', '0001-01-01T00:00:00Z', '9999-12-31T23:59:59.999Z',
      '2026-01-15T10:00:00', '2026-01-15 10:00:00,123', 'Jan 15 10:00:00', 1768471200123, '1768471200', '2026-01-15T10:00:00.Z', '2026-01-15T10:00:00.1234567890Z',
      '2026-01-15T10:00:00+0100', '2026-01-15T10:00:00+01:60', '2026-01-15T10:00:00 Z', '2026-1-15T10:00:00Z', '0999-01-01T00:00:00Z',
    ];
    // and many more, made at random around the shape shippers use
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const pad = (v: number, w: number) => String(v).padStart(w, '0');
    for (let i = 0; i < 3_000; i++) {
      const frac = rnd(3) === 0 ? '' : `.${pad(rnd(1e9), 9).slice(0, 1 + rnd(9))}`;
      const zone = [() => 'Z', () => `+${pad(rnd(15), 2)}:${pad(rnd(60), 2)}`, () => `-${pad(rnd(13), 2)}:${pad(rnd(60), 2)}`, () => '', () => 'z'][rnd(5)]!();
      samples.push(`${pad(900 + rnd(9200), 4)}-${pad(rnd(14), 2)}-${pad(rnd(33), 2)}T${pad(rnd(26), 2)}:${pad(rnd(62), 2)}:${pad(rnd(62), 2)}${frac}${zone}`);
    }
    for (const ts of samples) {
      const rec = recordFromObject({ message: 'm', timestamp: ts }, 2026);
      const expected = parseTimestampValue(ts, 2026);
      expect([ts, (rec as { timestamp?: number }).timestamp]).toEqual([ts, expected]);
    }
  });
});
