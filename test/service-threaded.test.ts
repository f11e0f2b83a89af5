/**
 * The service suites again, with the pipeline on a worker thread (as `vigil serve` runs it):
 * ingestion replies and error codes, idempotency, back-pressure, OTLP, Loki, the simulator,
 * status changes, metrics and the live incident stream (SSE) must not depend on where the
 * pipeline runs.
 */
process.env.VIGIL_TEST_PIPELINE_THREAD = '1';
await import('./server.test.js');
await import('./server-protocols.test.js');
await import('./incident-stream.test.js');

const { describe, expect, it } = await import('vitest');
const { openStore } = await import('../src/adapters/store/open.js');
const { startService } = await import('./service-fixtures.js');
const { ThreadedPipeline } = await import('../src/worker/threaded-pipeline.js');

describe('the threaded service fixture', () => {
  it('really runs the pipeline on a worker thread', async () => {
    const { store } = await openStore({});
    const svc = await startService(store);
    expect(svc.pipeline).toBeInstanceOf(ThreadedPipeline);
    expect((svc.pipeline as InstanceType<typeof ThreadedPipeline>).threadId).toBeGreaterThan(0);
    await svc.close();
    await store.close();
  });
});
