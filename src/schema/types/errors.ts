/**
 * The one error-mapping module: the `Error` interface, its object types, `ErrorCode`, the
 * payload unions, and the mapping from the domain's plain errors to them; and the domain's
 * refusals that are about no input field, as top-level errors.
 */
import { createGraphQLError } from 'graphql-yoga';
import { IdempotencyKeyLimitReached, ReplayUnavailable, type DomainError, type ErrorCode } from '../../domain/errors.ts';
import { rateLimited } from '../../http/graphql-errors.ts';
import { builder } from '../builder.ts';

type ErrorTypename = 'ValidationError' | 'EmailAlreadyInUseError' | 'CustomerNotFoundError' | 'VersionConflictError' | 'IdempotencyKeyReusedError';

export type ErrorShape = DomainError & { typename: ErrorTypename };

const TYPENAME_BY_CODE: Record<ErrorCode, ErrorTypename> = {
  INVALID: 'ValidationError',
  REQUIRED: 'ValidationError',
  TOO_LONG: 'ValidationError',
  PASSWORD_MISMATCH: 'ValidationError',
  PASSWORD_TOO_WEAK: 'ValidationError',
  TAKEN: 'EmailAlreadyInUseError',
  NOT_FOUND: 'CustomerNotFoundError',
  VERSION_CONFLICT: 'VersionConflictError',
  IDEMPOTENCY_KEY_REUSED: 'IdempotencyKeyReusedError',
};

export function toErrorShapes(errors: readonly DomainError[]): ErrorShape[] {
  return errors.map((error) => ({ ...error, typename: TYPENAME_BY_CODE[error.code] }));
}

/** For payloads whose errors are all ValidationErrors (the webhook mutations), whatever their code. */
export function toValidationErrors(errors: readonly DomainError[]): ErrorShape[] {
  return errors.map((error) => ({ ...error, typename: 'ValidationError' }));
}

/**
 * A write's refusals that no payload error type describes, as top-level errors: too many new
 * idempotency keys (429 RATE_LIMITED, as for too many requests, with Retry-After), and a completed
 * request whose response cannot be rebuilt (409 IDEMPOTENCY_REPLAY_UNAVAILABLE). Anything else goes on.
 */
export function refusalAsGraphQLError(error: unknown): never {
  if (error instanceof IdempotencyKeyLimitReached) throw rateLimited(error.message, error.retryAfterMs);
  if (error instanceof ReplayUnavailable) {
    throw createGraphQLError(error.message, { extensions: { code: 'IDEMPOTENCY_REPLAY_UNAVAILABLE', http: { status: 409 } } });
  }
  throw error;
}

export const ErrorCodeEnum = builder.enumType('ErrorCode', {
  description: 'What went wrong, for programs to switch on (messages are for people and may change).',
  values: {
    INVALID: { description: 'The value is not acceptable for this field (format, range, or a contradiction).' },
    REQUIRED: { description: 'The field must have a value: it was left out, null or blank.' },
    TOO_LONG: { description: 'The value has more characters than the field allows, or there would be more items than allowed (batch items, webhook endpoints).' },
    TAKEN: { description: 'Another customer already uses this email address (compared without regard to case).' },
    NOT_FOUND: { description: 'Nothing has this id: no customer, or no webhook endpoint (see `path`).' },
    PASSWORD_MISMATCH: { description: '`passwordConfirmation` differs from `password`.' },
    PASSWORD_TOO_WEAK: { description: 'The password does not meet the password policy (see the `passwordPolicy` query).' },
    VERSION_CONFLICT: { description: 'The customer changed since the version given as `expectedVersion`.' },
    IDEMPOTENCY_KEY_REUSED: { description: 'The idempotency key was already used with different arguments.' },
  } satisfies Record<ErrorCode, { description: string }>,
});

export const ErrorInterface = builder.interfaceRef<ErrorShape>('Error').implement({
  description: 'A reason a mutation wrote nothing. Every error of a request is reported together.',
  resolveType: (error) => error.typename,
  fields: (t) => ({
    message: t.exposeString('message', { description: 'An explanation for people; do not parse it.' }),
    code: t.field({ type: ErrorCodeEnum, description: 'What went wrong, for programs.', resolve: (error) => error.code }),
    path: t.exposeStringList('path', {
      description: 'The argument the error is about, e.g. ["input", "email"] or ["input", "authentication", "passwordConfirmation"].',
    }),
  }),
});

function errorObject(name: ErrorTypename, description: string) {
  return builder.objectRef<ErrorShape>(name).implement({ description, interfaces: [ErrorInterface] });
}

export const ValidationError = errorObject(
  'ValidationError',
  'An input field is missing, malformed, too long, or a password is refused (see `code`).',
);
export const EmailAlreadyInUseError = errorObject(
  'EmailAlreadyInUseError',
  'Another customer already uses the email address (code TAKEN), compared without regard to case.',
);
export const CustomerNotFoundError = errorObject('CustomerNotFoundError', 'No customer has the given id (code NOT_FOUND).');
export const IdempotencyKeyReusedError = errorObject(
  'IdempotencyKeyReusedError',
  'The idempotency key was used before with different arguments (code IDEMPOTENCY_KEY_REUSED).',
);
export const VersionConflictError = builder.objectRef<ErrorShape>('VersionConflictError').implement({
  description: 'The customer is no longer at `expectedVersion` (code VERSION_CONFLICT): read it again, then retry.',
  interfaces: [ErrorInterface],
  fields: (t) => ({
    currentVersion: t.int({
      description: 'The version the customer is at now.',
      resolve: (error) => (error.code === 'VERSION_CONFLICT' ? error.currentVersion : 0),
    }),
  }),
});

export const UpdateCustomerError = builder.unionType('UpdateCustomerError', {
  description: 'Why updateCustomer wrote nothing.',
  types: [ValidationError, EmailAlreadyInUseError, CustomerNotFoundError, VersionConflictError, IdempotencyKeyReusedError],
  resolveType: (error) => error.typename,
});

export const CreateCustomerError = builder.unionType('CreateCustomerError', {
  description: 'Why createCustomer wrote nothing.',
  types: [ValidationError, EmailAlreadyInUseError, IdempotencyKeyReusedError],
  resolveType: (error) => error.typename,
});
