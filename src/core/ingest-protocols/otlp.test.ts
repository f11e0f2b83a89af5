import { describe, expect, it } from 'vitest';
import { IngestError } from './ingest-record.js';
import {
  assertOtlpJsonContentType,
  levelFromOtlpSeverity,
  otlpErrorResponse,
  otlpExportResponse,
  otlpLogsToRecords,
  parseOtlpLogsJson,
} from './otlp.js';

// The example request of opentelemetry-proto (examples/logs.json), as the collector's otlphttp
// exporter writes it with `encoding: json`.
const PROTO_EXAMPLE = {
  resourceLogs: [{
    resource: { attributes: [{ key: 'service.name', value: { stringValue: 'my.service' } }] },
    scopeLogs: [{
      scope: {
        name: 'my.library',
        version: '1.0.0',
        attributes: [{ key: 'my.scope.attribute', value: { stringValue: 'some scope attribute' } }],
      },
      logRecords: [{
        timeUnixNano: '1544712660300000000',
        observedTimeUnixNano: '1544712660300000000',
        severityNumber: 10,
        severityText: 'Information',
        traceId: '5B8EFFF798038103D269B633813FC60C',
        spanId: 'EEE19B7EC3C1B174',
        body: { stringValue: 'Example log record' },
        attributes: [
          { key: 'string.attribute', value: { stringValue: 'some string' } },
          { key: 'boolean.attribute', value: { boolValue: true } },
          { key: 'int.attribute', value: { intValue: '10' } },
          { key: 'double.attribute', value: { doubleValue: 637.704 } },
          { key: 'array.attribute', value: { arrayValue: { values: [{ stringValue: 'many' }, { stringValue: 'values' }] } } },
          { key: 'map.attribute', value: { kvlistValue: { values: [{ key: 'some.map.key', value: { stringValue: 'some value' } }] } } },
        ],
      }],
    }],
  }],
};

// What a collector with a filelog receiver and the k8s/resourcedetection processors forwards.
const COLLECTOR_FILELOG = {
  resourceLogs: [{
    resource: {
      attributes: [
        { key: 'host.name', value: { stringValue: 'ip-10-0-3-17' } },
        { key: 'os.type', value: { stringValue: 'linux' } },
        { key: 'k8s.namespace.name', value: { stringValue: 'payments' } },
        { key: 'k8s.pod.name', value: { stringValue: 'checkout-7c9d8-xk2lp' } },
        { key: 'service.name', value: { stringValue: 'checkout' } },
      ],
    },
    scopeLogs: [{
      scope: {},
      logRecords: [
        {
          observedTimeUnixNano: '1718376961512345678',
          body: { stringValue: '2024-06-14T15:16:01.512Z ERROR [db] connection refused to 10.0.0.5:5432' },
          attributes: [
            { key: 'log.file.name', value: { stringValue: '0.log' } },
            { key: 'log.iostream', value: { stringValue: 'stderr' } },
          ],
          traceId: '',
          spanId: '',
        },
        {
          timeUnixNano: '1718376962000000000',
          observedTimeUnixNano: '1718376962100000000',
          severityNumber: 17,
          severityText: 'ERROR',
          body: { stringValue: 'payment declined' },
          flags: 1,
          traceId: '0af7651916cd43dd8448eb211c80319c',
          spanId: 'b7ad6b7169203331',
        },
      ],
    }],
  }],
};

describe('levelFromOtlpSeverity', () => {
  it('maps the six bands of four numbers each', () => {
    expect([1, 4, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24].map(levelFromOtlpSeverity)).toEqual([
      'trace', 'trace', 'debug', 'debug', 'info', 'info', 'warn', 'warn', 'error', 'error', 'fatal', 'fatal',
    ]);
    expect(levelFromOtlpSeverity(0)).toBeUndefined();
    expect(levelFromOtlpSeverity(25)).toBeUndefined();
  });
});

