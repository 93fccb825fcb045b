/**
 * Builds the HTTP application from its dependencies. Nothing here reads the environment or
 * listens on a port: `main.ts` does, and tests call this factory directly.
 *
 * The plugins, in the order a request meets them: event-stream status, tracing (when on),
 * request id and log line, cache and sniffing headers, metrics, CORS, readiness, body size, CSRF,
 * authentication, rate limit, subscriptions per token, persisted queries, armor (document
 * limits), cost limit, no suggestions, introspection switch, then execution with errors masked.
 */
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { createYoga, type Plugin, type YogaServerInstance } from 'graphql-yoga';
import { withDefaults, type GivenServerSettings } from './config.ts';
import { pingDatabase, poolStats } from './infra/database/health.ts';
import type { Heartbeat } from './infra/database/notifications.ts';
import type { Database } from './infra/database/prisma.ts';
import { primaryReads, type ReadReplicas } from './infra/database/read-replicas.ts';
import { ChangeEvents } from './domain/change-events.ts';
import { schema } from './schema/index.ts';
import type { Context } from './schema/builder.ts';
import { useAuthentication } from './http/authentication.ts';
import { useRequestBodyLimit } from './http/body-limit.ts';
import { useCostLimit } from './http/cost-limit.ts';
import { useEventStreamStatus } from './http/event-stream.ts';
import { maskError } from './http/error-masking.ts';
import { queryTooComplex } from './http/graphql-errors.ts';
import { graphiqlOptions } from './http/graphiql.ts';
import { useNoIntrospection } from './http/introspection.ts';
import { createLogger, useRequestLogging, yogaLogger, type Logger } from './http/logging.ts';
import { changeEventMetrics, useMetrics, type MetricsRegistry } from './http/metrics.ts';
import { useNoSuggestions } from './http/no-suggestions.ts';
import { usePersistedQueries } from './http/persisted-queries.ts';
import { MemoryRateLimitStore, RATE_LIMIT_HEADERS, useRateLimit, type RateLimitStore } from './http/rate-limit.ts';
import { useSingleMutationField } from './http/single-mutation.ts';
import { useSubscriptionLimit } from './http/subscription-limit.ts';
import { useReadiness } from './http/readiness.ts';
import { useReadRouting } from './http/read-routing.ts';
import { useRequestParsingErrors } from './http/request-parsing.ts';
import { useResponseHeaders } from './http/response-headers.ts';
import { requestState } from './http/request-state.ts';


/** Settings left out take the defaults of a server started without their variables. */
export interface ServerDependencies extends Omit<GivenServerSettings, 'rateLimit'> {
  db: Database;
  /** Read replicas for queries' customer reads (READ_REPLICA_URLS); none: every read on `db`. */
  readReplicas?: ReadReplicas | undefined;
  /** Filled into GraphiQL's headers (development only: the page then carries a secret). */
  developmentToken?: string | undefined;
  /** Request logs and unexpected errors; silent when not given. */
  logger?: Logger;
  /**
   * Per token, and per client address without a valid token (`anonymousRequests`, default 120);
   * `false` turns both off. The default store is in memory.
   */
  rateLimit?: { requests: number; windowMs: number; anonymousRequests?: number; store?: RateLimitStore } | false;
  /** True once shutdown began: `/readyz` answers 503 so load balancers stop sending requests. */
  isShuttingDown?: () => boolean;
  /**
   * Aborted when shutdown begins: live subscriptions end at once (their clients see them
   * complete, and may resume elsewhere with `after`), so open streams do not hold the shutdown to
   * its deadline.
   */
  shutdownSignal?: AbortSignal | undefined;
  /**
   * Where to count requests, for a metrics listener of its own to serve (never this server:
   * it answers 404 at /metrics). Left out, nothing is counted.
   */
  metrics?: MetricsRegistry | undefined;
  /** Database pool size, reported in metrics. */
  poolSize?: number | undefined;
  /**
   * `false` leaves out authentication, rate limiting, document limits, CSRF checks, request logs
   * and metrics. Only for measuring what they cost (bench/overhead.ts); never in a real server.
   */
  hardening?: boolean;
  /**
   * Serve tokens already seen from memory while the database's announcements of token changes
   * are heard (default true). Off: one lookup per request.
   */
  cacheTokens?: boolean;
  /** How the token-change listener checks that it still hears; tests shorten or disable it. */
  listenerHeartbeat?: Heartbeat | false;
  /**
   * Makes the plugin that traces each request (`startTracing` in tracing.ts, loaded only when
   * OTEL_EXPORTER_OTLP_ENDPOINT is set). Left out, no span is made.
   */
  tracing?: ((options: { quietPaths: readonly string[] }) => Plugin) | undefined;
}

