import { describe, expect, it } from 'vitest';
import { base64Url, breakFlow, containsSecret, luhnCard, luhnValid, makeOutlier, pickNewError, SECRET_KINDS, NEW_ERROR_FAMILIES } from './anomalies.js';
import { isoTime, renderLine, syslogTime } from './format.js';
import { Rng } from './prng.js';
import { activeWorkflows, normalTransitions } from './scenarios.js';
import { Pools, SERVICE_CATALOGUE } from './services.js';

const pools = new Pools(new Rng(1));
const names = SERVICE_CATALOGUE.map((s) => s.name);

describe('anomaly content', () => {
  it('writes card numbers that pass Luhn, and base64url like the standard', () => {
    const r = new Rng(5);
    for (let i = 0; i < 100; i++) expect(luhnValid(luhnCard(r, '4', 16))).toBe(true);
    expect(luhnValid('4111111111111111')).toBe(true);
    expect(luhnValid('4111111111111112')).toBe(false);
    for (const s of ['', 'a', 'ab', 'abc', '{"alg":"HS256","typ":"JWT"}']) expect(base64Url(s)).toBe(Buffer.from(s).toString('base64url'));
  });

  it('every secret kind is found by the secret patterns, in text and in JSON lines', () => {
    const r = new Rng(8);
    for (const k of SECRET_KINDS) {
      for (const format of ['text', 'json'] as const) {
        const line = renderLine({ service: k.service, format, host: 'h' }, 0, k.make(r, pools));
        expect(containsSecret(line), `${k.id} ${line}`).toBe(true);
        expect(line).not.toMatch(/\n/);
      }
    }
    expect(containsSecret('login succeeded user=maria.k12 method=password mfa=false')).toBe(false);
    expect(containsSecret('order created order_id=ord-1234567 total=12.50')).toBe(false);
  });

  it('never picks the same new error twice', () => {
    const r = new Rng(2);
    const used = new Set<string>();
    const keys = new Set<string>();
    const slots = NEW_ERROR_FAMILIES.reduce((n, f) => n + f.slots.reduce((m, s) => m * s.length, 1), 0);
    // well past the word slots and the code names (~18,000): keys must stay distinct and it must end
    const n = 25_000;
    for (let i = 0; i < n; i++) {
      const p = pickNewError(r, used, names);
      expect(keys.has(p.key)).toBe(false);
      keys.add(p.key);
      expect(names).toContain(p.service);
      expect(p.title).not.toMatch(/undefined/);
    }
    expect(used.size).toBe(n);
    expect(slots).toBeLessThan(300);
  });

  it('breaks flows only with transitions normal requests never make', () => {
    const r = new Rng(4);
    for (const count of [3, 6, 12]) {
      const wf = activeWorkflows((s) => names.slice(0, count).includes(s));
      const normal = normalTransitions(wf);
      for (let i = 0; i < 300; i++) {
        const b = breakFlow(r, wf, normal);
        expect(b.breakAt).toBeGreaterThan(0);
        expect(normal.has(`${b.steps[b.breakAt - 1]}>${b.steps[b.breakAt]}`)).toBe(false);
        for (let j = 1; j < b.breakAt; j++) expect(normal.has(`${b.steps[j - 1]}>${b.steps[j]}`)).toBe(true);
      }
    }
  });

  it('makes odd lines of every variant, on one physical line', () => {
    const r = new Rng(6);
    const variants = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const o = makeOutlier(r, pools, names, () => '2026-11-20T08:00:00.000Z INFO [orders] order created order_id=ord-1234567');
      variants.add(o.variant);
      const text = o.raw ?? o.message!.msg;
      expect(text.length).toBeGreaterThan(10);
      expect(text).not.toMatch(/[\n\r\u2028\u2029\u0085]/);
    }
    expect(variants.size).toBe(8);
  });
});

describe('line formats', () => {
  it('formats ISO and syslog times in UTC, whatever order they are asked in', () => {
    for (const ms of [0, 1_795_161_600_123, 1_795_161_600_999, 1_795_161_601_000, 1_700_000_000_005, 1_795_161_600_123.7]) {
      expect(isoTime(ms)).toBe(new Date(Math.floor(ms)).toISOString());
    }
    expect(syslogTime(Date.parse('2026-11-05T08:03:09Z'))).toBe('Nov  5 08:03:09');
    expect(syslogTime(Date.parse('2026-11-20T18:00:00Z'))).toBe('Nov 20 18:00:00');
  });

  it('renders text, JSON and syslog lines', () => {
    const m = { level: 'warn' as const, msg: 'slow request', kv: [['path', '/api/v1/x'], ['note', 'a b'], ['n', 3]] as const };
    expect(renderLine({ service: 'api-gateway', format: 'text', host: 'h' }, 0, m, 'req-1')).toBe('1970-01-01T00:00:00.000Z WARN [api-gateway] slow request path=/api/v1/x note="a b" n=3 request_id=req-1');
    expect(JSON.parse(renderLine({ service: 'payments', format: 'json', host: 'p-1' }, 0, m, 'req-1'))).toEqual({ ts: '1970-01-01T00:00:00.000Z', level: 'warn', service: 'payments', host: 'p-1', request_id: 'req-1', msg: 'slow request', path: '/api/v1/x', note: 'a b', n: 3 });
    expect(renderLine({ service: 'db-proxy', format: 'syslog', host: 'db-proxy-1', program: 'pgbouncer', pid: 812 }, 0, { level: 'info', msg: 'stats: 1 xacts/s' })).toBe('Jan  1 00:00:00 db-proxy-1 pgbouncer[812]: LOG stats: 1 xacts/s');
  });
});
