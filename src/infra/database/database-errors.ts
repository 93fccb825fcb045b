/**
 * Driver failures as a few typed errors. node-postgres, Prisma's query API and Prisma's raw
 * queries each report a failure in their own shape; `databaseError` reads all three once, here,
 * so that nothing above this folder sniffs codes.
 */

/** A unique index refused a row; `constraint` names the index (e.g. customers_email_key). */
export class UniqueViolation extends Error {
  override name = 'UniqueViolation';
  constructor(readonly constraint: string | undefined) {
    super(`unique violation${constraint ? ` on ${constraint}` : ''}`);
  }
}

/** The database cannot be reached right now (down, restarting, connection cut): worth a retry. */
export class DatabaseUnavailable extends Error {
  override name = 'DatabaseUnavailable';
  constructor(readonly code: string | undefined) {
    super(`the database is unavailable${code ? ` (${code})` : ''}`);
  }
}

/** A serializable transaction lost to a concurrent one (SQLSTATE 40001): worth a retry. */
export class SerializationFailure extends Error {
  override name = 'SerializationFailure';
}

/** Any other failure, without the driver's message, which can quote the statement's values. */
export class DatabaseFailure extends Error {
  override name = 'DatabaseFailure';
  constructor(readonly code: string | undefined) {
    super(`the database refused the statement${code ? ` (${code})` : ''}`);
  }
}

/** SQLSTATEs and socket codes that mean "no database right now", not "this request is wrong". */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH',
  '57P01', '57P02', '57P03', // terminated by an administrator, crash, starting up or shutting down
  '53300', // too many connections
  'P1001', 'P1002', 'P1008', 'P1017', 'P2024', // Prisma: unreachable, timed out, connection closed, pool timeout
]);
const UNAVAILABLE_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
/** node-postgres and its pool say these without a code. */
const UNAVAILABLE_MESSAGE =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error and is not queryable|Client was closed and is not queryable)/;

interface Facts {
  /** SQLSTATE or socket code. */
  code: string | undefined;
  constraint: string | undefined;
  unavailable: boolean;
}

/** What an error and the errors it wraps (a cause, a Prisma driver adapter error) say. */
function factsOf(error: unknown): Facts {
  const facts: Facts = { code: undefined, constraint: undefined, unavailable: false };
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    if (current instanceof DatabaseUnavailable) facts.unavailable = true;
    const { code, kind, originalCode, message, meta, constraint } = current as Record<string, unknown>;
    for (const candidate of [originalCode, code]) {
      if (typeof candidate !== 'string') continue;
      if (/^[0-9A-Z]{5}$/.test(candidate) && !candidate.startsWith('P')) facts.code ??= candidate;
      if (UNAVAILABLE_CODES.has(candidate) || /^08[0-9A-Z]{3}$/.test(candidate)) facts.unavailable = true;
    }
    if (typeof kind === 'string' && UNAVAILABLE_KINDS.has(kind)) facts.unavailable = true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) facts.unavailable = true;
    // node-postgres names the index as a string; Prisma's adapter as { index }.
    if (typeof constraint === 'string') facts.constraint ??= constraint;
    else if (typeof (constraint as { index?: unknown } | undefined)?.index === 'string') facts.constraint ??= (constraint as { index: string }).index;
    if (kind === 'UniqueConstraintViolation' || code === 'P2002') facts.code ??= '23505';
    const adapter = (meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError;
    const next = current as { originalError?: unknown; cause?: unknown };
    current = adapter ?? next.originalError ?? next.cause;
  }
  return facts;
}

/**
 * True when an error, or one it wraps, says the database cannot be reached: it is down,
 * restarting, or the connection was cut.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  return factsOf(error).unavailable;
}

/**
 * A driver or Prisma failure as one of the typed errors above; anything else (a bug) unchanged.
 * Prisma's messages can quote a call's arguments (a new password's hash): they never go on.
 */
export function databaseError(error: unknown): unknown {
  if (!isDriverOrPrismaError(error)) return error;
  const facts = factsOf(error);
  if (facts.unavailable) return new DatabaseUnavailable(facts.code);
  if (facts.code === '23505') return new UniqueViolation(facts.constraint);
  if (facts.code === '40001') return new SerializationFailure('the transaction lost to a concurrent one; retry it');
  return new DatabaseFailure(facts.code);
}

function isDriverOrPrismaError(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof UniqueViolation || error instanceof DatabaseUnavailable) return false;
  if (error instanceof SerializationFailure || error instanceof DatabaseFailure) return false;
  // Prisma's errors carry its version; node-postgres' DatabaseError a SQLSTATE and a severity.
  return 'clientVersion' in error || ('severity' in error && 'code' in error) || factsOf(error).unavailable;
}
