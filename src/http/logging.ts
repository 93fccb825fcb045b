/**
 * Structured logs: one JSON line per request (request id, operation, token id, status, duration,
 * error codes) and one per unexpected error, with the same request id. Neither variables nor the
 * query text are ever logged (either may hold a password); redaction below is a second guard.
 */
import { getOperationAST, type DocumentNode } from 'graphql';
import type { Plugin, YogaLogger } from 'graphql-yoga';
import { pino, type Logger } from 'pino';
import { withoutInputValues } from './coercion-messages.ts';
import { describeError } from './error-description.ts';
import { originalOf, wasMasked } from './error-masking.ts';
import { errorCode } from './graphql-errors.ts';
import { operationNameOf, requestState } from './request-state.ts';

export type { Logger } from 'pino';

/**
 * Keys never written, should a future log call pass variables, a query or headers. Exact paths
 * only: wildcard paths make pino walk every line, and the lines above never carry these keys.
 */
export const REDACTED_PATHS = ['variables', 'query', 'password', 'params', 'headers.authorization', 'headers["x-auth-token"]'];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'customer-gateway' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  // Standard output written asynchronously and in batches: a request's line joins a buffer that is
  // written once it holds 4 KiB, or at the latest 200 ms later, instead of a write of its own per
  // request. pino writes what is left synchronously when the process exits.
  return pino(options, destination ?? pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 200 }));
}

/** Yoga's own log calls, into the same logger; errors already logged with their request are skipped. */
export function yogaLogger(logger: Logger): YogaLogger {
  return {
    debug: (...args: unknown[]) => logger.debug({ source: 'yoga' }, args.map(String).join(' ')),
    info: (...args: unknown[]) => logger.info({ source: 'yoga' }, args.map(String).join(' ')),
    warn: (...args: unknown[]) => logger.warn({ source: 'yoga' }, args.map(String).join(' ')),
    error: (...args: unknown[]) => {
      const [first] = args;
      if (wasMasked(first)) return;
      logger.error({ source: 'yoga', error: describeError(first) }, 'yoga error');
    },
  };
}

export interface RequestLoggingOptions {
  logger: Logger;
  graphqlEndpoint: string;
  /** Probes hit these every few seconds: their lines go to debug. */
  quietPaths: readonly string[];
}

/** The operation that runs, as it starts (a query or mutation executes, a subscription subscribes). */
function noteOperation({ args }: { args: { contextValue?: unknown; document: DocumentNode; operationName?: string | null | undefined } }): void {
  const request = (args.contextValue as { request?: Request }).request;
  if (!request) return;
  const operation = getOperationAST(args.document, args.operationName);
  const state = requestState(request);
  state.operationType = operation?.operation;
  state.operationName = operation?.name?.value ?? state.operationName;
}

export function useRequestLogging({ logger, graphqlEndpoint, quietPaths }: RequestLoggingOptions): Plugin {
  return {
    onRequest({ request }) {
      requestState(request);
    },
    onParams({ request, params }) {
      requestState(request).operationName = operationNameOf(params.operationName);
    },
    onExecute: noteOperation,
    onSubscribe: noteOperation,
    onResultProcess({ request, result }) {
      const state = requestState(request);
      const results = Array.isArray(result) ? result : [result];
      for (const one of results) {
        if (!one || typeof one !== 'object' || !('errors' in one) || !one.errors) continue;
        for (const error of one.errors) {
          state.errorCodes.push(errorCode(error));
          const message = withoutInputValues(error.message);
          if (message !== error.message) (error as { message: string }).message = message;
          const original = originalOf(error as Error);
          if (original !== undefined) logger.error({ reqId: state.id, error: describeError(original) }, 'unexpected error');
        }
      }
    },
    onResponse({ request, response }) {
      const state = requestState(request);
      response.headers.set('X-Request-Id', state.id);
      const path = new URL(request.url).pathname;
      const line = {
        reqId: state.id,
        method: request.method,
        path,
        status: response.status,
        durationMs: Math.round((performance.now() - state.startedAt) * 100) / 100,
        ...(path === graphqlEndpoint ? { operation: state.operationName ?? null, operationType: state.operationType ?? null } : {}),
        tokenId: state.principal?.tokenId ?? null,
        ...(state.errorCodes.length > 0 ? { errors: state.errorCodes } : {}),
      };
      if (response.status >= 500) logger.error(line, 'request');
      else if (quietPaths.includes(path)) logger.debug(line, 'request');
      else logger.info(line, 'request');
    },
  };
}

