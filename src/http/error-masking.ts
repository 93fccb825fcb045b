/**
 * What clients may see of an error. Our own errors (GraphQL errors made on purpose, with an
 * `extensions.code`) go through as they are; anything else (a bug, a Prisma or driver error) is
 * replaced by "Unexpected error." with code INTERNAL_SERVER_ERROR (or, when the database cannot be
 * reached or the service is overloaded, a retryable SERVICE_UNAVAILABLE with status 503), and its
 * details reach only the log.
 */
import { GraphQLError } from 'graphql';
import { maskError as yogaMaskError } from 'graphql-yoga';
import { isDatabaseUnavailable } from '../infra/database/database-errors.ts';
import { Overloaded } from '../domain/errors.ts';
import { databaseUnavailable, overloaded } from './graphql-errors.ts';

/** The error a masked one replaced, for the request log; never serialised to the client. */
const originals = new WeakMap<Error, unknown>();
const maskedOriginals = new WeakSet<object>();

export function maskError(error: unknown, message: string): Error {
  // isDev false: yoga would otherwise copy the original message and stack into `extensions`
  // whenever NODE_ENV is "development".
  let masked = yogaMaskError(error, message, false);
  if (masked !== error) {
    const original = error instanceof GraphQLError && error.originalError ? error.originalError : error;
    const at = masked instanceof GraphQLError ? { nodes: masked.nodes, source: masked.source, positions: masked.positions, path: masked.path } : {};
    if (isDatabaseUnavailable(original)) masked = databaseUnavailable(at);
    else if (original instanceof Overloaded) masked = overloaded(original.message, original.retryAfterMs, at);
    originals.set(masked, original);
    if (typeof original === 'object' && original !== null) maskedOriginals.add(original);
    if (typeof error === 'object' && error !== null) maskedOriginals.add(error);
  }
  return masked;
}

/** The unexpected error behind a masked one, if this is a masked one. */
export function originalOf(error: Error): unknown {
  return originals.get(error);
}

/** True for errors already reported through `originalOf` (so yoga's own logger can skip them). */
export function wasMasked(error: unknown): boolean {
  return typeof error === 'object' && error !== null && maskedOriginals.has(error);
}
