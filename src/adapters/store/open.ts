/** Opens the configured database (PostgreSQL when a URL is given, else PGlite in the data folder) and migrates it. */
import { join } from 'node:path';
import { migrate } from './migrations.js';
import { PgliteDatabase } from './pglite.js';
import { PostgresDatabase } from './postgres.js';
import type { SqlDatabase } from './sql.js';
import { VigilStore } from './vigil-store.js';

export interface StoreTarget {
  /** PostgreSQL connection string; absent: the embedded database. */
  databaseUrl?: string | undefined;
  /** Schema for PostgreSQL (tests). */
  schema?: string;
  /** Folder of the embedded database's data folder (`<dataDir>/pglite`); absent: in memory. */
  dataDir?: string | undefined;
}

export async function openDatabase(t: StoreTarget): Promise<SqlDatabase> {
  if (t.databaseUrl) return PostgresDatabase.open(t.databaseUrl, t.schema !== undefined ? { schema: t.schema } : {});
  return PgliteDatabase.open(t.dataDir !== undefined ? join(t.dataDir, 'pglite') : undefined);
}

/** Opens and migrates; the store is ready for use. */
export async function openStore(t: StoreTarget): Promise<{ store: VigilStore; applied: number[] }> {
  const db = await openDatabase(t);
  try {
    const applied = await migrate(db);
    return { store: new VigilStore(db), applied };
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
}
