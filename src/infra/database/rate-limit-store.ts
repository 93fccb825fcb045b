/** The rate limiter's counters in PostgreSQL (`rate_limit_windows`), for every replica to share. */
import pg from 'pg';
import { databasePool, type Database } from './prisma.ts';

export interface RateLimitHit {
  /** Requests counted in the current window, these included. */
  count: number;
  /** Milliseconds until the current window ends. */
  resetMs: number;
}

/**
 * Counters in PostgreSQL, shared by all replicas: one upsert per request. Windows are aligned on
 * the database's clock, not each replica's, so replicas agree on when a window starts. Windows
 * that are over are deleted now and then (at most once per window per process).
 */
export class PostgresRateLimitStore {
  private nextPrune = 0;

  /**
   * A store with a small pool of its own whose sessions do not wait for the WAL flush at commit
   * (`synchronous_commit=off`): a counter write is on every request's path, and an increment
   * lost in a database crash costs nothing, while waiting for the disk costs every request.
   */
  static open(connectionString: string, poolSize = 2): PostgresRateLimitStore {
    const pool = new pg.Pool({
      connectionString,
      max: poolSize,
      application_name: 'customer-gateway rate limit',
      options: '-c synchronous_commit=off',
      connectionTimeoutMillis: 5_000,
    });
    pool.on('error', () => {}); // a dropped idle connection is replaced on next use
    return new PostgresRateLimitStore(pool, true);
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
    const { rows } = await this.pool.query<{ count: number; reset_ms: string }>({
      name: 'cgw_rate_limit_charge',
      text: `WITH clock AS (
         SELECT floor(extract(epoch FROM clock_timestamp()) * 1000) AS now_ms
       ), slot AS (
         SELECT now_ms, now_ms - (now_ms::bigint % $2::bigint) AS start_ms FROM clock
       )
       INSERT INTO rate_limit_windows AS w (bucket, window_start, count)
       SELECT $1, to_timestamp(start_ms / 1000.0), $3::int FROM slot
       ON CONFLICT (bucket, window_start) DO UPDATE SET count = w.count + $3::int
       RETURNING w.count, (SELECT start_ms + $2::bigint - now_ms FROM slot) AS reset_ms`,
      values: [bucket, windowMs, requests],
    });
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