describe('otlpLogsToRecords', () => {
  it('reads the opentelemetry-proto example intact', () => {
    const result = otlpLogsToRecords(PROTO_EXAMPLE);
    expect(result.rejected).toEqual([]);
    expect(result.records).toEqual([{
      message: 'Example log record',
      timestamp: 1544712660300,
      level: 'info',
      service: 'my.service',
      traceId: '5b8efff798038103d269b633813fc60c',
      spanId: 'eee19b7ec3c1b174',
      attributes: {
        'string.attribute': 'some string',
        'boolean.attribute': 'true',
        'int.attribute': '10',
        'double.attribute': '637.704',
        'array.attribute': '["many","values"]',
        'map.attribute.some.map.key': 'some value',
        'otel.scope.name': 'my.library',
        'otel.scope.version': '1.0.0',
        'my.scope.attribute': 'some scope attribute',
      },
    }]);
  });

  it('reads collector-forwarded file logs: host and service from the resource, observed time, empty ids', () => {
    const { records, rejected } = otlpLogsToRecords(COLLECTOR_FILELOG);
    expect(rejected).toEqual([]);
    expect(records).toHaveLength(2);
    expect(records[0]).toEqual({
      message: '2024-06-14T15:16:01.512Z ERROR [db] connection refused to 10.0.0.5:5432',
      timestamp: 1718376961512,
      service: 'checkout',
      host: 'ip-10-0-3-17',
      attributes: {
        'log.file.name': '0.log',
        'log.iostream': 'stderr',
        'os.type': 'linux',
        'k8s.namespace.name': 'payments',
        'k8s.pod.name': 'checkout-7c9d8-xk2lp',
      },
    });
    expect(records[1]).toMatchObject({ message: 'payment declined', timestamp: 1718376962000, level: 'error', traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331' });
  });

  it('turns every AnyValue body into a message', () => {
    const body = (b: unknown): unknown => ({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: b }] }] }] });
    const msg = (b: unknown): string | undefined => otlpLogsToRecords(body(b)).records[0]?.message;
    expect(msg({ stringValue: 'plain' })).toBe('plain');
    expect(msg({ intValue: '9007199254740993' })).toBe('9007199254740993');
    expect(msg({ intValue: 42 })).toBe('42');
    expect(msg({ doubleValue: 1.5 })).toBe('1.5');
    expect(msg({ boolValue: false })).toBe('false');
    expect(msg({ bytesValue: 'aGVsbG8=' })).toBe('aGVsbG8=');
    expect(msg({ arrayValue: { values: [{ intValue: '1' }, { stringValue: 'two' }] } })).toBe('[1,"two"]');
    expect(msg('bare string')).toBe('bare string');
  });

  it('uses the message key of a structured body and keeps the other keys as attributes', () => {
    const req = {
      resourceLogs: [{ scopeLogs: [{ logRecords: [
        { body: { kvlistValue: { values: [
          { key: 'msg', value: { stringValue: 'user login failed' } },
          { key: 'level', value: { stringValue: 'warn' } },
          { key: 'user', value: { kvlistValue: { values: [{ key: 'id', value: { intValue: '7' } }] } } },
        ] } } },
        { body: { kvlistValue: { values: [{ key: 'event', value: { stringValue: 'cache.miss' } }, { key: 'key', value: { stringValue: 'u:7' } }] } } },
      ] }] }],
    };
    const { records } = otlpLogsToRecords(req);
    expect(records[0]).toEqual({ message: 'user login failed', level: 'warn', attributes: { level: 'warn', 'user.id': '7' } });
    expect(records[1]!.message).toBe('{"event":"cache.miss","key":"u:7"}');
  });

  it('uses eventName when there is no body, and severityText when there is no severityNumber', () => {
    const { records, rejected } = otlpLogsToRecords({
      resourceLogs: [{ scopeLogs: [{ logRecords: [
        { eventName: 'browser.page_view', severityText: 'WARNING' },
        { body: { stringValue: 'x' }, severityText: 'Chatty' },
      ] }] }],
    });
    expect(rejected).toEqual([]);
    expect(records[0]).toEqual({ message: 'browser.page_view', level: 'warn', attributes: { 'event.name': 'browser.page_view' } });
    expect(records[1]).toEqual({ message: 'x', attributes: { severity_text: 'Chatty' } });
  });

  it('reads snake_case field names, numeric nanoseconds, SEVERITY_NUMBER names and base64 ids', () => {
    const { records, rejected } = otlpLogsToRecords({
      resource_logs: [{
        resource: { attributes: [{ key: 'service.name', value: { string_value: 'legacy' } }] },
        scope_logs: [{ log_records: [{
          time_unix_nano: 1718376961000000000,
          severity_number: 'SEVERITY_NUMBER_FATAL',
          body: { string_value: 'disk full' },
          trace_id: 'CvdlGRbNQ92ESOshHIAxnA==',
          span_id: 't61rcWkgMzE=',
        }] }],
      }],
    });
    expect(rejected).toEqual([]);
    expect(records[0]).toEqual({
      message: 'disk full', timestamp: 1718376961000, level: 'fatal', service: 'legacy',
      traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331',
    });
  });

  it('rejects bad records with stable codes and keeps their neighbours', () => {
    const good = { body: { stringValue: 'ok' } };
    const result = otlpLogsToRecords({
      resourceLogs: [
        { scopeLogs: [{ logRecords: [
          good,
          'not a record',
          { body: { stringValue: 'x' }, timeUnixNano: 'yesterday' },
          { body: { stringValue: 'x' }, severityNumber: 99 },
          { body: 17 },
          { attributes: [] },
          { body: { stringValue: 'x' }, traceId: 'xyz' },
          { body: { stringValue: 'x' }, spanId: '0af7651916cd43dd8448eb211c80319c' },
          { body: { stringValue: 'x' }, attributes: { key: 'v' } },
          good,
        ] }] },
        42,
        { scopeLogs: [{ logRecords: [good] }] },
      ],
    });
    expect(result.records.map((r) => r.message)).toEqual(['ok', 'ok', 'ok']);
    expect(result.rejected.map((r) => [r.index, r.code])).toEqual([
      [1, 'VIGIL_INGEST_INVALID_RECORD'],
      [2, 'VIGIL_INGEST_INVALID_TIMESTAMP'],
      [3, 'VIGIL_INGEST_INVALID_SEVERITY'],
      [4, 'VIGIL_INGEST_INVALID_MESSAGE'],
      [5, 'VIGIL_INGEST_MISSING_MESSAGE'],
      [6, 'VIGIL_INGEST_INVALID_ID'],
      [7, 'VIGIL_INGEST_INVALID_ID'],
      [8, 'VIGIL_INGEST_INVALID_ATTRIBUTES'],
      [10, 'VIGIL_INGEST_INVALID_RECORD'],
    ]);
    expect(result.rejected[2]!.path).toBe('resourceLogs[0].scopeLogs[0].logRecords[3]');
    expect(result.rejectedCount).toBe(9);
    const reply = otlpExportResponse(result);
    expect(reply.partialSuccess?.rejectedLogRecords).toBe(9);
    expect(reply.partialSuccess?.errorMessage).toContain('VIGIL_INGEST_INVALID_RECORD');
    expect(reply.partialSuccess?.errorMessage).toContain('(and 6 more)');
  });

  it('answers a full success with an empty response', () => {
    expect(otlpExportResponse(otlpLogsToRecords(PROTO_EXAMPLE))).toEqual({});
    expect(otlpLogsToRecords({}).records).toEqual([]);
  });

  it('fails a request that is not an OTLP logs request, naming what it found', () => {
    expect(() => otlpLogsToRecords([])).toThrow(IngestError);
    try {
      otlpLogsToRecords({ streams: [] });
      expect.unreachable();
    } catch (err) {
      expect((err as IngestError).code).toBe('VIGIL_INGEST_INVALID_REQUEST');
      expect((err as IngestError).message).toContain('streams');
      expect(otlpErrorResponse(err as IngestError)).toEqual({ code: 3, message: expect.stringContaining('VIGIL_INGEST_INVALID_REQUEST') });
    }
    expect(() => otlpLogsToRecords({ resourceLogs: {} })).toThrow(/not an array/);
  });

  it('applies limits: records, message length, attributes, rejection details', () => {
    const many = { resourceLogs: [{ scopeLogs: [{ logRecords: Array.from({ length: 5 }, (_, i) => ({
      body: { stringValue: `${'m'.repeat(20)}${i}` },
      attributes: Array.from({ length: 6 }, (__, k) => ({ key: `k${k}`, value: { stringValue: 'v'.repeat(12) } })),
    })) }] }] };
    const result = otlpLogsToRecords(many, { limits: { maxRecords: 3, maxMessageChars: 10, maxAttributes: 4, maxAttributeValueChars: 5, maxRejectionDetails: 1 } });
    expect(result.records).toHaveLength(3);
    expect(result.records[0]!.message).toBe('mmmmmmmmmm');
    expect(Object.keys(result.records[0]!.attributes!)).toEqual(['k0', 'k1', 'k2', 'k3']);
    expect(result.records[0]!.attributes!.k0).toBe('vvvvv');
    expect(result.truncated).toBe(3);
    expect(result.rejectedCount).toBe(2);
    expect(result.rejected).toEqual([{ index: 3, code: 'VIGIL_INGEST_TOO_MANY_RECORDS', message: 'more than 3 records in one request', path: 'resourceLogs[0].scopeLogs[0].logRecords[3]' }]);
  });

  it('bounds nesting depth', () => {
    let v: unknown = { stringValue: 'deep' };
    for (let i = 0; i < 50; i++) v = { arrayValue: { values: [v] } };
    const { records } = otlpLogsToRecords({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: v }] }] }] });
    expect(records[0]!.message).toContain('[nested too deep]');
  });
});

