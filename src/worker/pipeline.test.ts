import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../adapters/store/open.js';
import { VigilStore, type FlushWrites } from '../adapters/store/vigil-store.js';
import { DETECTOR_STATE_VERSION, restoreDetectors } from '../core/analyze/detector-state.js';
import { resolveConfig } from '../core/analyze/analyze-config.js';
import { DETECTOR_SPECS } from '../core/analyze/detectors.js';
import { Pipeline } from './pipeline.js';
import { MemoryQueue, type IngestBatch } from './queue.js';
import { SourceReader } from './source-reader.js';
import { burst, lineBatch, newProject as newStoreProject, quiet, stamp, T0 } from '../../test/pipeline-fixtures.js';


let store: VigilStore;

beforeAll(async () => {
  ({ store } = await openStore({}));
});

afterAll(async () => {
  await store?.close();
});

const newProject = (): Promise<string> => newStoreProject(store);

const batch = lineBatch;

function running(s: VigilStore = store): { pipeline: Pipeline; queue: MemoryQueue; stop(): Promise<void> } {
  const queue = new MemoryQueue(1_000_000);
  const pipeline = new Pipeline({ store: s, now: Date.now, newId: randomUUID, flushIntervalMs: 10 });
  pipeline.start(queue);
  return { pipeline, queue, async stop() { queue.close(); await queue.drained(); await pipeline.stop(); } };
}

const count = async (projectId: string): Promise<number> => (await store.listTemplates(projectId, { limit: 100 })).reduce((n, t) => n + t.count, 0);

describe('Pipeline', () => {
  it('counts a batch delivered twice once, whether the copies overlap or come after the first was stored', async () => {
    const pid = await newProject();
    const { queue, stop } = running();
    const b = batch(pid, quiet(50), 'dup-1');
    await Promise.all([queue.publish(b), queue.publish({ ...b })]);
    await queue.publish({ ...b });
    expect(await count(pid)).toBe(50);
    expect(await store.isBatchProcessed(pid, 'dup-1')).toBe(true);
    await stop();
    // a new process knows it too (from processed_batches)
    const again = running();
    await again.queue.publish({ ...b });
    expect(await count(pid)).toBe(50);
    await again.stop();
  });

  it('acknowledges nothing until its flush is stored, and retries a failed flush without counting twice', async () => {
    const pid = await newProject();
    let failing = true;
    let failed = 0;
    const flaky = new VigilStore(store.db);
    const realFlush = flaky.flush.bind(flaky);
    flaky.flush = async (w: FlushWrites) => {
      if (w.batches.length > 0 && failing) {
        failed++;
        throw new Error('disk on fire');
      }
      return realFlush(w);
    };
    const { pipeline, queue, stop } = running(flaky);
    let acked = false;
    const published = queue.publish(batch(pid, quiet(40))).then(() => { acked = true; });
    while (failed < 2) await new Promise((r) => setTimeout(r, 5));
    expect(acked).toBe(false);
    expect(pipeline.healthy).toBe(false);
    failing = false;
    await published;
    expect(pipeline.healthy).toBe(true);
    expect(await count(pid)).toBe(40);
    await stop();
  });

  it('continues after a restart with the stored miner, format and incidents', async () => {
    const pid = await newProject();
    const one = running();
    await one.queue.publish(batch(pid, quiet(300)));
    await one.queue.publish(batch(pid, burst(10)));
    await one.stop();
    const [incident] = await store.listIncidents(pid, { limit: 10 });
    expect(incident).toBeDefined();
    const templatesBefore = (await store.listTemplates(pid, { limit: 100 })).map((t) => t.templateId).sort();
    expect(await store.minerState(pid, 'app')).toMatchObject({ format: 'vigil.source', version: 1, reader: { format: { kind: 'text' } } });

    const two = running();
    await two.queue.publish(batch(pid, [...quiet(300, T0 + 600_000), ...burst(20, T0 + 1_000_000)]));
    await two.stop();
    const templatesAfter = (await store.listTemplates(pid, { limit: 100 })).map((t) => t.templateId).sort();
    expect(templatesAfter).toEqual(templatesBefore);
    const incidents = await store.listIncidents(pid, { limit: 10 });
    expect(incidents.map((i) => i.id)).toEqual([incident!.id]);
    expect(incidents[0]!.occurrences).toBeGreaterThan(incident!.occurrences);
  });

  it('stores a person’s status change at once and never overwrites it with older state', async () => {
    const pid = await newProject();
    const { pipeline, queue, stop } = running();
    await queue.publish(batch(pid, [...quiet(300), ...burst(10)]));
    const [incident] = await store.listIncidents(pid, { limit: 10 });
    const closed = await pipeline.setIncidentStatus(pid, incident!.id, 'closed');
    expect(closed).toMatchObject({ id: incident!.id, status: 'closed' });
    await pipeline.flush();
    expect((await store.getIncident(pid, incident!.id))!.status).toBe('closed');
    expect(await pipeline.setIncidentStatus(await newProject(), incident!.id, 'open')).toBeUndefined();
    await stop();
    // an incident whose source is not loaded is changed in the database
    const fresh = running();
    expect(await fresh.pipeline.setIncidentStatus(pid, incident!.id, 'ignored')).toMatchObject({ status: 'ignored' });
    await fresh.stop();
  });

  it('keeps the detectors\' baselines across a restart (checkpointed with the miner)', async () => {
    const pid = await newProject();
    const one = running();
    await one.queue.publish(batch(pid, quiet(300)));
    await one.stop();
    const saved = await store.projectState(pid);
    expect(saved.detectors).toMatchObject({ format: 'vigil.detectors', version: DETECTOR_STATE_VERSION });
    expect(saved.sources.get('app')).toMatchObject({ format: 'vigil.source', records: 300 });
    const warnings: string[] = [];
    const queue = new MemoryQueue(1_000_000);
    const two = new Pipeline({ store, now: Date.now, newId: randomUUID, flushIntervalMs: 10, log: { warn: (_o, m) => warnings.push(m), error: (_o, m) => warnings.push(m) } });
    two.start(queue);
    await queue.publish(batch(pid, quiet(50, T0 + 300_000)));
    queue.close();
    await two.stop();
    expect(warnings).toEqual([]);
    // the restored detectors went on counting from 300
    const config = resolveConfig(undefined, DETECTOR_SPECS);
    const detectors = restoreDetectors(config, (await store.projectState(pid)).detectors);
    const newTemplate = detectors.find((d) => d.name === 'new_template') as unknown as { sources: Map<string, { records: number }> };
    expect(newTemplate.sources.get('app')!.records).toBe(350);
  });

  it('starts the detectors afresh, with a warning, when their saved state is unusable', async () => {
    const pid = await newProject();
    await store.flush({ batches: [], templates: [], volume: [], incidents: [], minerStates: [], checkpoints: [{ projectId: pid, detectors: { format: 'vigil.detectors', version: 99 }, atMs: T0 }] });
    const warnings: string[] = [];
    const queue = new MemoryQueue(1_000_000);
    const p = new Pipeline({ store, now: Date.now, newId: randomUUID, flushIntervalMs: 10, log: { warn: (o, m) => warnings.push(`${m}: ${JSON.stringify(o)}`), error: (_o, m) => warnings.push(m) } });
    p.start(queue);
    await queue.publish(batch(pid, quiet(20)));
    queue.close();
    await p.stop();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/detector state unusable.*version 99 is not supported/);
    expect(await count(pid)).toBe(20);
    expect((await store.projectState(pid)).detectors).toMatchObject({ version: DETECTOR_STATE_VERSION });
  });

  it('drops what it holds and fails the deliveries when another worker stored the same batch first', async () => {
    const pid = await newProject();
    const racing = new VigilStore(store.db);
    const realFlush = racing.flush.bind(racing);
    let raced = false;
    racing.flush = async (w: FlushWrites) => {
      // another worker stores b-race between this pipeline's check and its flush
      if (!raced && w.batches.some((b) => b.batchId === 'b-race')) {
        raced = true;
        await store.flush({ batches: [{ projectId: pid, batchId: 'b-race', records: 30 }], templates: [], volume: [], incidents: [], minerStates: [] });
      }
      return realFlush(w);
    };
    const { pipeline, queue, stop } = running(racing);
    await expect(queue.publish(batch(pid, quiet(30), 'b-race'))).rejects.toMatchObject({ code: 'VIGIL_PIPELINE_RESET' });
    expect(pipeline.stats()).toMatchObject({ projects: 0, incidentsHeld: 0, pendingRecords: 0 });
    expect(pipeline.healthy).toBe(false);
    // the client retries: it was stored (by the other worker), so it counts once — there
    expect(await count(pid)).toBe(0);
    await queue.publish(batch(pid, quiet(30), 'b-race'));
    expect(await count(pid)).toBe(0);
    await queue.publish(batch(pid, quiet(10, T0 + 100_000)));
    expect(await count(pid)).toBe(10);
    expect(pipeline.healthy).toBe(true);
    await stop();
  });

  it('reports binary lines as a malformed incident without mining them', async () => {
    const pid = await newProject();
    const { queue, stop } = running();
    await queue.publish(batch(pid, ['\u0000\u0001\u0002binary\u0000junk', ...quiet(5)]));
    await stop();
    const [incident] = await store.listIncidents(pid, { limit: 10 });
    expect(incident).toMatchObject({ signature: 'malformed:binary', severity: 'medium', occurrences: 1 });
    expect(await count(pid)).toBe(5);
  });
});

