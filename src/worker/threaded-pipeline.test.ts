import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../adapters/store/open.js';
import type { VigilStore } from '../adapters/store/vigil-store.js';
import type { IncidentEvent } from '../core/incidents/incident.js';
import { Pipeline, type PipelineObserver } from './pipeline.js';
import { MemoryQueue, QueueError, type IngestBatch } from './queue.js';
import { PipelineThreadDiedError, ThreadedPipeline, type ThreadedPipelineOptions } from './threaded-pipeline.js';
import { burst, lineBatch, newProject as newStoreProject, quiet, T0 } from '../../test/pipeline-fixtures.js';


let store: VigilStore;

beforeAll(async () => {
  ({ store } = await openStore({}));
});

afterAll(async () => {
  await store?.close();
});

const newProject = (): Promise<string> => newStoreProject(store);

const lines = lineBatch;

function records(projectId: string, n: number, source = 'nd'): IngestBatch {
  return {
    id: randomUUID(), fresh: true, projectId, source, receivedAtMs: T0 + 3_600_000,
    records: Array.from({ length: n }, (_, i) => ({ kind: 'record' as const, record: { message: i % 50 === 49 ? `disk /dev/sd${i % 3} failed: I/O error` : `GET /items/${i % 97} 200 in ${i % 40} ms`, timestamp: T0 + i * 100, level: i % 50 === 49 ? 'error' as const : 'info' as const, component: 'api', host: 'h1', ...(i % 10 === 0 ? { requestId: `r${i}`, attributes: { request_id: `r${i}` } } : {}) } })),
  };
}

const until = async (ok: () => boolean, ms = 30_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
};

const OPTS = { incidentWindowMs: 120_000, flushIntervalMs: 10, flushMaxRecords: 20_000, snapshotIntervalMs: 30_000 };

function threaded(extra: Partial<ThreadedPipelineOptions> = {}, maxRecords = 1_000_000): { pipeline: ThreadedPipeline; queue: MemoryQueue; stop(): Promise<void> } {
  const queue = new MemoryQueue(maxRecords);
  const pipeline = new ThreadedPipeline({ store, ...OPTS, ...extra });
  pipeline.start(queue);
  return { pipeline, queue, async stop() { queue.close(); await queue.drained(); await pipeline.stop(); } };
}

const templates = async (projectId: string): Promise<[string, number][]> => (await store.listTemplates(projectId, { limit: 100 })).map((t): [string, number] => [`${t.source} ${t.template}`, t.count]).sort();
const incidents = async (projectId: string): Promise<[string, string, number][]> => (await store.listIncidents(projectId, { limit: 100 })).map((i): [string, string, number] => [i.source, i.title, i.occurrences]).sort();

