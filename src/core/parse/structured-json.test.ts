/**
 * parseJsonLine reads a flat JSON object (no nested object, no `__proto__` key) in one pass over
 * its keys instead of flattening it and looking up every key the roles name: the record must be
 * the one recordFromFields(flatten(object)) builds, whatever the keys, values and their order.
 */
import { describe, expect, it } from 'vitest';
import { flatten, parseJsonLine, recordFromFields } from './structured.js';
import { mulberry32 as rng } from '../detect/random.js';
import { levelFromWord } from './record.js';

const KEYS = [
  'message', 'msg', 'log', 'text', 'body', 'event', 'level', 'severity', 'lvl', 'levelname', 'status', 'timestamp', 'time', 'ts', '@timestamp', 't',
  'service', 'logger', 'component', 'name', 'app', 'caller', 'host', 'hostname', 'node', 'pid', 'request_id', 'traceId', 'user_id', 'took_ms', 'path',
  'items', 'ok', '1', '20', 'x-request-id', 'a.b',
];
const VALUES: unknown[] = [
  'info', 'WARN', 'error', 'nonsense', '', null, 0, 30, 50, 7, 'GET /x', '2026-11-20T08:00:00.037Z', 1718376961, '1718376961123', 'svc-1', true, false, [1, 'a'], [], 'x'.repeat(300),
  'connection refused', 42.5,
];

function object(r: () => number): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const n = Math.floor(r() * 12);
  for (let i = 0; i < n; i++) o[KEYS[Math.floor(r() * KEYS.length)]!] = VALUES[Math.floor(r() * VALUES.length)];
  return o;
}

const reference = (line: string): unknown => recordFromFields(flatten(JSON.parse(line) as Record<string, unknown>), 2026, line);

describe('parseJsonLine', () => {
  it('builds the record recordFromFields builds from the flattened object', () => {
    const r = rng(5);
    for (let k = 0; k < 5000; k++) {
      const line = JSON.stringify(object(r));
      expect(parseJsonLine(line, 2026), line).toStrictEqual(reference(line));
      // attributes in the same order
      expect(JSON.stringify(parseJsonLine(line, 2026))).toBe(JSON.stringify(reference(line)));
    }
  });

  it('builds the same record when lines repeat a few lists of keys (the plans by key list)', () => {
    const r = rng(9);
    // a few key lists, some of one length, some sharing their last and middle keys
    const shapes = Array.from({ length: 90 }, () => Object.keys(object(r)));
    shapes.push(['ts', 'level', 'msg'], ['ts', 'severity', 'msg'], ['time', 'level', 'msg'], ['msg', 'level', 'ts']);
    for (let k = 0; k < 20_000; k++) {
      const keys = shapes[Math.floor(r() * shapes.length)]!;
      const o: Record<string, unknown> = {};
      for (const key of keys) o[key] = VALUES[Math.floor(r() * VALUES.length)];
      const line = JSON.stringify(o);
      expect(parseJsonLine(line, 2026), line).toStrictEqual(reference(line));
      expect(JSON.stringify(parseJsonLine(line, 2026))).toBe(JSON.stringify(reference(line)));
    }
  });

  it('keeps to the general path for nested objects, __proto__ keys and many attributes', () => {
    const wide = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, i]));
    for (const line of [
      '{"msg":"x","log":{"level":"warn"},"a":1}',
      '{"__proto__":{"message":"p"},"level":"info"}',
      '{"__proto__":null,"msg":"m"}',
      '{"__proto__":"s","msg":"m"}',
      JSON.stringify({ msg: 'wide', ...wide }),
      JSON.stringify(wide),
      '{"level":"nonsense","severity":"nonsense","msg":"two level keys, one value"}',
      '{"level":"","severity":"warn","msg":"first set key wins"}',
    ]) {
      expect(parseJsonLine(line, 2026), line).toStrictEqual(reference(line));
    }
  });
});

describe('levels of structured records', () => {
  it('reads a level word as levelFromWord does, whatever its case or script', () => {
    const words = ['info', 'INFO', 'Info', 'iNfO', 'warning', 'Warn', 'err', 'ERROR', 'fatal', 'Critical', 'emergency', 'EMERGENCY', 'information', 'debug', 'dbg', 'notice', 'trace', 'verbose', 'finest', 'panic',
      'ınfo', 'İNFO', 'ERRoR', 'ﬁne', 'FİNE', 'warn ', ' warn', 'wa', '', 'x', 'informational', 'infos', '30', 'ok', 'ALERT', 'alert', 'sévère', 'ＩＮＦＯ', 'inf', 'INF', 'wrn', 'crit', 'Fatal'];
    for (const w of words) {
      const line = JSON.stringify({ msg: 'm', level: w });
      const r = parseJsonLine(line, 2026)!;
      expect(r.level, w).toBe(levelFromWord(w));
      // a value that is no level stays an attribute
      expect(r.attributes?.level, w).toBe(levelFromWord(w) === undefined ? w : undefined);
    }
  });
});
