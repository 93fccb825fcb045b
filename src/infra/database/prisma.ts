/** The one Prisma client of a process, on a node-postgres pool through Prisma's driver adapter. */
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaClient } from '../../generated/prisma/client.ts';

export type Database = PrismaClient;

export interface DatabaseOptions {
  connectionString: string;
  poolSize?: number;
  /** Longest a statement on this pool may run or wait (0: no limit). */
  statementTimeoutMs?: number;
}

/** A few seconds: far above any statement the API runs, far below a client's patience. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 5_000;

// The pool behind each client, for what Prisma does not expose: pool use in metrics, and cheap
// raw statements (readiness, rate-limit counters) that need no query engine round.
const pools = new WeakMap<Database, pg.Pool>();

export function createDatabase({ connectionString, poolSize = 10, statementTimeoutMs = DEFAULT_STATEMENT_TIMEOUT_MS }: DatabaseOptions): Database {
  const pool = new pg.Pool({
    connectionString,
    max: poolSize,
    application_name: 'customer-gateway',
    // Sent at connect, so PostgreSQL itself cancels a statement that runs or waits on a lock too
    // long (SQLSTATE 57014) and the connection goes back to the pool. Migrations use a client of
    // their own; the LISTEN connection copies these options, and its statements are instant.
    statement_timeout: statementTimeoutMs,
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
  // `$disconnect()` ends the pool too, so callers have one thing to close.
  const db = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  pools.set(db, pool);
  return db;
}

/** The node-postgres pool of a client made by `createDatabase`. */
export function databasePool(db: Database): pg.Pool {
  const pool = pools.get(db);
  if (!pool) throw new Error('this database client was not made by createDatabase');
  return pool;
}
