/** The one Prisma client of a process, on a node-postgres pool through Prisma's driver adapter. */
import { PrismaPg } from '@prisma/adapter-pg';
import type pg from 'pg';
import { PrismaClient } from '../../generated/prisma/client.ts';
import { createPool, DEFAULT_STATEMENT_TIMEOUT_MS, parseDatabaseUrl } from './pool.ts';

export type Database = PrismaClient;

export interface DatabaseOptions {
  /** `DATABASE_URL`: PostgreSQL, or PgBouncer in transaction mode with `pgbouncer=true`. */
  connectionString: string;
  /** PostgreSQL itself, for connections that hold a session (LISTEN); default `connectionString`, unless it leads to PgBouncer. */
  directConnectionString?: string | undefined;
  poolSize?: number;
  /** Longest a statement on this pool may run or wait (0: no limit). */
  statementTimeoutMs?: number;
}

interface Connections {
  pool: pg.Pool;
  /** Where a connection of its own goes; none through PgBouncer without a direct connection string. */
  session: pg.ClientConfig | undefined;
}

// The pool behind each client, for what Prisma does not expose: pool use in metrics, and cheap
// raw statements (readiness, rate-limit counters) that need no query engine round.
const connections = new WeakMap<Database, Connections>();

export function createDatabase({
  connectionString,
  directConnectionString,
  poolSize = 10,
  statementTimeoutMs = DEFAULT_STATEMENT_TIMEOUT_MS,
}: DatabaseOptions): Database {
  const pool = createPool(connectionString, { max: poolSize, applicationName: 'customer-gateway', statementTimeoutMs });
  // `$disconnect()` ends the pool too, so callers have one thing to close.
  const db = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
  const direct = directConnectionString ?? (parseDatabaseUrl(connectionString).pgbouncer ? undefined : connectionString);
  const session = direct === undefined ? undefined : { connectionString: parseDatabaseUrl(direct).url, connectionTimeoutMillis: 5_000 };
  connections.set(db, { pool, session });
  return db;
}

function connectionsOf(db: Database): Connections {
  const found = connections.get(db);
  if (!found) throw new Error('this database client was not made by createDatabase');
  return found;
}

/** The node-postgres pool of a client made by `createDatabase`. */
export function databasePool(db: Database): pg.Pool {
  return connectionsOf(db).pool;
}

/** Where a connection that holds a session (LISTEN) goes: PostgreSQL itself, never PgBouncer. */
export function sessionConfig(db: Database): pg.ClientConfig {
  const { session } = connectionsOf(db);
  if (!session) throw new Error('through PgBouncer (pgbouncer=true), LISTEN needs a direct connection to PostgreSQL: DIRECT_DATABASE_URL');
  return session;
}
