/**
 * The errors the service makes on purpose, each with its `extensions.code` and HTTP status, made
 * here only: clients switch on the code, so each is written once. The schema's scope checks use
 * them too; nothing here imports the schema.
 */
import type { GraphQLErrorOptions } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';

export function unauthenticated(message = 'A valid API token is required (X-Auth-Token or Authorization: Bearer)') {
  return createGraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}

export function forbidden(message = 'This token does not have the scope this field needs') {
  return createGraphQLError(message, { extensions: { code: 'FORBIDDEN', http: { status: 403 } } });
}

export function rateLimited(message: string, retryAfterMs: number) {
  const retryAfter = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
  return createGraphQLError(message, { extensions: { code: 'RATE_LIMITED', http: { status: 429, headers: { 'Retry-After': retryAfter } } } });
}

/**
 * A token holds as many live subscriptions as it may at once (MAX_SUBSCRIPTIONS_PER_TOKEN): 429
 * with its own code, since unlike RATE_LIMITED no time will lift it, only ending one of them.
 */
export function tooManySubscriptions(limit: number) {
  return createGraphQLError(`This API token already has the most subscriptions open that it may hold at once (${limit}); end one before starting another`, {
    extensions: { code: 'TOO_MANY_SUBSCRIPTIONS', http: { status: 429 } },
  });
}

/** A field argument no answer can be made from (a page cursor this API did not give out): 400. */
export function badUserInput(message: string) {
  return createGraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', http: { status: 400 } } });
}

export function badRequest(message: string) {
  return createGraphQLError(message, { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } });
}

/** yoga's own words and code for a body over the limit. */
export function requestTooLarge() {
  return createGraphQLError('Request body too large', { extensions: { code: 'REQUEST_ENTITY_TOO_LARGE', http: { status: 413 } } });
}

export function queryTooComplex(message: string) {
  return createGraphQLError(message, { extensions: { code: 'QUERY_TOO_COMPLEX', http: { status: 400 } } });
}

/**
 * The database is unreachable: a reason to retry later rather than an "Unexpected error." that
 * reads like a bug. `at` keeps the place in the document of the error it stands for.
 */
export function databaseUnavailable(at: Pick<GraphQLErrorOptions, 'nodes' | 'source' | 'positions' | 'path'> = {}) {
  return createGraphQLError('The database is unavailable right now; try again shortly.', {
    ...at,
    extensions: { code: 'SERVICE_UNAVAILABLE', http: { status: 503 } },
  });
}

/** Too busy for this request right now (a full password-hashing queue): retry after a moment. */
export function overloaded(message: string, retryAfterMs: number, at: Pick<GraphQLErrorOptions, 'nodes' | 'source' | 'positions' | 'path'> = {}) {
  const retryAfter = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
  return createGraphQLError(message, {
    ...at,
    extensions: { code: 'SERVICE_UNAVAILABLE', http: { status: 503, headers: { 'Retry-After': retryAfter } } },
  });
}

/** The `extensions.code` of an error in a response, UNKNOWN when it has none. */
export function errorCode(error: { extensions?: Record<string, unknown> }): string {
  const code = error.extensions?.['code'];
  return typeof code === 'string' ? code : 'UNKNOWN';
}
