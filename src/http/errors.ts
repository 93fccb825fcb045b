/**
 * What clients may see of an error. Our own errors (GraphQL errors made on purpose, with an
 * `extensions.code`) go through as they are; anything else (a bug, a Prisma or driver error) is
 * replaced by "Unexpected error." with code INTERNAL_SERVER_ERROR (or, when the database cannot be
 * reached, a retryable SERVICE_UNAVAILABLE with status 503), and its details reach only the log.
 * Input coercion errors lose the value the client sent, so no password is ever echoed back.
 */
import { GraphQLError } from 'graphql';
import { createGraphQLError, maskError as yogaMaskError } from 'graphql-yoga';

/** The error a masked one replaced, for the request log; never serialised to the client. */
const originals = new WeakMap<Error, unknown>();
const maskedOriginals = new WeakSet<object>();

export function maskError(error: unknown, message: string): Error {
  // isDev false: yoga would otherwise copy the original message and stack into `extensions`
  // whenever NODE_ENV is "development".
  let masked = yogaMaskError(error, message, false);
  if (masked !== error) {
    const original = error instanceof GraphQLError && error.originalError ? error.originalError : error;
    if (isDatabaseUnavailable(original)) masked = databaseUnavailable(masked);
    originals.set(masked, original);
    if (typeof original === 'object' && original !== null) maskedOriginals.add(original);
    if (typeof error === 'object' && error !== null) maskedOriginals.add(error);
  }
  return masked;
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

/**
 * What a client sees when the database is unreachable: 503 and SERVICE_UNAVAILABLE, a reason to
 * retry later, instead of an "Unexpected error." that reads like a bug. Still without details.
 */
function databaseUnavailable(masked: Error): Error {
  const at = masked instanceof GraphQLError ? { nodes: masked.nodes, source: masked.source, positions: masked.positions, path: masked.path } : {};
  return createGraphQLError('The database is unavailable right now; try again shortly.', {
    ...at,
    extensions: { code: 'SERVICE_UNAVAILABLE', http: { status: 503 } },
  });
}

/** The unexpected error behind a masked one, if this is a masked one. */
export function originalOf(error: Error): unknown {
  return originals.get(error);
}

/** True for errors already reported through `originalOf` (so yoga's own logger can skip them). */
export function wasMasked(error: unknown): boolean {
  return typeof error === 'object' && error !== null && maskedOriginals.has(error);
}

/**
 * A loggable description of an unexpected error. Prisma's messages can quote the arguments of
 * the failed call (customer data), so for those only the class and code are kept.
 */
export function describeError(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { type: typeof error };
  const code = (error as { code?: unknown }).code;
  if (/^Prisma|DriverAdapter/.test(error.name)) return { type: error.name, code };
  return { type: error.name, code, message: error.message, stack: error.stack };
}

export function errorCode(error: { extensions?: Record<string, unknown> }): string {
  const code = error.extensions?.['code'];
  return typeof code === 'string' ? code : 'UNKNOWN';
}

const COERCION_HEAD = /^Variable "\$[_A-Za-z][_0-9A-Za-z]*" got invalid value /;

/**
 * The message of a variable coercion error without the values the client sent. graphql-js
 * writes `Variable "$input" got invalid value <value> at "input.x"; <reason>`, where the value is
 * printed as GraphQL/JSON (strings quoted and escaped) and the reason may quote it again after a
 * colon (`String cannot represent a non string value: <value>`).
 */
export function withoutInputValues(message: string): string {
  const head = COERCION_HEAD.exec(message);
  if (!head) return message;
  // Find where the printed value ends: the first ` at "` or `; ` outside a string literal.
  let i = head[0].length;
  let inString = false;
  for (; i < message.length; i++) {
    const c = message[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (message.startsWith(' at "', i) || message.startsWith('; ', i)) break;
  }
  const rest = message.slice(i);
  const at = /^ at "[^"]*"/.exec(rest)?.[0] ?? '';
  const reason = rest.slice(at.length).replace(/^; /, '');
  const colon = reason.indexOf(': ');
  const cleanReason = colon === -1 ? reason : `${reason.slice(0, colon)}.`;
  return `${head[0].trimEnd()}${at}${cleanReason ? `; ${cleanReason}` : ''}`;
}

export function unauthenticated(message = 'A valid API token is required (X-Auth-Token or Authorization: Bearer)') {
  return createGraphQLError(message, { extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } } });
}
