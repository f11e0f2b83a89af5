/**
 * Every query Vigil runs, over the one SQL interface (so PGlite and PostgreSQL run the same SQL).
 * Every read and every change of project data takes the project id: a caller can only reach its
 * own project's rows.
 *
 * Writes from the pipeline come in one `flush` per batch of work: counts are added (deltas, so
 * several writers add up), the rest is the newest state, and the batches it covers are recorded in
 * `processed_batches` in the same transaction.
 *
 * A flush is fenced, so two workers that both believe they own a project (a lease lost during a
 * long pause) can never count a batch twice or move a checkpoint back: a batch already recorded,
 * or a checkpoint older than the stored one, rolls the whole flush back (FlushConflictError).
 */
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip } from 'node:zlib';
import type { Severity } from '../../core/detect/detector.js';
import type { Incident, IncidentSample, IncidentStatus, Milestone } from '../../core/incidents/incident.js';
import type { IncidentChange } from '../../core/incidents/tracker.js';
import { sqlState, UNIQUE_VIOLATION, type SqlClient, type SqlDatabase } from './sql.js';

export class StoreError extends Error {
  constructor(readonly code: string, message: string) {
    super(message);
  }
}

/** A flush that would count a batch twice or move a checkpoint back: nothing of it was written. */
export class FlushConflictError extends StoreError {
  constructor(message: string) {
    super('VIGIL_STORE_CONFLICT', message);
  }
}

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

export interface Project {
  id: string;
  name: string;
  notifications: Record<string, unknown>;
  createdAt: Date;
}

export interface ProjectWithSecret extends Project {
  passwordHash: string;
}

export interface ApiKey {
  id: string;
  projectId: string;
  prefix: string;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface TemplateRow {
  source: string;
  templateId: string;
  template: string;
  count: number;
  firstSeen: Date;
  lastSeen: Date;
}

export interface VolumeRow {
  minute: Date;
  records: number;
  anomalies: number;
  errors: number;
}

export interface IncidentFilter {
  status?: IncidentStatus;
  severity?: Severity;
  /** Words in the title (case-insensitive, literal). */
  q?: string;
  limit: number;
  /** Keyset cursor: rows strictly after this one in (last_seen desc, id desc) order. */
  after?: { lastSeenMs: number; id: string };
}

export interface TemplateDelta {
  projectId: string;
  source: string;
  templateId: string;
  template: string;
  countDelta: number;
  firstSeenMs: number;
  lastSeenMs: number;
}

export interface VolumeDelta {
  projectId: string;
  minuteMs: number;
  records: number;
  anomalies: number;
  errors: number;
}

export interface MinerStateWrite {
  projectId: string;
  source: string;
  snapshot: unknown;
  /** The snapshot as JSON already (the pipeline thread serialises it: a string crosses threads faster than the objects). */
  snapshotJson?: string;
  atMs: number;
}

/** A project's detector state, and the stream position it (and its source snapshots) include. */
export interface CheckpointWrite {
  projectId: string;
  /** A DetectorSnapshot (JSON-serialisable); stored gzipped. */
  detectors: unknown;
  /** The same as JSON already (see MinerStateWrite.snapshotJson); used instead of `detectors` when present. */
  detectorsJson?: string;
  /** Redis entry id (`ms-seq`) of the last entry included; absent for the in-process queue. */
  coveredThrough?: string | undefined;
  atMs: number;
}

export interface ProjectStateRead {
  /** The DetectorSnapshot; undefined when none was stored. */
  detectors: unknown;
  /** The stream position the detector state and the source snapshots include. */
  coveredThrough: string | undefined;
  /** Source snapshots by source name. */
  sources: Map<string, unknown>;
}

/** One flush: everything a batch of work changed, written in one transaction. */
export interface FlushWrites {
  /** `entryId`: the stream entry that carried the batch (fleet). */
  batches: { projectId: string; batchId: string; records: number; entryId?: string | undefined }[];
  templates: TemplateDelta[];
  volume: VolumeDelta[];
  incidents: IncidentChange[];
  minerStates: MinerStateWrite[];
  checkpoints?: CheckpointWrite[];
}

/** A Redis stream entry id (`ms-seq`) as two numbers. */
export function parsePosition(id: string): [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(id);
  if (!m) throw new RangeError(`not a stream position: ${id}`);
  return [Number(m[1]), Number(m[2])];
}

const iso = (ms: number): string => new Date(ms).toISOString();
const ms = (d: unknown): number => (d instanceof Date ? d.getTime() : new Date(String(d)).getTime());
const json = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);

