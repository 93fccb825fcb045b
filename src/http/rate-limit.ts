/**
 * Per-token rate limiting in fixed windows, with BigCommerce's headers on every authenticated
 * response. The counters live behind `RateLimitStore`: in memory for one process, or in
 * PostgreSQL (`rate_limit_windows`) so that every replica on the same database shares them.
 */
import pg from 'pg';
import type { Plugin } from 'graphql-yoga';
import { rateLimited } from './graphql-errors.ts';
import { requestState, type RateLimitStatus } from './request-state.ts';

export interface RateLimitHit {
  /** Requests counted in the current window, this one included. */
  count: number;
  /** Milliseconds until the current window ends. */
  resetMs: number;
}

export interface RateLimitStore {
  /** Counts one request for `bucket` in the current window of `windowMs`. */
  hit(bucket: string, windowMs: number): Promise<RateLimitHit>;
  /** Releases what the store holds (connections); called once at shutdown. */
  close?(): Promise<void>;
}

/** Counters of this process only: right for a single instance, wrong behind a load balancer. */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, { start: number; count: number }>();
  private nextSweep = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async hit(bucket: string, windowMs: number): Promise<RateLimitHit> {
    const now = this.now();
    const start = now - (now % windowMs);
    if (now >= this.nextSweep) {
      // Forget buckets whose window is over, at most once per window.
      for (const [key, window] of this.windows) if (window.start < start) this.windows.delete(key);
      this.nextSweep = start + windowMs;
    }
    let window = this.windows.get(bucket);
    if (!window || window.start !== start) this.windows.set(bucket, (window = { start, count: 0 }));
    window.count += 1;
    return { count: window.count, resetMs: start + windowMs - now };
  }
}

/**
 * Counters in PostgreSQL, shared by all replicas: one upsert per request. Windows are aligned on
 * the database's clock, not each replica's, so replicas agree on when a window starts. Windows
 * that are over are deleted now and then (at most once per window per process).
 */
export class PostgresRateLimitStore implements RateLimitStore {
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

  constructor(
    private readonly pool: pg.Pool,
    private readonly ownsPool = false,
  ) {}

  async close(): Promise<void> {
    if (this.ownsPool) await this.pool.end();
  }

  async hit(bucket: string, windowMs: number): Promise<RateLimitHit> {
    const { rows } = await this.pool.query<{ count: number; reset_ms: string }>({
      name: 'cgw_rate_limit_hit',
      text: `WITH clock AS (
         SELECT floor(extract(epoch FROM clock_timestamp()) * 1000) AS now_ms
       ), slot AS (
         SELECT now_ms, now_ms - (now_ms::bigint % $2::bigint) AS start_ms FROM clock
       )
       INSERT INTO rate_limit_windows AS w (bucket, window_start, count)
       SELECT $1, to_timestamp(start_ms / 1000.0), 1 FROM slot
       ON CONFLICT (bucket, window_start) DO UPDATE SET count = w.count + 1
       RETURNING w.count, (SELECT start_ms + $2::bigint - now_ms FROM slot) AS reset_ms`,
      values: [bucket, windowMs],
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

export interface RateLimitOptions {
  /** Requests allowed per token and window. */
  requests: number;
  windowMs: number;
  store: RateLimitStore;
  /** Told when the store fails; the request then goes through unlimited rather than failing. */
  onStoreError?: (error: unknown) => void;
}

/** BigCommerce's header for each figure of the current window. */
const HEADER_OF = {
  quota: 'X-Rate-Limit-Requests-Quota',
  left: 'X-Rate-Limit-Requests-Left',
  resetMs: 'X-Rate-Limit-Time-Reset-Ms',
  windowMs: 'X-Rate-Limit-Time-Window-Ms',
} as const satisfies Record<keyof RateLimitStatus, string>;

export const RATE_LIMIT_HEADERS = Object.values(HEADER_OF);

/** Runs after authentication: anonymous requests carry no token to count against. */
export function useRateLimit({ requests, windowMs, store, onStoreError }: RateLimitOptions): Plugin {
  return {
    async onParams({ request }) {
      const state = requestState(request);
      if (!state.principal) return;
      let hit: RateLimitHit;
      try {
        hit = await store.hit(`token:${state.principal.tokenId}`, windowMs);
      } catch (error) {
        onStoreError?.(error);
        return;
      }
      state.rateLimit = { quota: requests, left: Math.max(0, requests - hit.count), resetMs: hit.resetMs, windowMs };
      if (hit.count > requests) {
        throw rateLimited(`Too many requests for this API token; retry after ${HEADER_OF.resetMs}`, hit.resetMs);
      }
    },
    onResponse({ request, response }) {
      const limit = requestState(request).rateLimit;
      if (!limit) return;
      for (const [field, header] of Object.entries(HEADER_OF)) response.headers.set(header, String(limit[field as keyof RateLimitStatus]));
    },
  };
}
