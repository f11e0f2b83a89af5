/**
 * Prometheus metrics (prom-client), one registry per app so several apps (tests) never share
 * counters. Gauges that describe state (queue lag, incidents by status) are read when scraped.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { IncidentStatus } from '../core/incidents/incident.js';
import type { PipelineObserver } from '../worker/pipeline.js';
import type { QueueStats } from '../worker/queue.js';

export interface MetricsSources {
  queue(): QueueStats;
  incidentsByStatus(): Promise<Record<IncidentStatus, number>>;
}

export class VigilMetrics {
  readonly registry = new Registry();
  readonly ingested: Counter<'source_kind'>;
  readonly rejected: Counter<'reason'>;
  readonly processed: Counter;
  readonly anomalies: Counter;
  readonly duplicates: Counter;
  readonly incidentEvents: Counter<'kind'>;
  readonly flushSeconds: Histogram;
  readonly flushFailures: Counter;

  constructor(sources: MetricsSources, opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.ingested = new Counter({ name: 'vigil_ingested_records_total', help: 'Records accepted by ingestion', labelNames: ['source_kind'], registers });
    this.rejected = new Counter({ name: 'vigil_rejected_records_total', help: 'Records (or whole requests) rejected by ingestion, by error code', labelNames: ['reason'], registers });
    this.processed = new Counter({ name: 'vigil_processed_records_total', help: 'Records run through the pipeline', registers });
    this.anomalies = new Counter({ name: 'vigil_anomalous_records_total', help: 'Records the decision rule called anomalous', registers });
    this.duplicates = new Counter({ name: 'vigil_duplicate_batches_total', help: 'Batches delivered again and skipped', registers });
    this.incidentEvents = new Counter({ name: 'vigil_incident_events_total', help: 'Incident events (created, reanalyze, reopened, recurred)', labelNames: ['kind'], registers });
    this.flushSeconds = new Histogram({ name: 'vigil_flush_duration_seconds', help: 'Time to store one flush (one transaction)', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5], registers });
    this.flushFailures = new Counter({ name: 'vigil_flush_failures_total', help: 'Flushes that failed (retried)', registers });
    new Gauge({
      name: 'vigil_queue_lag_records', help: 'Records published and not yet stored', registers,
      collect() { this.set(sources.queue().pendingRecords); },
    });
    new Gauge({
      name: 'vigil_queue_lag_seconds', help: 'Age of the oldest batch not yet stored', registers,
      collect() { this.set(sources.queue().oldestPendingMs / 1000); },
    });
    new Gauge({
      name: 'vigil_incidents', help: 'Incidents by status', labelNames: ['status'], registers,
      async collect() {
        const counts = await sources.incidentsByStatus();
        for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
      },
    });
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'vigil_' });
  }

  /** The pipeline's hooks, counting into these metrics. */
  pipelineObserver(): PipelineObserver {
    return {
      processed: (records, anomalies) => {
        this.processed.inc(records);
        if (anomalies) this.anomalies.inc(anomalies);
      },
      flushed: (seconds) => this.flushSeconds.observe(seconds),
      flushFailed: () => this.flushFailures.inc(),
      duplicate: () => this.duplicates.inc(),
      incidentEvent: (e) => this.incidentEvents.inc({ kind: e.kind }),
    };
  }
}
