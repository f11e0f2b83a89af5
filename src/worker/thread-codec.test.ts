import { describe, expect, it } from 'vitest';
import { FlushConflictError } from '../adapters/store/vigil-store.js';
import type { IngestBatch } from './queue.js';
import { decodeBatch, encodeBatch, fromWireError, toWireError, transferablesOf } from './thread-codec.js';

const base = { id: 'b1', projectId: 'p1', source: 'app', receivedAtMs: 1_700_000_000_000 };

/** What the pipeline thread receives: the batch after a real structured clone (with the buffers handed over). */
function across(b: IngestBatch): IngestBatch {
  const e = encodeBatch(b);
  return decodeBatch(structuredClone(e, { transfer: transferablesOf(e) }));
}

describe('thread codec', () => {
  it('gives back lines and records with exactly the fields they had (no more, none undefined)', () => {
    const b: IngestBatch = {
      ...base,
      fresh: true,
      records: [
        { kind: 'line', text: '2026-01-15 10:00:00 INFO [api] hello' },
        { kind: 'record', record: { message: 'only a message' } },
        { kind: 'record', record: { message: 'all', timestamp: 1_700_000_000_123.5, timestampText: '2023-11-14T22:13:20.123Z', level: 'fatal', component: 'db', pid: '42', host: 'h1', requestId: 'r-9', attributes: { user: 'u', request_id: 'r-9' } } },
        { kind: 'line', text: '' },
        { kind: 'record', record: { message: 'é ✓ \u0000 mixed', level: 'trace', host: 'h2' } },
        { kind: 'record', record: { message: 'ts only', timestamp: 0 } },
        { kind: 'line', text: 'x'.repeat(70_000) },
        { kind: 'record', record: { message: 'warn', level: 'warn', attributes: {} } },
      ],
    };
    const back = across(b);
    expect(back).toStrictEqual(b);
    for (let i = 0; i < b.records.length; i++) {
      const a = b.records[i]!;
      const c = back.records[i]!;
      if (a.kind === 'record' && c.kind === 'record') expect(Object.keys(c.record)).toEqual(Object.keys(a.record).sort((x, y) => ORDER.indexOf(x) - ORDER.indexOf(y)));
    }
  });

  it('keeps every level, and a batch without the flag `fresh` stays without it', () => {
    const levels = ['trace', 'debug', 'info', 'notice', 'warn', 'error', 'fatal'] as const;
    const b: IngestBatch = { ...base, records: levels.map((level, i) => ({ kind: 'record', record: { message: `m${i}`, level } })) };
    const back = across(b);
    expect(back).toStrictEqual(b);
    expect('fresh' in back).toBe(false);
  });

  it('values that repeat, alternate or differ in every record all come back right', () => {
    const comps = ['a', 'b', 'a', 'c', 'c', 'b'];
    const b: IngestBatch = { ...base, records: Array.from({ length: 600 }, (_, i) => ({ kind: 'record' as const, record: { message: `m${i}`, component: comps[i % comps.length]!, host: `h${i}`, ...(i % 7 === 0 ? { pid: 'a' } : {}), requestId: i % 3 === 0 ? 'same' : `r${i}`, timestampText: i < 300 ? 't1' : 't2', timestamp: i } })) };
    expect(across(b)).toStrictEqual(b);
  });

  it('an empty batch and a batch of lines only', () => {
    expect(across({ ...base, records: [] })).toStrictEqual({ ...base, records: [] });
    const lines: IngestBatch = { ...base, records: Array.from({ length: 1000 }, (_, i) => ({ kind: 'line' as const, text: `line ${i}` })) };
    expect(across(lines)).toStrictEqual(lines);
  });

  it('posts no object per record: strings in one array, the rest in typed arrays', () => {
    const b: IngestBatch = { ...base, records: Array.from({ length: 100 }, (_, i) => ({ kind: 'record' as const, record: { message: `m${i}`, timestamp: i, level: 'info' as const, component: 'svc' } })) };
    const e = encodeBatch(b);
    expect(e.texts).toHaveLength(100);
    // one service for the whole batch: sent once
    expect(e.values).toEqual(['svc']);
    expect(e.refs).toHaveLength(100);
    expect(e.timestamps).toBeInstanceOf(Float64Array);
    expect(e.timestamps).toHaveLength(100);
    expect(e.levels).toHaveLength(100);
    expect(e.attributes).toHaveLength(0);
  });

  it('errors keep their code and message across threads; a store conflict is a FlushConflictError again', () => {
    const conflict = fromWireError(structuredClone(toWireError(new FlushConflictError('two workers'))));
    expect(conflict).toBeInstanceOf(FlushConflictError);
    expect(conflict.message).toBe('two workers');
    const other = fromWireError(structuredClone(toWireError(Object.assign(new Error('boom'), { code: 'VIGIL_X' }))));
    expect(other.message).toBe('boom');
    expect((other as { code?: string }).code).toBe('VIGIL_X');
    expect(fromWireError(toWireError('plain')).message).toBe('plain');
  });
});

const ORDER = ['message', 'timestamp', 'timestampText', 'level', 'component', 'pid', 'host', 'requestId', 'attributes'];
