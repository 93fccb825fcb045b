/** How the database is doing, for readiness probes and metrics, without handing out its pool. */
import { databasePool, type Database } from './prisma.ts';

/** True when the database answers `SELECT 1` within the timeout; never throws, never hangs. */
export async function pingDatabase(db: Database, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const query = databasePool(db)
    .query('SELECT 1')
    .then(
      () => true,
      () => false,
    );
  try {
    return await Promise.race([query, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface PoolStats {
  /** Connections open. */
  total: number;
  idle: number;
  /** Queries waiting for a connection. */
  waiting: number;
}

export function poolStats(db: Database): PoolStats {
  const pool = databasePool(db);
  return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount };
}

/**
 * The statement timeout the pool's connections run with, in ms (0: none). Through PgBouncer the
 * service cannot set it (see pool.ts): PgBouncer's `connect_query` or the role's settings do.
 */
export async function statementTimeoutMs(db: Database): Promise<number> {
  const { rows } = await databasePool(db).query<{ ms: number }>(`SELECT setting::int AS ms FROM pg_settings WHERE name = 'statement_timeout'`);
  return rows[0]!.ms;
}