export type GatewayServer = YogaServerInstance<Record<string, unknown>, Context>;

const GRAPHQL = '/graphql';
const HEALTH = '/healthz';
const READY = '/readyz';

export function createServer(deps: ServerDependencies): GatewayServer {
  const { db, hardening = true } = deps;
  const settings = withDefaults({ ...deps, rateLimit: deps.rateLimit || undefined });
  const { limits } = settings;
  const logger = deps.logger ?? createLogger('silent');
  const webhooks = { allowPrivateNetworks: settings.webhookAllowPrivateNetworks, maxEndpoints: settings.webhookMaxEndpoints };
  const rateLimit =
    deps.rateLimit === false ? undefined : { ...settings.rateLimit, store: deps.rateLimit?.store ?? new MemoryRateLimitStore() };

  // Followers of the change log (live feeds, webhook senders), stopped with the server.
  const eventMetrics = hardening && deps.metrics ? changeEventMetrics(deps.metrics, () => events.feed.waitingSince) : undefined;
  const events: ChangeEvents = new ChangeEvents(db, {
    pollMs: settings.eventsPollMs,
    webhooks: settings.webhookDelivery.enabled && {
      ...settings.webhookDelivery,
      pollMs: settings.eventsPollMs,
      allowPrivateNetworks: settings.webhookAllowPrivateNetworks,
      onAttempt: eventMetrics?.attempt,
      onFirstAttempt: eventMetrics?.firstAttempt,
    },
    heartbeat: deps.listenerHeartbeat,
    onError: (error, doing) => logger.warn({ error: { type: (error as Error)?.name, code: (error as { code?: unknown })?.code } }, `${doing} failed`),
  });
  // Live feeds end as shutdown begins; the rest of the change events stop with the server.
  deps.shutdownSignal?.addEventListener('abort', () => void events.feed.stop(), { once: true });

  const plugins: Array<Plugin | false | undefined> = [
    { onDispose: () => events.stop() },
    // First, so that every later hook (logs, metrics) sees the status the client gets.
    useEventStreamStatus(),
    // Before the others, so that its span holds everything they do with the request.
    deps.tracing?.({ quietPaths: [HEALTH, READY] }),
    hardening && useRequestLogging({ logger, graphqlEndpoint: GRAPHQL, quietPaths: [HEALTH, READY] }),
    useResponseHeaders({ graphqlEndpoint: GRAPHQL }),
    hardening &&
      deps.metrics &&
      useMetrics({
        registry: deps.metrics,
        graphqlEndpoint: GRAPHQL,
        poolStats: () => poolStats(db),
        poolSize: deps.poolSize,
        readReplicas: deps.readReplicas,
      }),
    useReadiness({
      endpoint: READY,
      check: () => pingDatabase(db, settings.readinessTimeoutMs),
      cacheMs: settings.readinessCacheMs,
      isShuttingDown: deps.isShuttingDown,
    }),
    // A GET without a custom header could come from any web page (a "simple" request that the
    // browser sends without asking CORS first). Apollo Client sends content-type
    // application/json even on GET, which is not simple, so it passes; GraphiQL POSTs JSON, and
    // sends x-graphql-yoga-csrf with the GETs that open its subscriptions (http/graphiql.ts).
    hardening &&
      useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', 'apollo-require-preflight', 'x-apollo-operation-name', 'graphql-preflight'] }),
    hardening &&
      useAuthentication(db, {
        cacheTokens: (deps.cacheTokens ?? true) && settings.tokenCacheTtlMs > 0,
        ttlMs: settings.tokenCacheTtlMs,
        heartbeat: deps.listenerHeartbeat,
      }),
    hardening &&
      rateLimit &&
      useRateLimit({
        ...rateLimit,
        trustProxy: settings.trustProxy,
        onStoreError: (error) => logger.error({ error: { type: (error as Error)?.name, code: (error as { code?: unknown })?.code } }, 'rate limit store failed'),
      }),
    hardening && useSubscriptionLimit({ maxPerToken: settings.maxSubscriptionsPerToken }),
    useRequestBodyLimit(limits.maxBodyBytes),
    useRequestParsingErrors(),
    usePersistedQueries({ maxQueryBytes: limits.maxPersistedQueryBytes, maxQueries: limits.maxPersistedQueries }),
    useSingleMutationField(),
    hardening &&
      EnvelopArmorPlugin({
        maxDepth: { n: limits.maxDepth, flattenFragments: true, ...refuse('The query is nested too deeply.') },
        maxAliases: { n: limits.maxAliases, ...refuse('The query uses too many aliases.') },
        maxTokens: { n: limits.maxTokens, ...refuse('The query is too long.') },
        maxDirectives: { n: limits.maxDirectives, ...refuse('The query uses too many directives.') },
        // Armor's cost ignores variables and defaults: useCostLimit below measures with them.
        costLimit: { enabled: false },
        // useNoSuggestions removes every suggestion, armor's "[Suggestion hidden]" marker too.
        blockFieldSuggestion: { enabled: false },
      }),
    hardening && useCostLimit({ maxCost: limits.maxCost, message: 'The query would cost too much to run.' }),
    useNoSuggestions(),
    deps.readReplicas && useReadRouting(deps.readReplicas),
    !settings.introspection && useNoIntrospection(),
  ];

  // Where reads go unless read routing gives the operation its own route.
  const onPrimary = primaryReads(db);

  return createYoga<Record<string, unknown>, Context>({
    schema,
    graphqlEndpoint: GRAPHQL,
    healthCheckEndpoint: HEALTH,
    landingPage: false,
    graphiql: settings.graphiql ? graphiqlOptions(deps.developmentToken) : false,
    // GraphiQL's scripts served from here, not from yoga's default CDN (unpkg.com): the page holds
    // the development token, and it must work on machines that cannot reach the internet. The
    // bundle is large and loaded on the first GraphiQL request, so production never pays for it.
    renderGraphiQL: async (options) => (await import('@graphql-yoga/render-graphiql')).renderGraphiQL(options),
    batching: false,
    // Our own limit (useRequestBodyLimit): yoga's counts every body as a stream.
    maxRequestBodySize: false,
    maskedErrors: { maskError, isDev: false },
    logging: yogaLogger(logger),
    cors: corsPolicy(settings.corsOrigins),
    context: ({ request }): Context => ({
      db,
      reads: onPrimary,
      principal: requestState(request).principal,
      idempotencyKeysPerDay: settings.idempotencyKeysPerTokenPerDay,
      changeFeed: events.feed,
      webhooks,
    }),
    plugins: plugins.filter((plugin): plugin is Plugin => plugin !== false && plugin !== undefined),
  });
}

