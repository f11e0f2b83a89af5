/**
 * The store contract: the same tests against the embedded database (PGlite in a temporary folder)
 * and a real PostgreSQL server (in a fresh schema, dropped afterwards). PostgreSQL is skipped with
 * a message when it cannot be reached, unless VIGIL_REQUIRE_SERVICES=1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../src/core/incidents/incident.js';
import type { IncidentChange } from '../src/core/incidents/tracker.js';
import { migrate, MIGRATIONS, SchemaError } from '../src/adapters/store/migrations.js';
import { PgliteDatabase } from '../src/adapters/store/pglite.js';
import { PostgresDatabase } from '../src/adapters/store/postgres.js';
import type { SqlDatabase } from '../src/adapters/store/sql.js';
import { FlushConflictError, StoreError, VigilStore, type FlushWrites } from '../src/adapters/store/vigil-store.js';
import { postgresProblem, TEST_DATABASE_URL } from './services.js';

const PG_URL = TEST_DATABASE_URL;
const REQUIRE = process.env.VIGIL_REQUIRE_SERVICES === '1';

const pgProblem = await postgresProblem(PG_URL);
if (pgProblem && REQUIRE) throw new Error(`PostgreSQL at ${PG_URL} is required (VIGIL_REQUIRE_SERVICES=1) but unreachable: ${pgProblem}`);
if (pgProblem) console.warn(`store contract: skipping PostgreSQL (${PG_URL} unreachable: ${pgProblem}); set VIGIL_REQUIRE_SERVICES=1 to make this a failure`);

interface Backend {
  name: string;
  skip: boolean;
  open(): Promise<SqlDatabase>;
  cleanup(): Promise<void>;
}

function pgliteBackend(): Backend {
  let dir: string | undefined;
  return {
    name: 'PGlite (embedded)',
    skip: false,
    async open() {
      dir = mkdtempSync(join(tmpdir(), 'vigil-store-'));
      return PgliteDatabase.open(join(dir, 'pglite'));
    },
    async cleanup() {
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresBackend(): Backend {
  const schema = `vigil_test_${randomBytes(6).toString('hex')}`;
  return {
    name: 'PostgreSQL',
    skip: pgProblem !== undefined,
    async open() {
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`create schema ${schema}`);
      await admin.end();
      return PostgresDatabase.open(PG_URL, { schema, maxConnections: 4 });
    },
    async cleanup() {
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`drop schema if exists ${schema} cascade`);
      await admin.end();
    },
  };
}

const T0 = Date.UTC(2026, 0, 15, 10, 0, 0);

function incident(projectId: string, over: Partial<Incident> = {}): Incident {
  return {
    id: randomUUID(), projectId, source: 'default', signature: `sig-${randomBytes(4).toString('hex')}`, title: 'connection refused to <*>', severity: 'high', status: 'open',
    occurrences: 1, bursts: 1, firstSeenMs: T0, lastSeenMs: T0, samples: [{ timeMs: T0, message: 'connection refused to 10.0.0.5:5432', reason: 'r', score: 0.8, detectors: ['severity'] }],
    milestones: [{ occurrences: 1, atMs: T0 }], createdAtMs: T0, updatedAtMs: T0, ...over,
  };
}

const change = (i: Incident, delta = i.occurrences, isNew = true): IncidentChange => ({ incident: i, occurrencesDelta: delta, isNew });
const emptyFlush = (): FlushWrites => ({ batches: [], templates: [], volume: [], incidents: [], minerStates: [] });

for (const backend of [pgliteBackend(), postgresBackend()]) {
  describe.skipIf(backend.skip)(`store contract on ${backend.name}`, () => {
    let db: SqlDatabase;
    let store: VigilStore;
    let firstApplied: number[] = [];
    let n = 0;
    const newProject = async (): Promise<string> => {
      const p = await store.createProject({ name: `project-${++n}-${randomBytes(3).toString('hex')}`, passwordHash: 'scrypt$x', notifications: {} }, { hash: randomBytes(32).toString('hex'), prefix: 'vgl_abcd' });
      return p.id;
    };

    beforeAll(async () => {
      db = await backend.open();
      firstApplied = await migrate(db);
      store = new VigilStore(db);
    });

    afterAll(async () => {
      await db?.close();
      await backend.cleanup();
    });

    it('applies the migrations once, records them, and refuses a schema newer than it knows', async () => {
      expect(firstApplied).toEqual(MIGRATIONS.map((m) => m.version));
      expect(await migrate(db)).toEqual([]);
      const rows = (await db.query<{ version: number; name: string }>('select version, name from schema_migrations order by version')).rows;
      expect(rows.map((r) => Number(r.version))).toEqual(MIGRATIONS.map((m) => m.version));
      await db.query("insert into schema_migrations (version, name) values (9999, 'from the future')");
      await expect(migrate(db)).rejects.toBeInstanceOf(SchemaError);
      await db.query('delete from schema_migrations where version = 9999');
    });

    it('creates projects with unique names and keeps notification settings as JSON', async () => {
      const p = await store.createProject({ name: 'shop', passwordHash: 'scrypt$16384$8$1$s$h', notifications: { email: 'oncall@example.com', discord: { dev: 'https://discord.example/hook' } } }, { hash: 'a'.repeat(64), prefix: 'vgl_aaaa' });
      expect(p).toMatchObject({ name: 'shop', notifications: { email: 'oncall@example.com', discord: { dev: 'https://discord.example/hook' } } });
      expect(p.createdAt).toBeInstanceOf(Date);
      const again = store.createProject({ name: 'shop', passwordHash: 'x', notifications: {} }, { hash: 'b'.repeat(64), prefix: 'vgl_bbbb' });
      await expect(again).rejects.toMatchObject({ code: 'VIGIL_AUTH_NAME_TAKEN' });
      await expect(again).rejects.toBeInstanceOf(StoreError);
      // the failed registration left no key behind
      expect(await store.apiKeyByHash('b'.repeat(64))).toBeUndefined();
      expect((await store.projectByName('shop'))!.passwordHash).toBe('scrypt$16384$8$1$s$h');
      expect(await store.projectById(p.id)).toMatchObject({ id: p.id, name: 'shop' });
      expect(await store.projectById('not-a-uuid')).toBeUndefined();
    });

    it('finds active keys by hash and revokes the old key on rotation', async () => {
      const p = await store.createProject({ name: 'keys', passwordHash: 'x', notifications: {} }, { hash: 'c'.repeat(64), prefix: 'vgl_cccc' });
      expect(await store.apiKeyByHash('c'.repeat(64))).toMatchObject({ projectId: p.id, prefix: 'vgl_cccc', revokedAt: null });
      const { key, revoked } = await store.rotateApiKey(p.id, { hash: 'd'.repeat(64), prefix: 'vgl_dddd' });
      expect(revoked).toBe(1);
      expect(key).toMatchObject({ projectId: p.id, prefix: 'vgl_dddd' });
      expect(await store.apiKeyByHash('c'.repeat(64))).toBeUndefined();
      expect(await store.apiKeyByHash('d'.repeat(64))).toMatchObject({ projectId: p.id });
    });

    it('adds template counts and volume across flushes, and records the batches it covered', async () => {
      const pid = await newProject();
      const w1 = emptyFlush();
      w1.batches.push({ projectId: pid, batchId: 'b-1', records: 3 });
      w1.templates.push({ projectId: pid, source: 'api', templateId: 't1', template: 'GET <*> 200', countDelta: 3, firstSeenMs: T0 + 1000, lastSeenMs: T0 + 2000 });
      w1.volume.push({ projectId: pid, minuteMs: T0, records: 3, anomalies: 1, errors: 1 });
      await store.flush(w1);
      const w2 = emptyFlush();
      w2.batches.push({ projectId: pid, batchId: 'b-2', records: 2 });
      w2.templates.push({ projectId: pid, source: 'api', templateId: 't1', template: 'GET <*> <*>', countDelta: 2, firstSeenMs: T0, lastSeenMs: T0 + 1500 });
      w2.templates.push({ projectId: pid, source: 'worker', templateId: 't2', template: 'job <*> done', countDelta: 1, firstSeenMs: T0, lastSeenMs: T0 });
      w2.volume.push({ projectId: pid, minuteMs: T0, records: 2, anomalies: 0, errors: 1 }, { projectId: pid, minuteMs: T0 + 60_000, records: 5, anomalies: 0, errors: 0 });
      await store.flush(w2);

      const all = await store.listTemplates(pid, { limit: 10 });
      expect(all.map((t) => [t.source, t.templateId, t.template, t.count])).toEqual([['api', 't1', 'GET <*> <*>', 5], ['worker', 't2', 'job <*> done', 1]]);
      expect(all[0]!.firstSeen.getTime()).toBe(T0);
      expect(all[0]!.lastSeen.getTime()).toBe(T0 + 2000);
      expect((await store.listTemplates(pid, { source: 'worker', limit: 10 })).map((t) => t.templateId)).toEqual(['t2']);
      expect(await store.listTemplates(pid, { limit: 1 })).toHaveLength(1);

      const vol = await store.volume(pid, T0, T0 + 120_000);
      expect(vol.map((v) => [v.minute.getTime(), v.records, v.anomalies, v.errors])).toEqual([[T0, 5, 1, 2], [T0 + 60_000, 5, 0, 0]]);
      expect(await store.volume(pid, T0 + 60_000, T0 + 120_000)).toHaveLength(1);

      expect(await store.isBatchProcessed(pid, 'b-1')).toBe(true);
      expect(await store.isBatchProcessed(pid, 'b-2')).toBe(true);
      expect(await store.isBatchProcessed(pid, 'b-3')).toBe(false);
      // a batch id is per project
      expect(await store.isBatchProcessed(await newProject(), 'b-1')).toBe(false);
    });

    it('writes nothing of a flush that fails part-way', async () => {
      const pid = await newProject();
      const w = emptyFlush();
      w.batches.push({ projectId: pid, batchId: 'doomed', records: 1 });
      w.templates.push({ projectId: pid, source: 'api', templateId: 't1', template: 'x', countDelta: 1, firstSeenMs: T0, lastSeenMs: T0 });
      w.incidents.push(change(incident(pid, { severity: 'apocalyptic' as never })));
      await expect(store.flush(w)).rejects.toThrow();
      expect(await store.isBatchProcessed(pid, 'doomed')).toBe(false);
      expect(await store.listTemplates(pid, { limit: 10 })).toEqual([]);
    });

    it('upserts incidents by signature, adding occurrence deltas and keeping the newest state', async () => {
      const pid = await newProject();
      const i = incident(pid, { occurrences: 3 });
      await store.flush({ ...emptyFlush(), incidents: [change(i, 3)] });
      const later = { ...i, occurrences: 5, status: 'closed' as const, severity: 'critical' as const, lastSeenMs: T0 + 9000, updatedAtMs: T0 + 9000, samples: [...i.samples, { ...i.samples[0]!, timeMs: T0 + 9000 }], milestones: [...i.milestones, { occurrences: 5, atMs: T0 + 9000 }] };
      await store.flush({ ...emptyFlush(), incidents: [change(later, 2, false)] });
      const got = (await store.getIncident(pid, i.id))!;
      expect(got).toMatchObject({ id: i.id, occurrences: 5, status: 'closed', severity: 'critical', firstSeenMs: T0, lastSeenMs: T0 + 9000 });
      expect(got.samples).toHaveLength(2);
      expect(got.milestones).toEqual([{ occurrences: 1, atMs: T0 }, { occurrences: 5, atMs: T0 + 9000 }]);
      expect((await store.incidentsOfSource(pid, 'default')).map((x) => x.id)).toEqual([i.id]);
      expect(await store.incidentsOfSource(pid, 'other')).toEqual([]);
    });

    it('never shows or changes another project’s incident', async () => {
      const a = await newProject();
      const b = await newProject();
      const i = incident(a);
      await store.flush({ ...emptyFlush(), incidents: [change(i)] });
      expect(await store.getIncident(b, i.id)).toBeUndefined();
      expect(await store.setIncidentStatus(b, i.id, 'closed', T0)).toBeUndefined();
      expect(await store.listIncidents(b, { limit: 10 })).toEqual([]);
      expect((await store.getIncident(a, i.id))!.status).toBe('open');
      expect(await store.getIncident(a, 'nope')).toBeUndefined();
      const closed = await store.setIncidentStatus(a, i.id, 'closed', T0 + 5000);
      expect(closed).toMatchObject({ status: 'closed', updatedAtMs: T0 + 5000 });
    });

    it('filters incidents by status, severity and title words, with % and _ taken literally', async () => {
      const pid = await newProject();
      const rows = [
        incident(pid, { title: 'disk 100% full on <*>', severity: 'critical', lastSeenMs: T0 + 1 }),
        incident(pid, { title: 'Connection refused to <*>', severity: 'high', lastSeenMs: T0 + 2, status: 'closed' }),
        incident(pid, { title: 'user_id missing in <*>', severity: 'medium', lastSeenMs: T0 + 3, status: 'ignored' }),
        incident(pid, { title: 'userXid missing', severity: 'medium', lastSeenMs: T0 + 4 }),
      ];
      await store.flush({ ...emptyFlush(), incidents: rows.map((r) => change(r)) });
      const titles = async (f: Parameters<VigilStore['listIncidents']>[1]): Promise<string[]> => (await store.listIncidents(pid, f)).map((i) => i.title);
      expect(await titles({ limit: 10 })).toEqual(['userXid missing', 'user_id missing in <*>', 'Connection refused to <*>', 'disk 100% full on <*>']);
      expect(await titles({ limit: 10, status: 'open' })).toEqual(['userXid missing', 'disk 100% full on <*>']);
      expect(await titles({ limit: 10, severity: 'medium' })).toEqual(['userXid missing', 'user_id missing in <*>']);
      expect(await titles({ limit: 10, q: 'connection' })).toEqual(['Connection refused to <*>']);
      expect(await titles({ limit: 10, q: '100%' })).toEqual(['disk 100% full on <*>']);
      expect(await titles({ limit: 10, q: 'user_id' })).toEqual(['user_id missing in <*>']);
      expect(await store.incidentCountsByStatus()).toMatchObject({ open: expect.any(Number), closed: expect.any(Number), ignored: expect.any(Number) });
    });

    it('pages incidents with a keyset cursor: every row once, in order, even when last-seen times tie', async () => {
      const pid = await newProject();
      const rows = Array.from({ length: 7 }, (_, k) => incident(pid, { lastSeenMs: T0 + (k < 4 ? 1000 : k * 1000) }));
      await store.flush({ ...emptyFlush(), incidents: rows.map((r) => change(r)) });
      const seen: string[] = [];
      let after: { lastSeenMs: number; id: string } | undefined;
      for (let page = 0; page < 10; page++) {
        const got = await store.listIncidents(pid, { limit: 3, ...(after ? { after } : {}) });
        seen.push(...got.map((i) => i.id));
        if (got.length < 3) break;
        const last = got[got.length - 1]!;
        after = { lastSeenMs: last.lastSeenMs, id: last.id };
      }
      const expected = [...rows].sort((x, y) => y.lastSeenMs - x.lastSeenMs || (x.id < y.id ? 1 : -1)).map((r) => r.id);
      expect(seen).toEqual(expected);
    });

    it('keeps a miner snapshot per project and source', async () => {
      const pid = await newProject();
      expect(await store.minerState(pid, 'api')).toBeUndefined();
      await store.flush({ ...emptyFlush(), minerStates: [{ projectId: pid, source: 'api', snapshot: { format: 'vigil.source', version: 1, n: 1 }, atMs: T0 }] });
      await store.flush({ ...emptyFlush(), minerStates: [{ projectId: pid, source: 'api', snapshot: { format: 'vigil.source', version: 1, n: 2 }, atMs: T0 + 1 }] });
      expect(await store.minerState(pid, 'api')).toEqual({ format: 'vigil.source', version: 1, n: 2 });
      expect(await store.minerState(pid, 'web')).toBeUndefined();
    });

    it('refuses a flush that would count a batch again, writing nothing of it', async () => {
      const pid = await newProject();
      await store.flush({ ...emptyFlush(), batches: [{ projectId: pid, batchId: 'b1', records: 2, entryId: '1700000000000-0' }] });
      expect(await store.processedBatch(pid, 'b1')).toEqual({ entryId: '1700000000000-0' });
      expect(await store.processedBatch(pid, 'nope')).toBeUndefined();
      const w = emptyFlush();
      w.batches.push({ projectId: pid, batchId: 'b2', records: 1 }, { projectId: pid, batchId: 'b1', records: 2 });
      w.templates.push({ projectId: pid, source: 'api', templateId: 't1', template: 'x', countDelta: 3, firstSeenMs: T0, lastSeenMs: T0 });
      await expect(store.flush(w)).rejects.toBeInstanceOf(FlushConflictError);
      await expect(store.flush(w)).rejects.toMatchObject({ code: 'VIGIL_STORE_CONFLICT' });
      expect(await store.isBatchProcessed(pid, 'b2')).toBe(false);
      expect(await store.listTemplates(pid, { limit: 10 })).toEqual([]);
      expect(await store.processedBatch(pid, 'b1')).toEqual({ entryId: '1700000000000-0' });
    });

    it('keeps a project\'s checkpoint with its source snapshots, and never moves it back', async () => {
      const pid = await newProject();
      expect(await store.projectState(pid)).toEqual({ detectors: undefined, coveredThrough: undefined, sources: new Map() });
      const detectors = { format: 'vigil.detectors', big: 'x'.repeat(100_000), odd: 'nul \u0000 and \ud800' };
      await store.flush({ ...emptyFlush(), minerStates: [{ projectId: pid, source: 'api', snapshot: { n: 1 }, atMs: T0 }], checkpoints: [{ projectId: pid, detectors, coveredThrough: '1700000000000-5', atMs: T0 }] });
      expect(await store.projectState(pid)).toEqual({ detectors, coveredThrough: '1700000000000-5', sources: new Map([['api', { n: 1 }]]) });
      // later: fine; the same position: fine (the same state)
      await store.flush({ ...emptyFlush(), checkpoints: [{ projectId: pid, detectors: { v: 2 }, coveredThrough: '1700000000001-0', atMs: T0 }] });
      await store.flush({ ...emptyFlush(), checkpoints: [{ projectId: pid, detectors: { v: 2 }, coveredThrough: '1700000000001-0', atMs: T0 }] });
      // older: refused, with everything else in the flush
      const stale: FlushWrites = { ...emptyFlush(), minerStates: [{ projectId: pid, source: 'api', snapshot: { n: 0 }, atMs: T0 }], checkpoints: [{ projectId: pid, detectors: { v: 1 }, coveredThrough: '1700000000000-9', atMs: T0 }] };
      await expect(store.flush(stale)).rejects.toBeInstanceOf(FlushConflictError);
      expect(await store.projectState(pid)).toEqual({ detectors: { v: 2 }, coveredThrough: '1700000000001-0', sources: new Map([['api', { n: 1 }]]) });
      // without positions (the in-process queue) a checkpoint always replaces the last
      const embedded = await newProject();
      await store.flush({ ...emptyFlush(), checkpoints: [{ projectId: embedded, detectors: { v: 1 }, atMs: T0 }] });
      await store.flush({ ...emptyFlush(), checkpoints: [{ projectId: embedded, detectors: { v: 2 }, atMs: T0 }] });
      expect((await store.projectState(embedded)).detectors).toEqual({ v: 2 });
    });

    it('forgets processed batch ids older than asked', async () => {
      const pid = await newProject();
      await store.flush({ ...emptyFlush(), batches: [{ projectId: pid, batchId: 'old', records: 1 }] });
      await db.query("update processed_batches set processed_at = now() - interval '10 days' where batch_id = 'old'");
      const removed = await store.pruneProcessedBatches(Date.now() - 7 * 86_400_000);
      expect(removed).toBeGreaterThanOrEqual(1);
      expect(await store.isBatchProcessed(pid, 'old')).toBe(false);
    });

    it('rolls a transaction back when its function throws, and commits it when it returns', async () => {
      await db.exec('create table if not exists tx_probe (v integer)');
      await expect(db.transaction(async (tx) => {
        await tx.query('insert into tx_probe values (1)');
        await tx.transaction(async (inner) => inner.query('insert into tx_probe values (2)'));
        throw new Error('boom');
      })).rejects.toThrow('boom');
      expect((await db.query('select * from tx_probe')).rows).toEqual([]);
      await db.transaction(async (tx) => tx.query('insert into tx_probe values (3)'));
      expect((await db.query<{ v: number }>('select v from tx_probe')).rows.map((r) => r.v)).toEqual([3]);
      const r = await db.query('update tx_probe set v = 4');
      expect(r.rowCount).toBe(1);
    });
  });
}
