/**
 * From configuration to the server's dependencies: the one mapping `main.ts` uses, shared with
 * the benchmark's gateway so that what is measured is wired exactly as what runs.
 */
import type { Config } from './config.ts';
import { describeError } from './http/error-description.ts';
import type { Logger } from './http/logging.ts';
import type { MetricsRegistry } from './http/metrics.ts';
import { MemoryRateLimitStore, type RateLimitStore } from './http/rate-limit.ts';
import { FallbackRateLimitStore } from './http/rate-limit-fallback.ts';
import type { Database } from './infra/database/prisma.ts';
import type { ReadReplicas } from './infra/database/read-replicas.ts';
import type { ServerDependencies } from './server.ts';

export interface ServerParts {
  db: Database;
  /** READ_REPLICA_URLS, opened; none: every read on `db`. */
  readReplicas?: ReadReplicas | undefined;
  logger: Logger;
  /** With `RATE_LIMIT_STORE=postgres`, the shared store; counting falls back to memory while it fails. */
  rateLimitStore: RateLimitStore;
  /** Where requests are counted, for a metrics listener to serve; none: nothing is counted. */
  metrics?: MetricsRegistry | undefined;
  /** Shown in GraphiQL; give it only when the page is served to this machine alone. */
  developmentToken?: string | undefined;
  isShuttingDown?: () => boolean;
  /** Aborted when shutdown begins (live subscriptions then end). */
  shutdownSignal?: AbortSignal;
  /** With tracing on (`startTracing`), the maker of its request plugin. */
  tracing?: ServerDependencies['tracing'];
}

export function serverOptions(config: Config, parts: ServerParts): ServerDependencies {
  return {
    db: parts.db,
    readReplicas: parts.readReplicas,
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
      store: config.rateLimit.store === 'postgres' ? withFallback(parts.rateLimitStore, parts.logger) : parts.rateLimitStore,
    },
    trustProxy: config.trustProxy,
    maxSubscriptionsPerToken: config.maxSubscriptionsPerToken,
    readinessTimeoutMs: config.readinessTimeoutMs,
    tokenCacheTtlMs: config.tokenCacheTtlMs,
    readinessCacheMs: config.readinessCacheMs,
    idempotencyKeysPerTokenPerDay: config.idempotencyKeysPerTokenPerDay,
    webhookDelivery: config.webhookDelivery,
    eventsPollMs: config.eventsPollMs,
    webhookAllowPrivateNetworks: config.webhookAllowPrivateNetworks,
    webhookMaxEndpoints: config.webhookMaxEndpoints,
    isShuttingDown: parts.isShuttingDown,
    shutdownSignal: parts.shutdownSignal,
    metrics: parts.metrics,
    poolSize: config.poolSize,
    tracing: parts.tracing,
  };
}

/** The shared store, or this process's counters while it fails: never no limit at all. */
function withFallback(shared: RateLimitStore, logger: Logger): RateLimitStore {
  return new FallbackRateLimitStore(shared, new MemoryRateLimitStore(), {
    onFallback: (error) => logger.error({ error: describeError(error) }, 'rate limit store failed; counting in this process until it answers again'),
    onRecovery: () => logger.info('rate limit store answers again'),
  });
}