interface IncidentRowDb {
  id: string;
  project_id: string;
  source: string;
  signature: string;
  title: string;
  severity: Severity;
  status: IncidentStatus;
  occurrences: number | string;
  bursts: number;
  first_seen: Date;
  last_seen: Date;
  samples: unknown;
  milestones: unknown;
  created_at: Date;
  updated_at: Date;
}

const INCIDENT_COLUMNS = 'id, project_id, source, signature, title, severity, status, occurrences, bursts, first_seen, last_seen, samples, milestones, created_at, updated_at';

function toIncident(r: IncidentRowDb): Incident {
  return {
    id: r.id,
    projectId: r.project_id,
    source: r.source,
    signature: r.signature,
    title: r.title,
    severity: r.severity,
    status: r.status,
    occurrences: Number(r.occurrences),
    bursts: Number(r.bursts),
    firstSeenMs: ms(r.first_seen),
    lastSeenMs: ms(r.last_seen),
    samples: json(r.samples) as IncidentSample[],
    milestones: json(r.milestones) as Milestone[],
    createdAtMs: ms(r.created_at),
    updatedAtMs: ms(r.updated_at),
  };
}

interface ProjectRowDb {
  id: string;
  name: string;
  password_hash: string;
  notifications: unknown;
  created_at: Date;
}

const toProject = (r: ProjectRowDb): Project => ({ id: r.id, name: r.name, notifications: json(r.notifications) as Record<string, unknown>, createdAt: r.created_at });

