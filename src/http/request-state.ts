/**
 * What the HTTP plugins learn about one request as it goes through them (who sent it, which
 * operation, which errors), kept beside the request so the last plugin can log and count it.
 */
import { randomUUID } from 'node:crypto';
import type { Principal } from '../domain/principal.ts';

export interface RateLimitStatus {
  quota: number;
  left: number;
  resetMs: number;
  windowMs: number;
}

export interface RequestState {
  id: string;
  startedAt: number;
  principal: Principal | null;
  operationName: string | undefined;
  operationType: string | undefined;
  rateLimit: RateLimitStatus | undefined;
  /** What the operation costs (http/cost-limit.ts), once it is validated. */
  cost: number | undefined;
  /** `extensions.code` of every error in the response, in order. */
  errorCodes: string[];
}

const states = new WeakMap<Request, RequestState>();

// An id from a proxy in front is kept, so one request can be followed across both logs; anything
// that does not look like an id is replaced rather than copied into logs and headers.
const FORWARDED_ID = /^[\w.:-]{1,128}$/;

export function requestState(request: Request): RequestState {
  let state = states.get(request);
  if (!state) {
    const forwarded = request.headers.get('x-request-id');
    state = {
      id: forwarded && FORWARDED_ID.test(forwarded) ? forwarded : randomUUID(),
      startedAt: performance.now(),
      principal: null,
      operationName: undefined,
      operationType: undefined,
      rateLimit: undefined,
      cost: undefined,
      errorCodes: [],
    };
    states.set(request, state);
  }
  return state;
}

const NAME = /^[_A-Za-z][_0-9A-Za-z]{0,127}$/;

/** A client-sent operation name, kept only when it is a GraphQL name (it reaches logs and metrics). */
export function operationNameOf(value: unknown): string | undefined {
  return typeof value === 'string' && NAME.test(value) ? value : undefined;
}
