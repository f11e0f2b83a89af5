/**
 * Shared by the service tests: a quiet log with a burst of a new error at its end, and an in-process
 * service — its pipeline on a worker thread when VIGIL_TEST_PIPELINE_THREAD=1 (as `vigil serve`
 * runs it: test/service-threaded.test.ts runs the service suites that way too).
 */
import { randomUUID } from 'node:crypto';
import type { VigilStore } from '../src/adapters/store/vigil-store.js';
import { buildApp, type AppDeps } from '../src/server/app.js';
import { VigilMetrics } from '../src/server/metrics.js';
import { Pipeline } from '../src/worker/pipeline.js';
import { MemoryQueue } from '../src/worker/queue.js';
import { ThreadedPipeline } from '../src/worker/threaded-pipeline.js';

const T0 = Date.UTC(2026, 0, 15, 10, 0, 0);

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}

/** `n` ordinary request lines, one a second from `startMs` (deterministic). */
export function normalLines(n: number, startMs = T0): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    out.push(`${stamp(startMs + i * 1000)} INFO [api] GET /api/items/${(i * 37) % 997} 200 ${(i * 13) % 90 + 3}ms user=${(i * 7) % 50}`);
  }
  return out;
}

/** A burst of `n` lines of one new error, one a second from `startMs`. */
export function errorBurst(n: number, startMs = T0 + 400_000): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`${stamp(startMs + i * 1000)} ERROR [db] connection refused to 10.0.0.${i % 9}:5432 after ${(i % 5) + 1} retries`);
  return out;
}

export const TEST_LIMITS: AppDeps['limits'] = { maxBodyBytes: 256 * 1024, maxLineBytes: 2048, maxRecordsPerRequest: 2_000, rateLimitPerMinute: 1_000 };

export interface TestService {
  app: Awaited<ReturnType<typeof buildApp>>;
  pipeline: Pipeline | ThreadedPipeline;
  queue: MemoryQueue;
  metrics: VigilMetrics;
  close(): Promise<void>;
}

export async function startService(store: VigilStore, over: Partial<AppDeps> = {}): Promise<TestService> {
  const queue = new MemoryQueue(100_000);
  const metrics = new VigilMetrics({ queue: () => queue.stats(), incidentsByStatus: () => store.incidentCountsByStatus() }, { defaultMetrics: false });
  const pipeline = process.env.VIGIL_TEST_PIPELINE_THREAD === '1'
    ? new ThreadedPipeline({ store, incidentWindowMs: 120_000, flushIntervalMs: 20, flushMaxRecords: 20_000, snapshotIntervalMs: 30_000, observer: metrics.pipelineObserver(), onDeath: (err) => { throw err; } })
    : new Pipeline({ store, now: Date.now, newId: randomUUID, flushIntervalMs: 20, observer: metrics.pipelineObserver() });
  const app = await buildApp({ store, queue, incidents: pipeline, metrics, jwtSecret: 'test-secret-'.padEnd(48, 'x'), limits: TEST_LIMITS, loginRateLimitPerMinute: 1_000, ...over });
  pipeline.start(queue);
  if (pipeline instanceof ThreadedPipeline) await pipeline.ready;
  await app.ready();
  return {
    app, pipeline, queue, metrics,
    async close() {
      await app.close();
      queue.close();
      await queue.drained();
      await pipeline.stop();
    },
  };
}
