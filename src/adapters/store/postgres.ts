/**
 * PostgreSQL through `pg` (the fleet's shared state). A pool of connections; a transaction holds
 * one connection from BEGIN to COMMIT. `schema` confines every query to one schema (tests run in a
 * fresh schema each).
 */
import pg from 'pg';
import { nested, type QueryResult, type SqlClient, type SqlDatabase } from './sql.js';

// counts are bigint columns; they stay far below 2^53, so numbers, as PGlite returns them too
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => (oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'))) as typeof pg.types.getTypeParser,
};

export interface PostgresOptions {
  /** Schema that holds Vigil's tables (default: the server's search_path). */
  schema?: string;
  maxConnections?: number;
}

/** The server part of a connection string, without credentials (for logs). */
export function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `postgres://${u.hostname}${u.port ? `:${u.port}` : ''}${u.pathname}`;
  } catch {
    return 'postgres';
  }
}

export class PostgresDatabase implements SqlDatabase {
  readonly kind = 'postgres';

  private constructor(
    private readonly pool: pg.Pool,
    readonly location: string,
  ) {}

  static async open(url: string, opts: PostgresOptions = {}): Promise<PostgresDatabase> {
    if (opts.schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(opts.schema)) throw new RangeError(`invalid schema name: ${opts.schema}`);
    const pool = new pg.Pool({
      connectionString: url,
      max: opts.maxConnections ?? 10,
      types,
      ...(opts.schema ? { options: `-c search_path=${opts.schema}` } : {}),
    });
    // an idle connection that drops is replaced by the pool; without a listener it would crash the process
    pool.on('error', () => {});
    const db = new PostgresDatabase(pool, describeUrl(url) + (opts.schema ? ` (schema ${opts.schema})` : ''));
    await db.query('select 1');
    return db;
  }

  async query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
    const r = await this.pool.query(sql, params ? [...params] : undefined);
    return { rows: r.rows as T[], rowCount: r.rowCount ?? 0 };
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('begin');
      const tx = nested({
        query: async <R>(sql: string, params?: readonly unknown[]) => {
          const r = await client.query(sql, params ? [...params] : undefined);
          return { rows: r.rows as R[], rowCount: r.rowCount ?? 0 };
        },
        exec: async (sql: string) => { await client.query(sql); },
      });
      const out = await fn(tx);
      await client.query('commit');
      return out;
    } catch (err) {
      // a connection that cannot even roll back is dropped, not returned to the pool
      await client.query('rollback').catch((e: unknown) => { broken = e instanceof Error ? e : new Error(String(e)); });
      throw err;
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
