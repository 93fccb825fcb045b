/**
 * node-postgres pools on `DATABASE_URL`, which leads to PostgreSQL itself or to PgBouncer in
 * transaction mode. `pgbouncer=true` in the URL (Prisma's convention) says the latter: PgBouncer
 * 1.18 gives each transaction whichever server connection is free, so a pool through it relies on
 * no session: no named prepared statement (one lives in one server session), no startup
 * parameter (PgBouncer refuses those it does not know). What needs a session of its own
 * (migrations' advisory lock, LISTEN) connects to `DIRECT_DATABASE_URL` instead.
 */
import pg from 'pg';

export interface DatabaseUrl {
  /** The URL for node-postgres, without the `pgbouncer` parameter. */
  url: string;
  /** True: through PgBouncer in transaction mode. */
  pgbouncer: boolean;
}

export function parseDatabaseUrl(connectionString: string): DatabaseUrl {
  const url = new URL(connectionString);
  if (!url.searchParams.has('pgbouncer')) return { url: connectionString, pgbouncer: false };
  const pgbouncer = url.searchParams.get('pgbouncer') === 'true';
  url.searchParams.delete('pgbouncer');
  return { url: url.toString(), pgbouncer };
}

/** A few seconds: far above any statement the API runs, far below a client's patience. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 5_000;

export interface PoolOptions {
  max: number;
  applicationName: string;
  /** Longest a statement may run or wait (0: no limit); through PgBouncer, the server's setting applies instead. */
  statementTimeoutMs?: number;
}

/** Pools through PgBouncer: their statements go unnamed. */
const throughPgBouncer = new WeakSet<pg.Pool>();

export function createPool(connectionString: string, { max, applicationName, statementTimeoutMs }: PoolOptions): pg.Pool {
  const { url, pgbouncer } = parseDatabaseUrl(connectionString);
  const pool = new pg.Pool({
    connectionString: url,
    max,
    application_name: applicationName,
    // Sent at connect, so PostgreSQL itself cancels a statement that runs or waits on a lock too
    // long (SQLSTATE 57014). PgBouncer refuses it: there the role's or PgBouncer's setting applies.
    ...(pgbouncer ? {} : { statement_timeout: statementTimeoutMs }),
    // Fail fast while the database is unreachable instead of queueing requests forever.
    connectionTimeoutMillis: 5_000,
  });
  // An idle connection the server drops (a restart, a failover) must not crash the process;
  // the pool replaces it on next use.
  pool.on('error', () => {});
  // A connection the server ends while it is checked out (a terminated backend, a restart) emits
  // 'error' on its client; a client with no listener at that moment would crash the process.
  // Prisma's adapter listens only once its transaction has started, a moment too late when the
  // error arrives with the connection's first bytes. Queries on the client still fail, and the
  // pool drops it when it comes back.
  pool.on('connect', (client) => client.on('error', () => {}));
  if (pgbouncer) throughPgBouncer.add(pool);
  return pool;
}

/** False for a pool through PgBouncer, whose connections may not keep a prepared statement. */
export function preparesStatements(pool: pg.Pool): boolean {
  return !throughPgBouncer.has(pool);
}
