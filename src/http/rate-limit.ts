/**
 * Per-token rate limiting in fixed windows, with BigCommerce's headers on every authenticated
 * response. The counters live behind `RateLimitStore`: in memory for one process, or in
 * PostgreSQL (`PostgresRateLimitStore`) so that every replica on the same database shares them.
 */
import type { Plugin } from 'graphql-yoga';
import type { RateLimitHit } from '../infra/database/rate-limit-store.ts';
import { rateLimited } from './graphql-errors.ts';
import { requestState, type RateLimitStatus } from './request-state.ts';

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
