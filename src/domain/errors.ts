/**
 * The errors a customer write can report. They are plain data, returned rather than thrown,
 * because one request reports all of its errors together; the GraphQL layer maps them to its
 * typed error unions in one place.
 */

import { FIELD_NAMES } from './customer-fields.ts';

export const ERROR_CODES = [
  'INVALID',
  'REQUIRED',
  'TOO_LONG',
  'TAKEN',
  'NOT_FOUND',
  'PASSWORD_MISMATCH',
  'PASSWORD_TOO_WEAK',
  'VERSION_CONFLICT',
  'IDEMPOTENCY_KEY_REUSED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Where in the mutation's arguments the problem is, e.g. ["input", "email"]. */
export type ErrorPath = readonly string[];

/** Every code but VERSION_CONFLICT, which also carries the version the customer is at. */
export type PlainErrorCode = Exclude<ErrorCode, 'VERSION_CONFLICT'>;

export type DomainError =
  | { code: PlainErrorCode; path: ErrorPath; message: string }
  | { code: 'VERSION_CONFLICT'; path: ErrorPath; message: string; currentVersion: number };

/** What every write returns: the customer as it now is, or the reasons nothing was written. */
export type WriteResult<T> = { customer: T; errors: [] } | { customer: null; errors: DomainError[] };

/** What a write of several customers returns (a batch, or any write behind an idempotency key). */
export type WriteResults<T> = { customers: T[]; errors: [] } | { customers: null; errors: DomainError[] };

/** Thrown inside a transaction to roll it back; whoever opened the transaction turns it back into a result. */
export class WriteRefused extends Error {
  override name = 'WriteRefused';
  constructor(readonly errors: DomainError[]) {
    super(errors.map((error) => `${error.code} at ${error.path.join('.')}`).join(', '));
  }
}

export function notFound(path: ErrorPath): DomainError {
  return { code: 'NOT_FOUND', path, message: 'No customer has this id' };
}

export function versionConflict(path: ErrorPath, currentVersion: number, expectedVersion: number | null): DomainError {
  return {
    code: 'VERSION_CONFLICT',
    path,
    message: `The customer is at version ${currentVersion}, not ${expectedVersion}: read it again and retry`,
    currentVersion,
  };
}

export function emailTaken(path: ErrorPath, email: string): DomainError {
  return { code: 'TAKEN', path, message: `Another customer already uses ${email}` };
}

const RANK = new Map<string, number>([
  ['id', -2],
  ['expectedVersion', -1],
  ...FIELD_NAMES.map((field, index) => [field, index] as const),
  ['authentication', FIELD_NAMES.length],
  ['idempotencyKey', FIELD_NAMES.length + 1],
]);

/**
 * Errors in the order of the arguments and fields they are about. `base` is where one write's
 * arguments sit (["items", "3"] for a batch item).
 */
export function inOrder(errors: readonly DomainError[], base: ErrorPath = []): DomainError[] {
  const rank = (error: DomainError) => {
    const path = error.path.slice(base.length);
    return RANK.get(path[0] === 'input' ? (path[1] ?? '') : (path[0] ?? '')) ?? 0;
  };
  return [...errors].sort((a, b) => rank(a) - rank(b));
}

/** The service is too busy for this request right now; the client may retry after `retryAfterMs`. */
export class Overloaded extends Error {
  override name = 'Overloaded';
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/** The token used its daily number of new idempotency keys; a new one is accepted after `retryAfterMs`. */
export class IdempotencyKeyLimitReached extends Error {
  override name = 'IdempotencyKeyLimitReached';
  constructor(
    message: string,
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

/**
 * The request was completed before under this key, but its response cannot be rebuilt: a customer
 * it answered with was deleted, or its history no longer reaches back to that version.
 */
export class ReplayUnavailable extends Error {
  override name = 'ReplayUnavailable';
}