/** `%`, `_` and `\` are literal in a search. */
const likePattern = (q: string): string => `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string): boolean => UUID.test(s);

export class VigilStore {
  constructor(readonly db: SqlDatabase) {}

  get kind(): SqlDatabase['kind'] {
    return this.db.kind;
  }

  async ping(): Promise<void> {
    await this.db.query('select 1');
  }

  close(): Promise<void> {
    return this.db.close();
  }

  // ── projects and keys ────────────────────────────────────────────────────────────────────────

  /** Creates a project with its first API key, in one transaction. Duplicate names: VIGIL_AUTH_NAME_TAKEN. */
  async createProject(p: { name: string; passwordHash: string; notifications: Record<string, unknown> }, key: { hash: string; prefix: string }): Promise<Project> {
    try {
      return await this.db.transaction(async (tx) => {
        const r = await tx.query<ProjectRowDb>(
          'insert into projects (id, name, password_hash, notifications) values ($1, $2, $3, $4::jsonb) returning id, name, password_hash, notifications, created_at',
          [randomUUID(), p.name, p.passwordHash, JSON.stringify(p.notifications)],
        );
        const project = toProject(r.rows[0]!);
        await this.insertKey(tx, project.id, key);
        return project;
      });
    } catch (err) {
      if (sqlState(err) === UNIQUE_VIOLATION) throw new StoreError('VIGIL_AUTH_NAME_TAKEN', `a project named "${p.name}" already exists`);
      throw err;
    }
  }

  async projectByName(name: string): Promise<ProjectWithSecret | undefined> {
    const r = await this.db.query<ProjectRowDb>('select id, name, password_hash, notifications, created_at from projects where name = $1', [name]);
    const row = r.rows[0];
    return row ? { ...toProject(row), passwordHash: row.password_hash } : undefined;
  }

  async projectById(id: string): Promise<Project | undefined> {
    if (!isUuid(id)) return undefined;
    const r = await this.db.query<ProjectRowDb>('select id, name, password_hash, notifications, created_at from projects where id = $1', [id]);
    return r.rows[0] ? toProject(r.rows[0]) : undefined;
  }

  /** The active (not revoked) key with this hash. */
  async apiKeyByHash(hash: string): Promise<ApiKey | undefined> {
    const r = await this.db.query<{ id: string; project_id: string; prefix: string; created_at: Date; revoked_at: Date | null }>(
      'select id, project_id, prefix, created_at, revoked_at from api_keys where hash = $1 and revoked_at is null',
      [hash],
    );
    const row = r.rows[0];
    return row ? { id: row.id, projectId: row.project_id, prefix: row.prefix, createdAt: row.created_at, revokedAt: row.revoked_at } : undefined;
  }

  /** Revokes the project's active keys and adds a new one, in one transaction. */
  async rotateApiKey(projectId: string, key: { hash: string; prefix: string }): Promise<{ key: ApiKey; revoked: number }> {
    return this.db.transaction(async (tx) => {
      const revoked = await tx.query('update api_keys set revoked_at = now() where project_id = $1 and revoked_at is null', [projectId]);
      const created = await this.insertKey(tx, projectId, key);
      return { key: created, revoked: revoked.rowCount };
    });
  }

  private async insertKey(tx: SqlClient, projectId: string, key: { hash: string; prefix: string }): Promise<ApiKey> {
    const r = await tx.query<{ id: string; created_at: Date }>('insert into api_keys (id, project_id, hash, prefix) values ($1, $2, $3, $4) returning id, created_at', [randomUUID(), projectId, key.hash, key.prefix]);
    return { id: r.rows[0]!.id, projectId, prefix: key.prefix, createdAt: r.rows[0]!.created_at, revokedAt: null };
  }

  // ── incidents ────────────────────────────────────────────────────────────────────────────────

  async listIncidents(projectId: string, f: IncidentFilter): Promise<Incident[]> {
    const where = ['project_id = $1'];
    const params: unknown[] = [projectId];
    const add = (clause: (n: string) => string, value: unknown): void => {
      params.push(value);
      where.push(clause(`$${params.length}`));
    };
    if (f.status) add((n) => `status = ${n}`, f.status);
    if (f.severity) add((n) => `severity = ${n}`, f.severity);
    if (f.q) add((n) => `title ilike ${n} escape '\\'`, likePattern(f.q));
    if (f.after) {
      params.push(iso(f.after.lastSeenMs), f.after.id);
      where.push(`(last_seen, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
    }
    params.push(f.limit);
    const r = await this.db.query<IncidentRowDb>(`select ${INCIDENT_COLUMNS} from incidents where ${where.join(' and ')} order by last_seen desc, id desc limit $${params.length}`, params);
    return r.rows.map(toIncident);
  }

  async getIncident(projectId: string, id: string): Promise<Incident | undefined> {
    if (!isUuid(id)) return undefined;
    const r = await this.db.query<IncidentRowDb>(`select ${INCIDENT_COLUMNS} from incidents where project_id = $1 and id = $2`, [projectId, id]);
    return r.rows[0] ? toIncident(r.rows[0]) : undefined;
  }

  /** Sets an incident's status; undefined when the project has no such incident. */
  async setIncidentStatus(projectId: string, id: string, status: IncidentStatus, atMs: number): Promise<Incident | undefined> {
    if (!isUuid(id)) return undefined;
    const r = await this.db.query<IncidentRowDb>(
      `update incidents set status = $3, updated_at = case when status = $3 then updated_at else $4::timestamptz end where project_id = $1 and id = $2 returning ${INCIDENT_COLUMNS}`,
      [projectId, id, status, iso(atMs)],
    );
    return r.rows[0] ? toIncident(r.rows[0]) : undefined;
  }

  async incidentsOfSource(projectId: string, source: string): Promise<Incident[]> {
    const r = await this.db.query<IncidentRowDb>(`select ${INCIDENT_COLUMNS} from incidents where project_id = $1 and source = $2`, [projectId, source]);
    return r.rows.map(toIncident);
  }

  /** Incidents per status over all projects (for metrics). */
  async incidentCountsByStatus(): Promise<Record<IncidentStatus, number>> {
    const r = await this.db.query<{ status: IncidentStatus; n: number | string }>('select status, count(*)::bigint as n from incidents group by status');
    const out: Record<IncidentStatus, number> = { open: 0, closed: 0, ignored: 0 };
    for (const row of r.rows) out[row.status] = Number(row.n);
    return out;
  }

  // ── templates, volume, miner state ───────────────────────────────────────────────────────────

  async listTemplates(projectId: string, opts: { source?: string; limit: number }): Promise<TemplateRow[]> {
    const params: unknown[] = [projectId];
    let where = 'project_id = $1';
    if (opts.source !== undefined) {
      params.push(opts.source);
      where += ' and source = $2';
    }
    params.push(opts.limit);
    const r = await this.db.query<{ source: string; template_id: string; template: string; count: number | string; first_seen: Date; last_seen: Date }>(
      `select source, template_id, template, count, first_seen, last_seen from templates where ${where} order by count desc, template_id limit $${params.length}`,
      params,
    );
    return r.rows.map((t) => ({ source: t.source, templateId: t.template_id, template: t.template, count: Number(t.count), firstSeen: t.first_seen, lastSeen: t.last_seen }));
  }

  /** Minutes with records in [fromMs, toMs), oldest first. */
  async volume(projectId: string, fromMs: number, toMs: number): Promise<VolumeRow[]> {
    const r = await this.db.query<{ minute: Date; records: number | string; anomalies: number | string; errors: number | string }>(
      'select minute, records, anomalies, errors from volume where project_id = $1 and minute >= $2::timestamptz and minute < $3::timestamptz order by minute',
      [projectId, iso(fromMs), iso(toMs)],
    );
    return r.rows.map((v) => ({ minute: v.minute, records: Number(v.records), anomalies: Number(v.anomalies), errors: Number(v.errors) }));
  }

  async minerState(projectId: string, source: string): Promise<unknown> {
    const r = await this.db.query<{ snapshot: unknown }>('select snapshot from miner_state where project_id = $1 and source = $2', [projectId, source]);
    return r.rows[0] ? json(r.rows[0].snapshot) : undefined;
  }

  // ── the pipeline's writes ────────────────────────────────────────────────────────────────────

  async isBatchProcessed(projectId: string, batchId: string): Promise<boolean> {
    const r = await this.db.query('select 1 from processed_batches where project_id = $1 and batch_id = $2', [projectId, batchId]);
    return r.rows.length > 0;
  }

  /** A processed batch and the stream entry that carried it; undefined when not processed. */
  async processedBatch(projectId: string, batchId: string): Promise<{ entryId: string | undefined } | undefined> {
    const r = await this.db.query<{ entry_id: string | null }>('select entry_id from processed_batches where project_id = $1 and batch_id = $2', [projectId, batchId]);
    const row = r.rows[0];
    return row ? { entryId: row.entry_id ?? undefined } : undefined;
  }

  /**
   * What a worker needs to take a project over, read in one statement (so one consistent view): the
   * last checkpoint of its detectors, the stream position it includes, and every source snapshot.
   */
  async projectState(projectId: string): Promise<ProjectStateRead> {
    // bytea travels as base64 text: PGlite converts binary parameters and results slowly (~1 s for 3 MB)
    const r = await this.db.query<{ snapshot: string | null; covered_ms: number | null; covered_seq: number | null; sources: unknown }>(
      `select encode(d.snapshot, 'base64') as snapshot, d.covered_ms, d.covered_seq,
         (select coalesce(jsonb_object_agg(m.source, m.snapshot), '{}'::jsonb) from miner_state m where m.project_id = $1) as sources
       from (select 1) as one left join detector_state d on d.project_id = $1`,
      [projectId],
    );
    const row = r.rows[0]!;
    const sources = new Map(Object.entries((json(row.sources) ?? {}) as Record<string, unknown>));
    if (!row.snapshot) return { detectors: undefined, coveredThrough: undefined, sources };
    let detectors: unknown;
    try {
      detectors = JSON.parse((await gunzipAsync(Buffer.from(row.snapshot, 'base64'))).toString('utf8'));
    } catch (err) {
      // an unreadable snapshot is reported by the restore (and the detectors start afresh)
      detectors = { format: 'unreadable', error: (err as Error).message };
    }
    return { detectors, coveredThrough: row.covered_ms !== null && row.covered_seq !== null ? `${row.covered_ms}-${row.covered_seq}` : undefined, sources };
  }

  /** Forgets processed batch ids older than this (re-deliveries come within minutes, not days). */
  async pruneProcessedBatches(olderThanMs: number): Promise<number> {
    const r = await this.db.query('delete from processed_batches where processed_at < $1::timestamptz', [iso(olderThanMs)]);
    return r.rowCount;
  }

  /**
   * Writes one flush in one transaction. Throws FlushConflictError (and writes nothing) when a
   * batch is already recorded or a checkpoint is older than the one stored.
   */
  async flush(w: FlushWrites): Promise<void> {
    const checkpoints = w.checkpoints ?? [];
    if (w.batches.length + w.templates.length + w.volume.length + w.incidents.length + w.minerStates.length + checkpoints.length === 0) return;
    // serialised and compressed before the transaction, which then holds its connection briefly
    const packed = await Promise.all(checkpoints.map(async (c) => ({ c, bytes: (await gzipAsync(c.detectorsJson ?? JSON.stringify(c.detectors), { level: 1 })).toString('base64') })));
    await this.db.transaction(async (tx) => {
      if (w.batches.length) {
        const r = await tx.query(
          `insert into processed_batches (project_id, batch_id, records, entry_id)
           select x.project_id, x.batch_id, x.records, x.entry_id from jsonb_to_recordset($1::jsonb) as x(project_id uuid, batch_id text, records integer, entry_id text)
           on conflict do nothing`,
          [JSON.stringify(w.batches.map((b) => ({ project_id: b.projectId, batch_id: b.batchId, records: b.records, entry_id: b.entryId ?? null })))],
        );
        if (r.rowCount !== w.batches.length) throw new FlushConflictError(`${w.batches.length - r.rowCount} of ${w.batches.length} batches were already processed (by another worker?); nothing of this flush was stored`);
      }
      if (w.templates.length) {
        await tx.query(
          `insert into templates as t (project_id, source, template_id, template, count, first_seen, last_seen)
           select x.project_id, x.source, x.template_id, x.template, x.delta, x.first_seen, x.last_seen
           from jsonb_to_recordset($1::jsonb) as x(project_id uuid, source text, template_id text, template text, delta bigint, first_seen timestamptz, last_seen timestamptz)
           on conflict (project_id, source, template_id) do update set
             template = excluded.template,
             count = t.count + excluded.count,
             first_seen = least(t.first_seen, excluded.first_seen),
             last_seen = greatest(t.last_seen, excluded.last_seen)`,
          [JSON.stringify(sorted(w.templates, (t) => `${t.projectId}\u0000${t.source}\u0000${t.templateId}`).map((t) => ({
            project_id: t.projectId, source: t.source, template_id: t.templateId, template: t.template, delta: t.countDelta, first_seen: iso(t.firstSeenMs), last_seen: iso(t.lastSeenMs),
          })))],
        );
      }
      if (w.volume.length) {
        await tx.query(
          `insert into volume as v (project_id, minute, records, anomalies, errors)
           select x.project_id, x.minute, x.records, x.anomalies, x.errors
           from jsonb_to_recordset($1::jsonb) as x(project_id uuid, minute timestamptz, records bigint, anomalies bigint, errors bigint)
           on conflict (project_id, minute) do update set
             records = v.records + excluded.records,
             anomalies = v.anomalies + excluded.anomalies,
             errors = v.errors + excluded.errors`,
          [JSON.stringify(sorted(w.volume, (v) => `${v.projectId}\u0000${v.minuteMs}`).map((v) => ({ project_id: v.projectId, minute: iso(v.minuteMs), records: v.records, anomalies: v.anomalies, errors: v.errors })))],
        );
      }
      if (w.incidents.length) {
        await tx.query(
          `insert into incidents as i (${INCIDENT_COLUMNS})
           select x.id, x.project_id, x.source, x.signature, x.title, x.severity, x.status, x.delta, x.bursts, x.first_seen, x.last_seen, x.samples, x.milestones, x.created_at, x.updated_at
           from jsonb_to_recordset($1::jsonb) as x(id uuid, project_id uuid, source text, signature text, title text, severity text, status text, delta bigint, bursts integer,
             first_seen timestamptz, last_seen timestamptz, samples jsonb, milestones jsonb, created_at timestamptz, updated_at timestamptz)
           on conflict (project_id, source, signature) do update set
             title = excluded.title,
             severity = excluded.severity,
             status = excluded.status,
             occurrences = i.occurrences + excluded.occurrences,
             bursts = greatest(i.bursts, excluded.bursts),
             first_seen = least(i.first_seen, excluded.first_seen),
             last_seen = greatest(i.last_seen, excluded.last_seen),
             samples = excluded.samples,
             milestones = excluded.milestones,
             updated_at = greatest(i.updated_at, excluded.updated_at)`,
          [JSON.stringify(sorted(w.incidents, (c) => c.incident.id).map(({ incident: i, occurrencesDelta }) => ({
            id: i.id, project_id: i.projectId, source: i.source, signature: i.signature, title: i.title, severity: i.severity, status: i.status, delta: occurrencesDelta, bursts: i.bursts,
            first_seen: iso(i.firstSeenMs), last_seen: iso(i.lastSeenMs), samples: i.samples, milestones: i.milestones, created_at: iso(i.createdAtMs), updated_at: iso(i.updatedAtMs),
          })))],
        );
      }
      for (const m of w.minerStates) {
        await tx.query(
          `insert into miner_state (project_id, source, snapshot, updated_at) values ($1, $2, $3::jsonb, $4::timestamptz)
           on conflict (project_id, source) do update set snapshot = excluded.snapshot, updated_at = excluded.updated_at`,
          [m.projectId, m.source, m.snapshotJson ?? JSON.stringify(m.snapshot), iso(m.atMs)],
        );
      }
      for (const { c, bytes } of packed) {
        const [coveredMs, coveredSeq] = c.coveredThrough !== undefined ? parsePosition(c.coveredThrough) : [null, null];
        const r = await tx.query(
          `insert into detector_state as d (project_id, snapshot, covered_ms, covered_seq, updated_at) values ($1, decode($2, 'base64'), $3, $4, $5::timestamptz)
           on conflict (project_id) do update set snapshot = excluded.snapshot, covered_ms = excluded.covered_ms, covered_seq = excluded.covered_seq, updated_at = excluded.updated_at
           where d.covered_ms is null or excluded.covered_ms is null or (excluded.covered_ms, excluded.covered_seq) >= (d.covered_ms, d.covered_seq)`,
          [c.projectId, bytes, coveredMs, coveredSeq, iso(c.atMs)],
        );
        if (r.rowCount !== 1) throw new FlushConflictError(`the stored checkpoint of project ${c.projectId} is newer than ${c.coveredThrough ?? 'this one'} (written by another worker?); nothing of this flush was stored`);
      }
    });
  }
}

/** Rows in a fixed order, so concurrent writers lock them in the same order (no deadlocks). */
function sorted<T>(rows: readonly T[], key: (r: T) => string): T[] {
  return rows.map((r) => [key(r), r] as const).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)).map(([, r]) => r);
}
