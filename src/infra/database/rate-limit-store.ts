/** The rate limiter's counters in PostgreSQL (`rate_limit_windows`), for every replica to share. */
import type pg from 'pg';
import { createPool } from './pool.ts';
import { databasePool, type Database } from './prisma.ts';
import { statementQuery } from './sql.ts';

export interface RateLimitHit {
  /** Requests counted in the current window, these included. */
  count: number;
  /** Milliseconds until the current window ends. */
  resetMs: number;
}

/**
 * One request's charge, in a window aligned on the database's clock. Its transaction does not
 * wait for the WAL flush at commit (`synchronous_commit` off for it alone, set in the statement
 * so that no session keeps it): a counter write is on every request's path, and an increment
 * lost in a database crash costs nothing, while waiting for the disk costs every request.
 */
const CHARGE = {
  name: 'cgw_rate_limit_charge',
  text: `WITH clock AS (
     SELECT floor(extract(epoch FROM clock_timestamp()) * 1000) AS now_ms, set_config('synchronous_commit', 'off', true) AS async
   ), slot AS (
     SELECT now_ms, now_ms - (now_ms::bigint % $2::bigint) AS start_ms FROM clock
   )
   INSERT INTO rate_limit_windows AS w (bucket, window_start, count)
   SELECT $1, to_timestamp(start_ms / 1000.0), $3::int FROM slot
   ON CONFLICT (bucket, window_start) DO UPDATE SET count = w.count + $3::int
   RETURNING w.count, (SELECT start_ms + $2::bigint - now_ms FROM slot) AS reset_ms`,
};

/**
 * Counters in PostgreSQL, shared by all replicas: one upsert per request. Windows are aligned on
 * the database's clock, not each replica's, so replicas agree on when a window starts. Windows
 * that are over are deleted now and then (at most once per window per process).
 */
export class PostgresRateLimitStore {
  private nextPrune = 0;

  /** A store with a small pool of its own on `DATABASE_URL`, so counting never waits behind the API's statements. */
  static open(connectionString: string, poolSize = 2): PostgresRateLimitStore {
    return new PostgresRateLimitStore(createPool(connectionString, { max: poolSize, applicationName: 'customer-gateway rate limit' }), true);
  }

  /** A store on the pool of the application's client. */
  static sharing(db: Database): PostgresRateLimitStore {
    return new PostgresRateLimitStore(databasePool(db));
  }

  constructor(
    private readonly pool: pg.Pool,
    private readonly ownsPool = false,
  ) {}

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }

  async hit(bucket: string, windowMs: number, requests = 1): Promise<RateLimitHit> {
    const { rows } = await this.pool.query<{ count: number; reset_ms: string }>(statementQuery(this.pool, CHARGE, [bucket, windowMs, requests]));
    const row = rows[0]!;
    const now = Date.now();
    if (now >= this.nextPrune) {
      this.nextPrune = now + windowMs;
      this.pool
        .query(`DELETE FROM rate_limit_windows WHERE window_start < clock_timestamp() - make_interval(secs => $1::double precision / 1000)`, [
          windowMs,
        ])
        .catch(() => {});
    }
    return { count: row.count, resetMs: Number(row.reset_ms) };
  }
}
