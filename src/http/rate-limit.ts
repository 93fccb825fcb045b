/**
 * Per-token rate limiting in fixed windows, with BigCommerce's headers on every authenticated
 * response. A request takes from the quota by its cost: one request per `POINTS_PER_REQUEST`
 * points (http/cost-limit.ts), at least one. The counters live behind `RateLimitStore`: in
 * memory for one process, or in PostgreSQL (`PostgresRateLimitStore`) so that every replica on
 * the same database shares them.
 */
import type { Plugin } from 'graphql-yoga';
import type { RateLimitHit } from '../infra/database/rate-limit-store.ts';
import { rateLimited } from './graphql-errors.ts';
import { requestState, type RateLimitStatus } from './request-state.ts';

export interface RateLimitStore {
  /** Counts `requests` (default 1) for `bucket` in the current window of `windowMs`. */
  hit(bucket: string, windowMs: number, requests?: number): Promise<RateLimitHit>;
  /** Releases what the store holds (connections); called once at shutdown. */
  close?(): Promise<void>;
}

/** Counters of this process only: right for a single instance, wrong behind a load balancer. */
export class MemoryRateLimitStore implements RateLimitStore {
  private readonly windows = new Map<string, { start: number; count: number }>();
  private nextSweep = 0;

  constructor(private readonly now: () => number = Date.now) {}

  async hit(bucket: string, windowMs: number, requests = 1): Promise<RateLimitHit> {
    const now = this.now();
    const start = now - (now % windowMs);
    if (now >= this.nextSweep) {
      // Forget buckets whose window is over, at most once per window.
      for (const [key, window] of this.windows) if (window.start < start) this.windows.delete(key);
      this.nextSweep = start + windowMs;
    }
    let window = this.windows.get(bucket);
    if (!window || window.start !== start) this.windows.set(bucket, (window = { start, count: 0 }));
    window.count += requests;
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

/**
 * A request's cost in requests of the quota: one per this many points, started, so a typical
 * request (a customer, a page of 20, a write) counts as one.
 */
export const POINTS_PER_REQUEST = 100;

export function requestsFor(cost: number): number {
  return Math.max(1, Math.ceil(cost / POINTS_PER_REQUEST));
}

/** BigCommerce's header for each figure of the current window. */
const HEADER_OF = {
  quota: 'X-Rate-Limit-Requests-Quota',
  left: 'X-Rate-Limit-Requests-Left',
  resetMs: 'X-Rate-Limit-Time-Reset-Ms',
  windowMs: 'X-Rate-Limit-Time-Window-Ms',
} as const satisfies Record<keyof RateLimitStatus, string>;

export const RATE_LIMIT_HEADERS = Object.values(HEADER_OF);

/**
 * Runs after authentication: anonymous requests carry no token to count against. Each request
 * takes one request when it arrives, before any parsing, and the rest of its cost once it is
 * validated and measured, before it runs.
 */
export function useRateLimit({ requests, windowMs, store, onStoreError }: RateLimitOptions): Plugin {
  const charge = async (request: Request, bucket: string, count: number) => {
    const state = requestState(request);
    let hit: RateLimitHit;
    try {
      hit = await store.hit(bucket, windowMs, count);
    } catch (error) {
      onStoreError?.(error);
      return;
    }
    state.rateLimit = { quota: requests, left: Math.max(0, requests - hit.count), resetMs: hit.resetMs, windowMs };
    if (hit.count > requests) {
      throw rateLimited(`Too many requests for this API token; retry after ${HEADER_OF.resetMs}`, hit.resetMs);
    }
  };
  const bucketOf = (request: Request) => {
    const { principal } = requestState(request);
    return principal ? `token:${principal.tokenId}` : undefined;
  };
  return {
    async onParams({ request }) {
      const bucket = bucketOf(request);
      if (bucket) await charge(request, bucket, 1);
    },
    async onExecute({ args }) {
      const request = (args.contextValue as { request?: Request }).request;
      const bucket = request && bucketOf(request);
      if (!bucket) return;
      const rest = requestsFor(requestState(request).cost ?? 0) - 1;
      if (rest > 0) await charge(request, bucket, rest);
    },
    onResponse({ request, response }) {
      const limit = requestState(request).rateLimit;
      if (!limit) return;
      for (const [field, header] of Object.entries(HEADER_OF)) response.headers.set(header, String(limit[field as keyof RateLimitStatus]));
    },
  };
}