describe('ThreadedPipeline (the pipeline on a worker thread)', () => {
  it('stores what the in-process pipeline stores, for lines and structured records alike', async () => {
    const [a, b] = [await newProject(), await newProject()];
    const input = (pid: string): IngestBatch[] => [lines(pid, quiet(300)), lines(pid, [...quiet(100, T0 + 300_000), ...burst(40)]), records(pid, 1000), lines(pid, quiet(50), randomUUID(), 'other')];
    const t = threaded();
    expect(t.pipeline.threadId).toBeGreaterThan(0);
    await t.pipeline.ready;
    for (const x of input(a)) await t.queue.publish(x);
    await t.stop();
    const queue = new MemoryQueue(1_000_000);
    const p = new Pipeline({ store, now: Date.now, newId: randomUUID, ...OPTS });
    p.start(queue);
    for (const x of input(b)) await queue.publish(x);
    queue.close();
    await p.stop();
    expect((await templates(a)).length).toBeGreaterThan(3);
    expect(await templates(a)).toEqual(await templates(b));
    expect((await incidents(a)).length).toBeGreaterThan(0);
    expect(await incidents(a)).toEqual(await incidents(b));
    // the checkpoint the thread stored at stop is the state a restart continues from
    // (it crossed as JSON text: it reads back as the in-process pipeline's does)
    const [state, ref] = [await store.projectState(a), await store.projectState(b)];
    expect(state.detectors).toBeDefined();
    expect(Object.keys(state.detectors as object)).toEqual(Object.keys(ref.detectors as object));
    expect([...state.sources.keys()].sort()).toEqual([...ref.sources.keys()].sort());
    expect(JSON.stringify((state.sources.get('app') as { miner: unknown }).miner)).toBe(JSON.stringify((ref.sources.get('app') as { miner: unknown }).miner));
  });

  it('answers a publish only once its batch is stored, and relays the observer hooks in order (events, stored, then the ack)', async () => {
    const pid = await newProject();
    const seen: string[] = [];
    const events: IncidentEvent[] = [];
    let processed = 0;
    const observer: PipelineObserver = {
      processed: (n) => { processed += n; },
      incidentEvent: (e) => { events.push(e); seen.push(`event:${e.kind}`); },
      incidentsStored: (changes) => seen.push(`stored:${changes.length}`),
      flushed: () => seen.push('flushed'),
    };
    const t = threaded({ observer, flushIntervalMs: 60_000 });
    let done = false;
    const sent = lines(pid, [...quiet(200), ...burst(30)]);
    const published = t.queue.publish(sent).then(() => {
      done = true;
      seen.push('acked');
    });
    await until(() => processed === 230);
    // processed in the thread, not stored: no reply yet, the queue still holds its records
    expect(done).toBe(false);
    expect(t.queue.stats().pendingRecords).toBe(230);
    // handed over: this thread no longer holds the records while the request waits
    expect(sent.records).toHaveLength(0);
    await t.pipeline.flush();
    await published;
    expect(await templates(pid)).not.toHaveLength(0);
    expect(processed).toBe(230);
    expect(events.some((e) => e.kind === 'created')).toBe(true);
    const firstStored = seen.findIndex((s) => s.startsWith('stored:'));
    expect(firstStored).toBeGreaterThan(seen.lastIndexOf('event:created'));
    expect(seen.indexOf('acked')).toBeGreaterThan(firstStored);
    expect(t.queue.stats().pendingRecords).toBe(0);
    await t.stop();
  });

  it('back-pressure still counts the records held by the thread until they are stored', async () => {
    const pid = await newProject();
    let processed = 0;
    const t = threaded({ flushIntervalMs: 60_000, observer: { processed: (n) => { processed += n; } } }, 1_500);
    const first = t.queue.publish(lines(pid, quiet(1000)));
    await until(() => processed === 1000);
    await expect(t.queue.publish(lines(pid, quiet(1000)))).rejects.toMatchObject({ code: 'VIGIL_INGEST_QUEUE_FULL' });
    await t.pipeline.flush();
    await first;
    // stored: room again
    const third = t.queue.publish(lines(pid, quiet(1000)));
    await until(() => processed === 2000);
    await t.pipeline.flush();
    await third;
    await t.stop();
  });

  it('counts a batch sent twice under one client key once, and applies a status change in the thread', async () => {
    const pid = await newProject();
    const t = threaded();
    const b = lines(pid, [...quiet(100), ...burst(30)], 'key:same');
    await Promise.all([t.queue.publish(b), t.queue.publish({ ...b })]);
    await t.queue.publish({ ...b });
    expect((await templates(pid)).reduce((n, [, c]) => n + c, 0)).toBe(130);
    const [incident] = await store.listIncidents(pid, { limit: 1 });
    expect(incident).toBeDefined();
    const closed = await t.pipeline.setIncidentStatus(pid, incident!.id, 'closed');
    expect(closed?.status).toBe('closed');
    expect((await store.getIncident(pid, incident!.id))?.status).toBe('closed');
    expect(await t.pipeline.setIncidentStatus(pid, randomUUID(), 'closed')).toBeUndefined();
    await t.stop();
  });

  it('a thread that dies is noticed: unstored batches fail, later ones fail at once, health turns bad, onDeath is called once', async () => {
    const pid = await newProject();
    const deaths: Error[] = [];
    const logged: string[] = [];
    let processed = 0;
    const t = threaded({ flushIntervalMs: 60_000, onDeath: (err) => deaths.push(err), log: { warn: () => {}, error: (_o, m) => logged.push(m) }, observer: { processed: (n) => { processed += n; } } });
    const waiting = t.queue.publish(lines(pid, quiet(100)));
    await until(() => processed === 100);
    expect(t.pipeline.healthy).toBe(true);
    // a message the thread does not understand makes it throw: as any crash would
    t.pipeline.postRaw({ t: 'nonsense' });
    await expect(waiting).rejects.toBeInstanceOf(PipelineThreadDiedError);
    expect(t.pipeline.healthy).toBe(false);
    expect(t.pipeline.stats().thread).toBe('dead');
    expect(deaths).toHaveLength(1);
    expect(deaths[0]!.message).toMatch(/nonsense/);
    expect(logged.join('\n')).toMatch(/pipeline thread died/);
    expect(t.queue.stats().pendingRecords).toBe(0);
    await expect(t.queue.publish(lines(pid, quiet(5)))).rejects.toMatchObject({ code: 'VIGIL_PIPELINE_THREAD_DIED' });
    await expect(t.pipeline.setIncidentStatus(pid, randomUUID(), 'closed')).rejects.toBeInstanceOf(PipelineThreadDiedError);
    await expect(t.pipeline.stop()).rejects.toBeInstanceOf(PipelineThreadDiedError);
    expect(deaths).toHaveLength(1);
  });

  it('a thread that exits (terminated, out of memory) is a death too; a closed queue is still a 503 of its own', async () => {
    const pid = await newProject();
    const deaths: Error[] = [];
    let processed = 0;
    const t = threaded({ flushIntervalMs: 60_000, onDeath: (err) => deaths.push(err), observer: { processed: (n) => { processed += n; } } });
    const waiting = t.queue.publish(lines(pid, quiet(100)));
    await until(() => processed === 100);
    await t.pipeline.terminate();
    await expect(waiting).rejects.toBeInstanceOf(PipelineThreadDiedError);
    expect(deaths.map((d) => d.message)).toEqual([expect.stringMatching(/exited/)]);
    t.queue.close();
    await expect(t.queue.publish(lines(pid, quiet(1)))).rejects.toBeInstanceOf(QueueError);
  });
});