/**
 * How armor refuses a document: a 400 with code QUERY_TOO_COMPLEX and a message naming the kind
 * of limit but neither the limit nor the measured value, so probing the limits gains nothing.
 * (Armor's own error says "Syntax Error", is answered with status 200, and with
 * `exposeLimits` on tells the numbers.)
 */
function refuse(message: string) {
  return {
    exposeLimits: false,
    propagateOnRejection: false,
    onReject: [
      () => {
        throw queryTooComplex(message);
      },
    ],
  };
}

/** CORS headers only for allowed origins; without any, browsers on other origins are refused. */
function corsPolicy(origins: readonly string[]) {
  const anyOrigin = origins.includes('*');
  const allowed = new Set(origins);
  return (request: Request) => {
    const origin = request.headers.get('origin');
    if (!origin || !(anyOrigin || allowed.has(origin))) return false as const;
    return {
      origin,
      // Tokens travel in headers, never in cookies: credentialed requests are not needed.
      credentials: false,
      methods: ['GET', 'POST'],
      allowedHeaders: ['content-type', 'accept', 'x-auth-token', 'authorization', 'x-request-id', 'x-graphql-yoga-csrf', 'apollo-require-preflight'],
      exposedHeaders: ['X-Request-Id', ...RATE_LIMIT_HEADERS],
      maxAge: 600,
    };
  };
}
