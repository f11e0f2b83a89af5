import { describe, expect, it } from 'vitest';
import { IngestError } from './ingest-record.js';
import { lokiErrorReply, lokiPushReply, lokiPushToRecords, parseLabelString, parseLokiPushJson } from './loki.js';

// promtail scraping /var/log with its default config (`job: varlogs`, `__path__`), plus a host label.
const PROMTAIL = {
  streams: [{
    stream: { filename: '/var/log/syslog', job: 'varlogs', host: 'web-1' },
    values: [
      ['1718376961123456789', 'Jun 14 15:16:01 web-1 CRON[1234]: (root) CMD (   cd / && run-parts --report /etc/cron.hourly)'],
      ['1718376962000000000', 'Jun 14 15:16:02 web-1 sshd[812]: Failed password for invalid user admin from 203.0.113.9 port 52144 ssh2'],
    ],
  }],
};

// Grafana Alloy / Loki 3 with service_name, detected_level and structured metadata.
const ALLOY = {
  streams: [
    {
      stream: { service_name: 'checkout', namespace: 'payments', pod: 'checkout-7c9d8-xk2lp', detected_level: 'error', instance: '10.0.3.17:8080' },
      values: [
        ['1718376963000000000', '{"level":"error","msg":"payment declined","order":"A-1009"}', { trace_id: '0AF7651916CD43DD8448EB211C80319C', span_id: 'b7ad6b7169203331', user_agent: 'curl/8.5.0' }],
        ['1718376964000000000', 'retrying charge'],
      ],
    },
    {
      stream: { app: 'nginx', level: 'WARN' },
      values: [['1718376965000000000', '10.0.0.1 - - [14/Jun/2024:15:16:05 +0000] "GET /healthz HTTP/1.1" 499 0']],
    },
  ],
};

