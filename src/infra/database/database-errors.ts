/** What the driver's and Prisma's errors mean, for the layers above that must not know their codes. */

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

/**
 * True when an error, or one it wraps (a GraphQL error's original, a cause, a Prisma driver
 * adapter error), says the database cannot be reached: it is down, restarting, or the
 * connection was cut.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth++) {
    const { code, kind, originalCode, message, meta } = current as Record<string, unknown>;
    if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
    if (typeof originalCode === 'string' && (UNAVAILABLE_CODES.has(originalCode) || /^08[0-9A-Z]{3}$/.test(originalCode))) return true;
    if (typeof kind === 'string' && UNAVAILABLE_KINDS.has(kind)) return true;
    if (typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message)) return true;
    const adapter = (meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError;
    const next = current as { originalError?: unknown; cause?: unknown };
    current = adapter ?? next.originalError ?? next.cause;
  }
  return false;
}