describe('parseOtlpLogsJson', () => {
  it('parses text and bytes', () => {
    const text = JSON.stringify(PROTO_EXAMPLE);
    expect(parseOtlpLogsJson(text).records).toHaveLength(1);
    expect(parseOtlpLogsJson(new TextEncoder().encode(text)).records).toHaveLength(1);
  });

  it('fails invalid JSON, empty and oversized bodies with their codes', () => {
    const code = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (err) {
        return `${(err as IngestError).code}/${(err as IngestError).status}`;
      }
      return undefined;
    };
    expect(code(() => parseOtlpLogsJson('{"resourceLogs": ['))).toBe('VIGIL_INGEST_INVALID_JSON/400');
    expect(code(() => parseOtlpLogsJson(''))).toBe('VIGIL_INGEST_INVALID_JSON/400');
    expect(code(() => parseOtlpLogsJson('{"resourceLogs": []}', { limits: { maxBodyChars: 5 } }))).toBe('VIGIL_INGEST_TOO_LARGE/413');
  });

  it('accepts JSON content types only', () => {
    expect(() => assertOtlpJsonContentType('application/json; charset=utf-8')).not.toThrow();
    expect(() => assertOtlpJsonContentType(undefined)).not.toThrow();
    expect(() => assertOtlpJsonContentType('application/x-protobuf')).toThrow(expect.objectContaining({ code: 'VIGIL_INGEST_UNSUPPORTED_MEDIA_TYPE', status: 415 }));
  });
});
