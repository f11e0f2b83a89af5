/**
 * The embedded database: PGlite (PostgreSQL compiled to WebAssembly) in a folder on disk. One
 * connection, so PGlite itself runs queries one at a time; a transaction holds it until it ends.
 */
import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { nested, type QueryResult, type SqlClient, type SqlDatabase } from './sql.js';

type Queryable = Pick<PGlite, 'query' | 'exec'>;

async function run<T>(db: Queryable, sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
  const r = await db.query<T>(sql, params ? [...params] : undefined);
  return { rows: r.rows, rowCount: r.affectedRows ?? 0 };
}

export class PgliteDatabase implements SqlDatabase {
  readonly kind = 'pglite';

  private constructor(
    private readonly db: PGlite,
    readonly location: string,
  ) {}

  /** Opens (creating when new) the database in `dir`; no folder means in memory (tests). */
  static async open(dir: string | undefined): Promise<PgliteDatabase> {
    if (dir) mkdirSync(dir, { recursive: true });
    const db = dir ? new PGlite(dir) : new PGlite();
    await db.waitReady;
    return new PgliteDatabase(db, dir ?? 'memory');
  }

  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
    return run<T>(this.db, sql, params);
  }

  async exec(sql: string): Promise<void> {
    await this.db.exec(sql);
  }

  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) => fn(nested({ query: (sql, params) => run(tx, sql, params), exec: async (sql) => { await tx.exec(sql); } })));
  }

  async close(): Promise<void> {
    if (!this.db.closed) await this.db.close();
  }
}
