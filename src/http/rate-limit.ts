/**
 * Rate limiting in fixed windows, with BigCommerce's headers on every response it counts: per
 * token, and per client address for requests without a token or with one that was refused. A
 * request takes from the quota by its cost: one request per `POINTS_PER_REQUEST` points
 * (http/cost-limit.ts), at least one. The counters live behind `RateLimitStore`: in memory for
 * one process, or in PostgreSQL (`PostgresRateLimitStore`) so that every replica on the same
 * database shares them.
 */
import type { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { RateLimitHit } from '../infra/database/rate-limit-store.ts';
import { addressBucket, clientAddress, type TrustProxy } from './client-address.ts';
import { errorCode, rateLimited } from './graphql-errors.ts';
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
  /** Requests allowed per token and window; 0: tokens are not limited. */
  requests: number;
  /** Requests allowed per client address and window without a valid token; 0: not limited. */
  anonymousRequests: number;
  windowMs: number;
  store: RateLimitStore;
  /** How far X-Forwarded-For is believed (http/client-address.ts). */
  trustProxy: TrustProxy;
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

interface Bucket {
  key: string;
  quota: number;
  /** Who ran out, for the 429's message. */
  whose: string;
}

/**
 * Runs after authentication, which names the token. Each request takes one request when it
 * arrives, before any parsing, and the rest of its cost once it is validated and measured,
 * before it runs. A refused token is counted against its address when its 401 is answered.
 */
export function useRateLimit({ requests, anonymousRequests, windowMs, store, trustProxy, onStoreError }: RateLimitOptions): Plugin {
  const buckets = new WeakMap<Request, Bucket>();
  const bucketOf = (request: Request, serverContext: unknown): Bucket | undefined => {
    const { principal } = requestState(request);
    if (principal) return requests > 0 ? { key: `token:${principal.tokenId}`, quota: requests, whose: 'this API token' } : undefined;
    if (anonymousRequests <= 0) return undefined;
    const address = clientAddress(socketAddressOf(serverContext), request.headers.get('x-forwarded-for'), trustProxy);
    return { key: `address:${addressBucket(address)}`, quota: anonymousRequests, whose: 'this address without a valid API token' };
  };
  /** Counts `count` requests; the error to answer when that goes past the quota. */
  const charge = async (request: Request, bucket: Bucket, count: number): Promise<GraphQLError | undefined> => {
    let hit: RateLimitHit;
    try {
      hit = await store.hit(bucket.key, windowMs, count);
    } catch (error) {
      onStoreError?.(error);
      return undefined;
    }
    const { quota } = bucket;
    requestState(request).rateLimit = { quota, left: Math.max(0, quota - hit.count), resetMs: hit.resetMs, windowMs };
    if (hit.count <= quota) return undefined;
    return rateLimited(`Too many requests for ${bucket.whose}; retry after ${HEADER_OF.resetMs}`, hit.resetMs);
  };
  // The rest of an operation's cost, once it is measured (http/cost-limit.ts) and before it runs.
  // Synchronous unless there is more to charge: an async hook on every request would put a
  // promise on the execution path of requests that cost one.
  const chargeRest = ({ args }: { args: { contextValue?: unknown } }) => {
    const request = (args.contextValue as { request?: Request }).request;
    const bucket = request && buckets.get(request);
    if (!bucket) return;
    const rest = requestsFor(requestState(request).cost ?? 0) - 1;
    if (rest <= 0) return;
    return charge(request, bucket, rest).then((refused) => {
      if (refused) throw refused;
    });
  };
  return {
    async onParams({ request, context }) {
      const bucket = bucketOf(request, context);
      if (!bucket) return;
      buckets.set(request, bucket);
      const refused = await charge(request, bucket, 1);
      if (refused) throw refused;
    },
    onExecute: chargeRest,
    // A subscription is charged once, as it starts, however long it stays open.
    onSubscribe: chargeRest,
    // Authentication refuses an unknown or revoked token in onParams, before the hook above: the
    // 401 is counted here, and answered as 429 once the address is over its quota. (Logs and
    // metrics, which read the result earlier, still show it as UNAUTHENTICATED.)
    onResultProcess({ request, result, setResult, serverContext }) {
      if (buckets.has(request) || !isUnauthenticated(result)) return;
      const bucket = bucketOf(request, serverContext);
      if (!bucket) return;
      buckets.set(request, bucket);
      return charge(request, bucket, 1).then((refused) => {
        if (refused) setResult({ errors: [refused] });
      });
    },
    onResponse({ request, response }) {
      const limit = requestState(request).rateLimit;
      if (!limit) return;
      for (const [field, header] of Object.entries(HEADER_OF)) response.headers.set(header, String(limit[field as keyof RateLimitStatus]));
    },
  };
}

function isUnauthenticated(result: unknown): boolean {
  const errors = (result as { errors?: ReadonlyArray<{ extensions?: Record<string, unknown> }> } | null)?.errors;
  return Array.isArray(errors) && errors.some((error) => errorCode(error) === 'UNAUTHENTICATED');
}

/** The socket's address, from the node:http request in yoga's server context (none under `fetch`). */
function socketAddressOf(serverContext: unknown): string | undefined {
  return (serverContext as { req?: { socket?: { remoteAddress?: string } } } | undefined)?.req?.socket?.remoteAddress;
}
