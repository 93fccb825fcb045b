/**
 * From configuration to the server's dependencies: the one mapping `main.ts` uses, shared with
 * the benchmark's gateway so that what is measured is wired exactly as what runs.
 */
import type { Config } from './config.ts';
import type { Logger } from './http/logging.ts';
import type { RateLimitStore } from './http/rate-limit.ts';
import type { Database } from './infra/database/prisma.ts';
import type { ServerDependencies } from './server.ts';

export interface ServerParts {
  db: Database;
  logger: Logger;
  rateLimitStore: RateLimitStore;
  /** Shown in GraphiQL; give it only when the page is served to this machine alone. */
  developmentToken?: string | undefined;
  isShuttingDown?: () => boolean;
}

export function serverOptions(config: Config, parts: ServerParts): ServerDependencies {
  return {
    db: parts.db,
    logger: parts.logger,
    production: config.production,
    graphiql: config.graphiql,
    introspection: config.introspection,
    developmentToken: parts.developmentToken,
    corsOrigins: config.corsOrigins,
    limits: config.limits,
    rateLimit: (config.rateLimit.requests > 0 || config.rateLimit.anonymousRequests > 0) && {
      requests: config.rateLimit.requests,
      anonymousRequests: config.rateLimit.anonymousRequests,
      windowMs: config.rateLimit.windowMs,
      store: parts.rateLimitStore,
    },
    trustProxy: config.trustProxy,
    readinessTimeoutMs: config.readinessTimeoutMs,
    isShuttingDown: parts.isShuttingDown,
    poolSize: config.poolSize,
  };
}
