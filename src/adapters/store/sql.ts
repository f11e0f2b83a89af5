/**
 * The one small interface both databases are used through: parameterised queries, statements
 * without parameters (migrations) and transactions. PGlite (embedded, a folder on disk) and
 * PostgreSQL (`pg`) implement it; everything above speaks one SQL dialect, PostgreSQL's.
 */
export interface QueryResult<T> {
  rows: T[];
  /** Rows inserted, updated or deleted (0 for a select). */
  rowCount: number;
}

export interface SqlClient {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
  /** Runs one or more statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * Runs `fn` in a transaction: committed when it resolves, rolled back when it throws. Inside a
   * transaction, `transaction` runs `fn` in the same one.
   */
  transaction<T>(fn: (tx: SqlClient) => Promise<T>): Promise<T>;
}

export interface SqlDatabase extends SqlClient {
  readonly kind: 'pglite' | 'postgres';
  /** A short description for logs: the folder, or the server without credentials. */
  readonly location: string;
  close(): Promise<void>;
}

/** PostgreSQL's SQLSTATE for a unique violation (the same from PGlite and a server). */
export const UNIQUE_VIOLATION = '23505';

export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** A client whose `transaction` reuses the transaction it belongs to. */
export function nested(tx: Omit<SqlClient, 'transaction'>): SqlClient {
  const client: SqlClient = {
    query: (sql, params) => tx.query(sql, params),
    exec: (sql) => tx.exec(sql),
    transaction: (fn) => fn(client),
  };
  return client;
}