describe('lokiPushToRecords', () => {
  it('reads what promtail sends: job, host and filename labels', () => {
    const { records, rejected } = lokiPushToRecords(PROMTAIL);
    expect(rejected).toEqual([]);
    expect(records).toEqual([
      {
        message: 'Jun 14 15:16:01 web-1 CRON[1234]: (root) CMD (   cd / && run-parts --report /etc/cron.hourly)',
        timestamp: 1718376961123,
        service: 'varlogs',
        host: 'web-1',
        attributes: { filename: '/var/log/syslog' },
      },
      expect.objectContaining({ timestamp: 1718376962000, service: 'varlogs', host: 'web-1' }),
    ]);
  });

  it('reads service_name, detected_level, instance and structured metadata', () => {
    const { records, rejected } = lokiPushToRecords(ALLOY);
    expect(rejected).toEqual([]);
    expect(records[0]).toEqual({
      message: '{"level":"error","msg":"payment declined","order":"A-1009"}',
      timestamp: 1718376963000,
      level: 'error',
      service: 'checkout',
      host: '10.0.3.17:8080',
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      attributes: { user_agent: 'curl/8.5.0', namespace: 'payments', pod: 'checkout-7c9d8-xk2lp' },
    });
    expect(records[1]).toMatchObject({ message: 'retrying charge', level: 'error', service: 'checkout' });
    expect(records[2]).toEqual({
      message: '10.0.0.1 - - [14/Jun/2024:15:16:05 +0000] "GET /healthz HTTP/1.1" 499 0',
      timestamp: 1718376965000,
      level: 'warn',
      service: 'nginx',
    });
  });

  it('prefers service_name over service, app and job; keeps an unknown level as an attribute', () => {
    const { records } = lokiPushToRecords({ streams: [{ stream: { job: 'j', app: 'a', service: 's', level: 'unknown' }, values: [['1', 'x']] }] });
    expect(records[0]).toEqual({ message: 'x', service: 's', attributes: { job: 'j', app: 'a', level: 'unknown' } });
  });

  it('takes the level from structured metadata when the labels have none', () => {
    const { records } = lokiPushToRecords({ streams: [{ stream: { job: 'api' }, values: [['1718376963000000000', 'boom', { detected_level: 'fatal' }]] }] });
    expect(records[0]).toEqual({ message: 'boom', timestamp: 1718376963000, level: 'fatal', service: 'api' });
  });

  it('reads the legacy labels/entries form', () => {
    const { records, rejected } = lokiPushToRecords({
      streams: [{ labels: '{job="legacy", hostname="db-2", env="prod"}', entries: [{ ts: '2024-06-14T15:16:01.5Z', line: 'checkpoint complete' }] }],
    });
    expect(rejected).toEqual([]);
    expect(records).toEqual([{ message: 'checkpoint complete', timestamp: 1718378161500, service: 'legacy', host: 'db-2', attributes: { env: 'prod' } }]);
  });

  it('rejects bad entries with stable codes and keeps the rest', () => {
    const result = lokiPushToRecords({
      streams: [
        { stream: { job: 'a' }, values: [
          ['1718376961000000000', 'good one'],
          ['yesterday', 'bad time'],
          ['1718376961000000000', 42],
          ['1718376961000000000', '   '],
          ['1718376961000000000'],
          ['1718376961000000000', 'bad metadata', 'nope'],
          ['1718376961000000000', 'bad trace', { trace_id: 'nothex' }],
          ['1718376961000000000', 'good two'],
        ] },
        'not a stream',
        { stream: { job: 'b' }, values: 'nope' },
        { stream: 'job=c', values: [['1', 'x'], ['2', 'y']] },
        { stream: { job: 'd' }, values: [['1718376961000000000', 'good three']] },
      ],
    });
    expect(result.records.map((r) => r.message)).toEqual(['good one', 'good two', 'good three']);
    expect(result.rejected.map((r) => [r.index, r.code])).toEqual([
      [1, 'VIGIL_INGEST_INVALID_TIMESTAMP'],
      [2, 'VIGIL_INGEST_INVALID_MESSAGE'],
      [3, 'VIGIL_INGEST_MISSING_MESSAGE'],
      [4, 'VIGIL_INGEST_INVALID_RECORD'],
      [5, 'VIGIL_INGEST_INVALID_ATTRIBUTES'],
      [6, 'VIGIL_INGEST_INVALID_ID'],
      [8, 'VIGIL_INGEST_INVALID_RECORD'],
      [9, 'VIGIL_INGEST_INVALID_RECORD'],
      [10, 'VIGIL_INGEST_INVALID_ATTRIBUTES'],
      [11, 'VIGIL_INGEST_INVALID_ATTRIBUTES'],
    ]);
    expect(result.rejected[0]!.path).toBe('streams[0].values[1]');
    const reply = lokiPushReply(result);
    expect(reply.status).toBe(400);
    expect('body' in reply && reply.body).toMatch(/^10 of 13 entries rejected, the rest accepted:\nstreams\[0\]\.values\[1\]: VIGIL_INGEST_INVALID_TIMESTAMP/);
    expect(lokiPushReply(lokiPushToRecords(PROMTAIL))).toEqual({ status: 204 });
  });

  it('fails a request without streams, and invalid JSON', () => {
    expect(() => lokiPushToRecords({ resourceLogs: [] })).toThrow(/"streams" array \(found: "resourceLogs"\)/);
    try {
      parseLokiPushJson('{"streams": [');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(IngestError);
      expect(lokiErrorReply(err as IngestError)).toEqual({ status: 400, body: expect.stringMatching(/^VIGIL_INGEST_INVALID_JSON: /) });
    }
  });

  it('limits records per request', () => {
    const values = Array.from({ length: 4 }, (_, i) => [`${1718376961000000000 + i}`, `line ${i}`]);
    const result = parseLokiPushJson(JSON.stringify({ streams: [{ stream: {}, values }] }), { limits: { maxRecords: 2 } });
    expect(result.records).toHaveLength(2);
    expect(result.rejected.map((r) => r.code)).toEqual(['VIGIL_INGEST_TOO_MANY_RECORDS', 'VIGIL_INGEST_TOO_MANY_RECORDS']);
  });
});

describe('parseLabelString', () => {
  it('reads Prometheus label sets with escapes', () => {
    expect(parseLabelString('{job="varlogs", path="C:\\\\logs", msg="say \\"hi\\""}')).toEqual({ job: 'varlogs', path: 'C:\\logs', msg: 'say "hi"' });
    expect(parseLabelString('{}')).toEqual({});
    expect(parseLabelString('job=varlogs')).toBeNull();
    expect(parseLabelString('{job=varlogs}')).toBeNull();
  });
});
