/** Protocol adapters that turn what existing shippers and SDKs send into IngestRecords. */
export * from './ingest-record.js';
export * from './otlp.js';
export * from './loki.js';
export * from './syslog.js';