describe('SourceReader', () => {
  it('learns the format across small batches, then keeps it', () => {
    const reader = new SourceReader(2026, { maxLinesPerRecord: 50, maxRecordChars: 10_000 });
    const got: (number | undefined)[] = [];
    for (let i = 0; i < 70; i += 7) reader.read(quiet(7, T0 + i * 1000).map((text) => ({ kind: 'line', text })), (r) => got.push(r.record.timestamp));
    expect(got).toHaveLength(70);
    expect(got.every((t) => typeof t === 'number')).toBe(true);
    expect(reader.state()).toEqual({ format: expect.objectContaining({ kind: 'text' }), sample: [] });
    const restored = new SourceReader(2026, { maxLinesPerRecord: 50, maxRecordChars: 10_000 }, reader.state());
    const one: string[] = [];
    restored.read([{ kind: 'line', text: quiet(1)[0]! }], (r) => one.push(r.record.message));
    expect(one).toEqual(['GET /items/0 200 0ms']);
  });

  it('joins a stack trace to its record within a batch and closes the record at the batch end', () => {
    const reader = new SourceReader(2026, { maxLinesPerRecord: 50, maxRecordChars: 10_000 });
    const lines = [...quiet(3), `${stamp(T0 + 5000)} ERROR [api] java.lang.IllegalStateException: boom`, '    at com.example.Api.handle(Api.java:42)', '    at com.example.Server.run(Server.java:7)'];
    const out: string[] = [];
    reader.read(lines.map((text) => ({ kind: 'line', text })), (r) => out.push(r.record.message));
    expect(out).toHaveLength(4);
    expect(out[3]).toContain('at com.example.Server.run');
  });
});
