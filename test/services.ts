/**
 * For tests that need the real Redis and PostgreSQL of this machine: whether they can be reached.
 * A test whose service is unreachable is skipped with a message, unless VIGIL_REQUIRE_SERVICES=1,
 * where that is a failure.
 */
import { Redis } from 'ioredis';
import pg from 'pg';

export const TEST_REDIS_URL = process.env.VIGIL_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_DATABASE_URL = process.env.VIGIL_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const REQUIRE = process.env.VIGIL_REQUIRE_SERVICES === '1';

export async function redisProblem(url = TEST_REDIS_URL): Promise<string | undefined> {
  const r = new Redis(url, { lazyConnect: true, connectTimeout: 2_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    await r.ping();
    return undefined;
  } catch (err) {
    return (err as Error).message || String(err);
  } finally {
    r.disconnect();
  }
}

export async function postgresProblem(url = TEST_DATABASE_URL): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (err) {
    return (err as Error).message || String(err);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Undefined when every service is reachable; else why not (and the test should skip). Throws
 * when VIGIL_REQUIRE_SERVICES=1.
 */
export async function servicesProblem(what: string, services: { redis?: boolean; postgres?: boolean }): Promise<string | undefined> {
  const problems: string[] = [];
  if (services.redis) {
    const p = await redisProblem();
    if (p) problems.push(`Redis at ${TEST_REDIS_URL} unreachable: ${p}`);
  }
  if (services.postgres) {
    const p = await postgresProblem();
    if (p) problems.push(`PostgreSQL at ${TEST_DATABASE_URL} unreachable: ${p}`);
  }
  if (problems.length === 0) return undefined;
  const msg = `${what}: ${problems.join('; ')}`;
  if (REQUIRE) throw new Error(`${msg} (required because VIGIL_REQUIRE_SERVICES=1)`);
  console.warn(`${msg}; skipped (set VIGIL_REQUIRE_SERVICES=1 to make this a failure)`);
  return msg;
}
