import { describe, expect, it } from 'vitest';
import { detectFormat, LineParser } from './line-parser.js';
import { RecordAssembler } from './multiline.js';

const KEYS = ['message', 'timestamp', 'timestampText', 'level', 'component', 'pid', 'host', 'requestId', 'attributes'];

describe('records of every format', () => {
  it('have every field, in one order (one hidden class for the code that reads them)', () => {
    const text = new LineParser(detectFormat(['2026-01-15T10:00:00.000Z INFO [api] hello'], 2026), 2026);
    const json = new LineParser({ kind: 'json' }, 2026);
    const logfmt = new LineParser({ kind: 'logfmt' }, 2026);
    const bare = new LineParser({ kind: 'bare' }, 2026);
    const records = [
      text.read('2026-01-15T10:00:00.000Z INFO [api] hello').record,
      text.read('2026-01-15T10:00:00.000Z INFO [req-0c6a5e7e-3b6f-4c9e-8a57-2f1d4c8b9e10] hi').record,
      // another header than the stream's (scanHeader), a JSON line in a text stream, no header at all
      text.read('Jan 15 10:00:00 host sshd[42]: accepted').record,
      text.read('{"msg":"m","level":"warn","service":"s"}').record,
      text.read('no header here').record,
      json.read('{"ts":"2026-01-15T10:00:00Z","level":"info","msg":"m","host":"h","pid":7,"request_id":"r","x":1}').record,
      json.read('{"a":{"b":1}}').record,
      json.read('not json').record,
      logfmt.read('level=info msg="m" time=2026-01-15T10:00:00Z k=v').record,
      bare.read('anything').record,
    ];
    for (const r of records) expect(Object.keys(r), r.message).toEqual(KEYS);
    // what the fields hold is unchanged: absent ones are undefined
    expect(records[0]).toStrictEqual({ message: 'hello', timestamp: Date.parse('2026-01-15T10:00:00.000Z'), timestampText: '2026-01-15T10:00:00.000Z', level: 'info', component: undefined, pid: undefined, host: undefined, requestId: undefined, attributes: { thread: 'api' } });
    expect(records[9]).toStrictEqual({ message: 'anything', timestamp: undefined, timestampText: undefined, level: undefined, component: undefined, pid: undefined, host: undefined, requestId: undefined, attributes: undefined });
  });

  it('keep that shape through multi-line assembly', () => {
    const parser = new LineParser(detectFormat(['2026-01-15T10:00:00.000Z ERROR [api] boom'], 2026), 2026);
    const a = new RecordAssembler(parser);
    a.push('2026-01-15T10:00:00.000Z ERROR [api] boom', 1);
    a.push('  at x.y(Z.java:1)', 2);
    const [r] = a.flush();
    expect(r!.record.message).toBe('boom\n  at x.y(Z.java:1)');
    expect(Object.keys(r!.record)).toEqual(KEYS);
  });
});
