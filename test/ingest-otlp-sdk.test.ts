/**
 * A real OTLP client: the OpenTelemetry JS SDK (`@opentelemetry/sdk-logs` with the OTLP/HTTP log
 * exporter, JSON encoding) exports to a tiny local HTTP server that feeds the body to Vigil's OTLP
 * parser and answers as an OTLP server would. The records must arrive intact: service.name,
 * host.name, severity, body, attributes, trace context.
 *
 * Skipped when the SDK packages are not installed, unless VIGIL_REQUIRE_SERVICES=1 (CI), where
 * that fails.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IngestResult } from '../src/core/ingest-protocols/ingest-record.js';
import { IngestError } from '../src/core/ingest-protocols/ingest-record.js';
import { assertOtlpJsonContentType, otlpErrorResponse, otlpExportResponse, parseOtlpLogsJson } from '../src/core/ingest-protocols/otlp.js';

async function loadSdk() {
  try {
    const [api, apiLogs, sdkLogs, exporter, resources] = await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/api-logs'),
      import('@opentelemetry/sdk-logs'),
      import('@opentelemetry/exporter-logs-otlp-http'),
      import('@opentelemetry/resources'),
    ]);
    return { api, apiLogs, sdkLogs, exporter, resources };
  } catch (err) {
    const msg = `ingest-otlp-sdk: the OpenTelemetry SDK is not installed (${(err as Error).message}; npm install)`;
    if (process.env.VIGIL_REQUIRE_SERVICES === '1') throw new Error(`${msg}; required because VIGIL_REQUIRE_SERVICES=1`);
    console.warn(`${msg}: skipping the real-client OTLP tests`);
    return undefined;
  }
}

const sdk = await loadSdk();

interface Received {
  path: string;
  contentType: string | undefined;
  result?: IngestResult;
  error?: IngestError;
}

describe.skipIf(!sdk)('OTLP/HTTP JSON from the OpenTelemetry JS SDK', () => {
  const received: Received[] = [];
  let server: http.Server;
  let url: string;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body = Buffer.concat(chunks);
        if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
        const entry: Received = { path: req.url ?? '', contentType: req.headers['content-type'] };
        received.push(entry);
        try {
          assertOtlpJsonContentType(req.headers['content-type']);
          entry.result = parseOtlpLogsJson(body);
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(otlpExportResponse(entry.result)));
        } catch (err) {
          if (!(err instanceof IngestError)) throw err;
          entry.error = err;
          res.writeHead(err.status, { 'content-type': 'application/json' }).end(JSON.stringify(otlpErrorResponse(err)));
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/logs`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('receives service, host, severity, body, attributes and trace context intact', async () => {
    const { api, apiLogs, sdkLogs, exporter, resources } = sdk!;
    const exp = new exporter.OTLPLogExporter({ url });
    const provider = new sdkLogs.LoggerProvider({
      resource: resources.resourceFromAttributes({ 'service.name': 'checkout', 'host.name': 'web-1', 'deployment.environment.name': 'prod' }),
      processors: [new sdkLogs.SimpleLogRecordProcessor({ exporter: exp })],
    });
    const logger = provider.getLogger('vigil-test', '1.2.3');
    const spanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 };
    const ctx = api.trace.setSpanContext(api.ROOT_CONTEXT, spanContext);
    const when = Date.UTC(2024, 5, 14, 15, 16, 1, 512);

    logger.emit({
      severityNumber: apiLogs.SeverityNumber.ERROR,
      severityText: 'ERROR',
      body: 'payment declined for order A-1009',
      timestamp: when,
      attributes: { 'http.route': '/api/pay', 'http.status_code': 502, retry: true, amount: 12.5, tags: ['card', 'visa'] },
      context: ctx,
    });
    logger.emit({ severityNumber: apiLogs.SeverityNumber.WARN2, body: { msg: 'slow query', duration_ms: 1830, db: { system: 'postgresql' } } });
    logger.emit({ severityText: 'debug', body: 'cache warmed' });
    await provider.forceFlush();
    await provider.shutdown();

    expect(received.length).toBeGreaterThan(0);
    expect(received.every((r) => r.path === '/v1/logs' && r.contentType?.startsWith('application/json') && r.error === undefined)).toBe(true);
    const records = received.flatMap((r) => r.result!.records);
    expect(received.every((r) => r.result!.rejectedCount === 0)).toBe(true);
    expect(records).toHaveLength(3);

    const [pay, slow, cache] = records;
    expect(pay).toMatchObject({
      message: 'payment declined for order A-1009',
      timestamp: when,
      level: 'error',
      service: 'checkout',
      host: 'web-1',
      traceId: spanContext.traceId,
      spanId: spanContext.spanId,
      attributes: {
        'http.route': '/api/pay',
        'http.status_code': '502',
        retry: 'true',
        amount: '12.5',
        tags: '["card","visa"]',
        'otel.scope.name': 'vigil-test',
        'otel.scope.version': '1.2.3',
        'deployment.environment.name': 'prod',
      },
    });
    expect(pay!.attributes).not.toHaveProperty('service.name');
    expect(slow).toMatchObject({ message: 'slow query', level: 'warn', service: 'checkout', attributes: { duration_ms: '1830', 'db.system': 'postgresql' } });
    expect(typeof slow!.timestamp).toBe('number');
    expect(cache).toMatchObject({ message: 'cache warmed', level: 'debug', service: 'checkout' });
  });

  it('answers a record it rejects with a partial success the exporter accepts', async () => {
    // the SDK never writes a bad record, so post one beside a good one the way the exporter does
    received.length = 0;
    const body = JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{ body: { stringValue: 'ok' } }, { severityNumber: 99, body: { stringValue: 'bad' } }] }] }] });
    const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ partialSuccess: { rejectedLogRecords: 1, errorMessage: expect.stringContaining('VIGIL_INGEST_INVALID_SEVERITY') } });
    const bad = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: 'x' });
    expect(bad.status).toBe(415);
    expect(await bad.json()).toEqual({ code: 3, message: expect.stringContaining('VIGIL_INGEST_UNSUPPORTED_MEDIA_TYPE') });
  });
});
