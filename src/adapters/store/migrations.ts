/**
 * The schema, as numbered migrations. Applied at start in one transaction (under an advisory lock,
 * so two processes starting together do not race) and recorded in `schema_migrations`. A migration
 * is never edited once released: a change is a new migration.
 */
import type { SqlClient } from './sql.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export class SchemaError extends Error {
  readonly code = 'VIGIL_STORE_SCHEMA_NEWER';
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'projects, keys, templates, miner state, incidents, volume, processed batches',
    sql: `
create table projects (
  id uuid primary key,
  name text not null,
  -- scrypt$N$r$p$salt$hash (base64): the parameters travel with the hash, so they can change
  password_hash text not null,
  notifications jsonb not null default '{}'::jsonb,
  created_at timestamptz not null default now(),
  constraint projects_name_unique unique (name)
);

create table api_keys (
  id uuid primary key,
  project_id uuid not null references projects (id) on delete cascade,
  -- sha256 (hex) of the key; the key itself is shown once and never stored
  hash text not null,
  -- the key's first characters, to tell keys apart in a list
  prefix text not null,
  created_at timestamptz not null default now(),
  revoked_at timestamptz,
  constraint api_keys_hash_unique unique (hash)
);
create index api_keys_by_project on api_keys (project_id);

create table templates (
  project_id uuid not null references projects (id) on delete cascade,
  source text not null,
  template_id text not null,
  template text not null,
  count bigint not null default 0,
  first_seen timestamptz not null,
  last_seen timestamptz not null,
  primary key (project_id, source, template_id)
);

create table miner_state (
  project_id uuid not null references projects (id) on delete cascade,
  source text not null,
  -- {format: "vigil.source", version, miner: MinerSnapshot, stream: {...}}
  snapshot jsonb not null,
  updated_at timestamptz not null default now(),
  primary key (project_id, source)
);

create table incidents (
  id uuid primary key,
  project_id uuid not null references projects (id) on delete cascade,
  source text not null,
  signature text not null,
  title text not null,
  severity text not null check (severity in ('critical', 'high', 'medium', 'low', 'info')),
  status text not null check (status in ('open', 'closed', 'ignored')),
  occurrences bigint not null check (occurrences >= 0),
  bursts integer not null default 1,
  first_seen timestamptz not null,
  last_seen timestamptz not null,
  samples jsonb not null default '[]'::jsonb,
  milestones jsonb not null default '[]'::jsonb,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  -- one incident per signature: a recurrence reopens it rather than starting another
  constraint incidents_signature_unique unique (project_id, source, signature)
);
-- the list's order and its keyset cursor
create index incidents_by_last_seen on incidents (project_id, last_seen desc, id desc);

create table volume (
  project_id uuid not null references projects (id) on delete cascade,
  minute timestamptz not null,
  records bigint not null default 0,
  anomalies bigint not null default 0,
  errors bigint not null default 0,
  primary key (project_id, minute)
);

create table processed_batches (
  project_id uuid not null references projects (id) on delete cascade,
  batch_id text not null,
  records integer not null,
  processed_at timestamptz not null default now(),
  primary key (project_id, batch_id)
);
create index processed_batches_by_age on processed_batches (processed_at);
`,
  },
  {
    version: 2,
    name: 'detector state checkpoints; the stream entry that carried each processed batch',
    sql: `
create table detector_state (
  project_id uuid primary key references projects (id) on delete cascade,
  -- gzip of the JSON DetectorSnapshot (src/core/analyze/detector-state.ts)
  snapshot bytea not null,
  -- the stream position (Redis entry id ms-seq) of the last entry this state and the project's
  -- source snapshots include; null when the batches came through the in-process queue
  covered_ms bigint,
  covered_seq bigint,
  updated_at timestamptz not null default now()
);

-- the Redis entry id that carried the batch (null in embedded mode): a redelivered entry is told
-- apart from a second copy of the batch published under the same id
alter table processed_batches add column entry_id text;
`,
  },
];

// any constant shared by every Vigil process: serialises concurrent migrations
const MIGRATION_LOCK = 0x56494731; // "VIG1"

/** Applies the migrations the database lacks; returns the versions applied. */
export async function migrate(db: SqlClient, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.exec(`create table if not exists schema_migrations (
  version integer primary key,
  name text not null,
  applied_at timestamptz not null default now()
)`);
    const done = new Set((await tx.query<{ version: number }>('select version from schema_migrations')).rows.map((r) => Number(r.version)));
    const known = Math.max(0, ...migrations.map((m) => m.version));
    const newest = Math.max(0, ...done);
    if (newest > known) throw new SchemaError(`the database's schema is at version ${newest}, newer than this build knows (${known}); run a newer Vigil`);
    const applied: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue;
      await tx.exec(m.sql);
      await tx.query('insert into schema_migrations (version, name) values ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}
