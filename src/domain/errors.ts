/**
 * The errors a customer write can report. They are plain data, returned rather than thrown,
 * because one request reports all of its errors together; the GraphQL layer maps them to its
 * typed error unions in one place.
 */

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

export function refused(errors: DomainError[]): { customer: null; errors: DomainError[] } {
  return { customer: null, errors };
}

/**
 * Thrown inside a transaction to roll it back when the database itself refuses the write (a
 * unique index lost a race). Whoever opened the transaction turns it back into a result.
 */
export class WriteRefused extends Error {
  override name = 'WriteRefused';
  constructor(readonly errors: DomainError[]) {
    super(errors.map((error) => `${error.code} at ${error.path.join('.')}`).join(', '));
  }
}
