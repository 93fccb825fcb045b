/**
 * Configuration, read once from the environment at start and validated, so a bad value stops
 * the process with a message naming the variable instead of failing later on a request.
 */
import { z } from 'zod';
import { IDEMPOTENCY_KEYS_PER_TOKEN_PER_DAY } from './domain/idempotency.ts';
import { DEFAULT_HASHING_LIMITS, type HashingLimits } from './domain/passwords.ts';
import { DEFAULT_TOKEN_CACHE_TTL_MS } from './domain/token-cache.ts';
import { DEFAULT_RETRY_SCHEDULE_SECONDS, parseRetrySchedule } from './domain/webhook-rules.ts';
import { WEBHOOK_MAX_ENDPOINTS } from './domain/webhook-endpoints.ts';
import type { TrustProxy } from './http/client-address.ts';
import { DEFAULT_STATEMENT_TIMEOUT_MS, parseDatabaseUrl } from './infra/database/pool.ts';

const boolean = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const DAY_MS = 24 * 60 * 60 * 1000;

const positiveInt = (max: number) => z.coerce.number().int().min(1).max(max);

const postgresUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
  .refine((value) => URL.canParse(value), 'is not a valid URL');

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  DATABASE_URL: postgresUrl.optional(),
  /** PostgreSQL itself, when DATABASE_URL leads to PgBouncer: migrations and LISTEN need a session of their own. */
  DIRECT_DATABASE_URL: postgresUrl.optional(),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().min(1).optional(),
  /** Unset: no metrics listener at all (several processes on one machine never collide). */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  DATA_DIR: z.string().min(1).default('.data'),
  MIGRATE_ON_START: boolean.default(true),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(1000).default(10),
  /** 0: no limit from this service (PostgreSQL's own setting applies). */
  DATABASE_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(DEFAULT_STATEMENT_TIMEOUT_MS),
  /** One streaming standby's URL, or several separated by commas. */
  READ_REPLICA_URLS: z
    .string()
    .transform((value) => value.split(',').map((url) => url.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^postgres(ql)?:\/\//, 'each is a postgres:// or postgresql:// URL')).min(1, 'names no URL'))
    .optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // The server's settings below have no default here: `withDefaults` gives them theirs.
  GRAPHIQL: boolean.optional(),
  INTROSPECTION: boolean.optional(),
  CORS_ORIGINS: z
    .string()
    .transform((value) => value.split(',').map((origin) => origin.trim()).filter(Boolean))
    .pipe(z.array(z.union([z.literal('*'), z.string().regex(/^https?:\/\/[^/\s]+$/, 'each origin is scheme://host[:port], without a path')])))
    .optional(),
  MAX_BODY_BYTES: positiveInt(100_000_000).optional(),
  MAX_DEPTH: positiveInt(1_000).optional(),
  MAX_ALIASES: positiveInt(10_000).optional(),
  MAX_TOKENS: positiveInt(1_000_000).optional(),
  MAX_DIRECTIVES: positiveInt(10_000).optional(),
  MAX_COST: positiveInt(100_000_000).optional(),
  MAX_PERSISTED_QUERY_BYTES: positiveInt(100_000_000).optional(),
  MAX_PERSISTED_QUERIES: positiveInt(1_000_000).optional(),
  /** 0 turns the per-token limit off. */
  RATE_LIMIT_REQUESTS: z.coerce.number().int().min(0).max(100_000_000).optional(),
  /** Per client address, for requests without a valid token; 0 turns it off. */
  ANONYMOUS_RATE_LIMIT_REQUESTS: z.coerce.number().int().min(0).max(100_000_000).optional(),
  /** true, false, or how many proxies in front append to X-Forwarded-For (0: none). */
  TRUST_PROXY: z
    .union([z.enum(['true', 'false']).transform((value) => value === 'true'), z.coerce.number().int().min(0).max(100)])
    .transform((value): TrustProxy => value || false)
    .optional(),
  RATE_LIMIT_WINDOW_MS: z.coerce.number().int().min(100).max(86_400_000).optional(),
  RATE_LIMIT_STORE: z.enum(['memory', 'postgres']).default('memory'),
  MAX_SUBSCRIPTIONS_PER_TOKEN: positiveInt(100_000).optional(),
  READINESS_TIMEOUT_MS: positiveInt(60_000).optional(),
  /** 0: every request looks its token up. */
  TOKEN_CACHE_TTL_MS: z.coerce.number().int().min(0).max(86_400_000).optional(),
  /** 0 asks the database on every probe. */
  READINESS_CACHE_MS: z.coerce.number().int().min(0).max(60_000).optional(),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  PASSWORD_HASH_QUEUE_LIMIT: positiveInt(100_000).default(DEFAULT_HASHING_LIMITS.maxQueued),
  PASSWORD_HASH_PER_TOKEN_LIMIT: positiveInt(100_000).default(DEFAULT_HASHING_LIMITS.maxPerOwner),
  IDEMPOTENCY_KEYS_PER_TOKEN_PER_DAY: positiveInt(100_000_000).optional(),
  /** off: this replica sends no webhooks (events are still recorded, and other replicas send them). */
  WEBHOOKS: z.enum(['on', 'off']).optional(),
  WEBHOOK_TIMEOUT_MS: positiveInt(120_000).optional(),
  WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .transform((value, context) => {
      try {
        return parseRetrySchedule(value);
      } catch (error) {
        context.addIssue({ code: 'custom', message: (error as Error).message });
        return z.NEVER;
      }
    })
    .optional(),
  WEBHOOK_CONCURRENCY: positiveInt(1_000).optional(),
  WEBHOOK_DELIVERY_RETENTION_DAYS: positiveInt(3_650).optional(),
  EVENTS_POLL_MS: z.coerce.number().int().min(50).max(600_000).optional(),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: boolean.optional(),
  WEBHOOK_MAX_ENDPOINTS: positiveInt(100_000).optional(),
  // OpenTelemetry's own variables. The endpoint set turns tracing on; the exporter reads the
  // other OTEL_EXPORTER_OTLP_* ones (headers, timeout) itself.
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL, e.g. http://localhost:4318' }).optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: z
    .enum(['http/protobuf', 'http/json'], { error: 'must be http/protobuf or http/json: traces go over OTLP/HTTP (port 4318), not gRPC' })
    .default('http/protobuf'),
  OTEL_SERVICE_NAME: z.string().min(1).default('customer-gateway'),
}).superRefine((e, context) => {
  const problem = (message: string) => context.addIssue({ code: 'custom', path: ['DIRECT_DATABASE_URL'], message });
  if (e.DIRECT_DATABASE_URL && !e.DATABASE_URL) problem('needs DATABASE_URL');
  if (e.DATABASE_URL && !e.DIRECT_DATABASE_URL && parseDatabaseUrl(e.DATABASE_URL).pgbouncer) {
    problem('required when DATABASE_URL has pgbouncer=true: migrations and LISTEN need PostgreSQL itself');
  }
});

export type Environment = z.infer<typeof schema>;

export interface Limits {
  /** Request body, in bytes; larger is refused with 413. */
  maxBodyBytes: number;
  /** Selection-set depth, aliases, lexical tokens, directives and estimated cost of a document. */
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxDirectives: number;
  maxCost: number;
  /** Automatic persisted queries: the largest query kept (bytes), and how many are kept. */
  maxPersistedQueryBytes: number;
  maxPersistedQueries: number;
}

/** What the HTTP surface is told, from the environment or by whoever calls `createServer`. */
export interface ServerSettings {
  /** Production turns off GraphiQL and introspection unless they are asked for. */
  production: boolean;
  graphiql: boolean;
  introspection: boolean;
  /** Browser origins allowed to call the API cross-origin; `*` allows any. */
  corsOrigins: readonly string[];
  limits: Limits;
  /** Per token, and per client address for requests without a valid token, in each window. */
  rateLimit: { requests: number; windowMs: number; anonymousRequests: number };
  /** Whether, and how far, X-Forwarded-For gives the client's address (http/client-address.ts). */
  trustProxy: TrustProxy;
  /** Live subscriptions a token may have open at once, in each process. */
  maxSubscriptionsPerToken: number;
  readinessTimeoutMs: number;
  /** How long a token is served from memory after its lookup: the longest a revocation can take. */
  tokenCacheTtlMs: number;
  /** How long `/readyz` keeps the database's answer. */
  readinessCacheMs: number;
  /** New idempotency keys a token may use in 24 hours. */
  idempotencyKeysPerTokenPerDay: number;
  /** Sending webhooks from this process. */
  webhookDelivery: WebhookDeliverySettings;
  /** How often followers of the change log look for news without being told. */
  eventsPollMs: number;
  /** Webhook receivers may be on loopback, private and other non-public addresses (tests, local development). */
  webhookAllowPrivateNetworks: boolean;
  /** Webhook endpoints allowed at once. */
  webhookMaxEndpoints: number;
}

export interface WebhookDeliverySettings {
  /** False: this process sends none (WEBHOOKS=off). */
  enabled: boolean;
  timeoutMs: number;
  /** Seconds to wait after each failed attempt. */
  retrySchedule: readonly number[];
  /** Attempts in flight at once. */
  concurrency: number;
  /** How long delivered and failed deliveries stay in the log. */
  retentionMs: number;
}

/** Settings as given: anything left out (or undefined) takes its default. */
export type GivenServerSettings = Partial<Omit<ServerSettings, 'limits' | 'rateLimit' | 'webhookDelivery'>> & {
  limits?: Partial<Limits> | undefined;
  rateLimit?: Partial<ServerSettings['rateLimit']> | undefined;
  webhookDelivery?: Partial<WebhookDeliverySettings> | undefined;
};

const DEFAULTS: Omit<ServerSettings, 'production' | 'graphiql' | 'introspection' | 'corsOrigins'> = {
  limits: {
    maxBodyBytes: 100_000,
    maxDepth: 10,
    maxAliases: 15,
    maxTokens: 1_000,
    maxDirectives: 20,
    maxCost: 5_000,
    maxPersistedQueryBytes: 20_000,
    maxPersistedQueries: 1_000,
  },
  rateLimit: { requests: 600, windowMs: 30_000, anonymousRequests: 120 },
  trustProxy: false,
  maxSubscriptionsPerToken: 10,
  readinessTimeoutMs: 1_000,
  readinessCacheMs: 1_000,
  tokenCacheTtlMs: DEFAULT_TOKEN_CACHE_TTL_MS,
  idempotencyKeysPerTokenPerDay: IDEMPOTENCY_KEYS_PER_TOKEN_PER_DAY,
  webhookDelivery: { enabled: true, timeoutMs: 10_000, retrySchedule: DEFAULT_RETRY_SCHEDULE_SECONDS, concurrency: 32, retentionMs: 30 * DAY_MS },
  eventsPollMs: 1_000,
  webhookAllowPrivateNetworks: false,
  webhookMaxEndpoints: WEBHOOK_MAX_ENDPOINTS,
};

/**
 * The one place the server's defaults are applied, for `loadConfig` and `createServer` alike, so
 * a server built without a setting behaves like one started without the variable.
 */
export function withDefaults(given: GivenServerSettings): ServerSettings {
  const production = given.production ?? false;
  return {
    production,
    // Development conveniences are on unless production; production can opt back in.
    graphiql: given.graphiql ?? !production,
    introspection: given.introspection ?? !production,
    corsOrigins: given.corsOrigins ?? [],
    limits: filled(DEFAULTS.limits, given.limits),
    rateLimit: filled(DEFAULTS.rateLimit, given.rateLimit),
    trustProxy: given.trustProxy ?? DEFAULTS.trustProxy,
    maxSubscriptionsPerToken: given.maxSubscriptionsPerToken ?? DEFAULTS.maxSubscriptionsPerToken,
    readinessTimeoutMs: given.readinessTimeoutMs ?? DEFAULTS.readinessTimeoutMs,
    tokenCacheTtlMs: given.tokenCacheTtlMs ?? DEFAULTS.tokenCacheTtlMs,
    readinessCacheMs: given.readinessCacheMs ?? DEFAULTS.readinessCacheMs,
    idempotencyKeysPerTokenPerDay: given.idempotencyKeysPerTokenPerDay ?? DEFAULTS.idempotencyKeysPerTokenPerDay,
    webhookDelivery: filled(DEFAULTS.webhookDelivery, given.webhookDelivery),
    eventsPollMs: given.eventsPollMs ?? DEFAULTS.eventsPollMs,
    webhookAllowPrivateNetworks: given.webhookAllowPrivateNetworks ?? DEFAULTS.webhookAllowPrivateNetworks,
    webhookMaxEndpoints: given.webhookMaxEndpoints ?? DEFAULTS.webhookMaxEndpoints,
  };
}

/** `defaults` with each of its keys that `given` sets (not to undefined) taken from `given`. */
function filled<T extends object>(defaults: T, given: Partial<T> | undefined): T {
  const result = { ...defaults };
  for (const key of Object.keys(defaults) as Array<keyof T>) {
    const value = given?.[key];
    if (value !== undefined) result[key] = value as T[keyof T];
  }
  return result;
}

export interface Config extends Omit<ServerSettings, 'rateLimit'> {
  /** Unset: an embedded PostgreSQL under `dataDir`. With `pgbouncer=true`: PgBouncer in transaction mode. */
  databaseUrl: string | undefined;
  /** PostgreSQL itself, for migrations and LISTEN; unset: `databaseUrl`. */
  directDatabaseUrl: string | undefined;
  /** `databaseUrl` has `pgbouncer=true`. */
  throughPgBouncer: boolean;
  port: number;
  host: string;
  /** `/metrics` on a listener of its own; undefined: none. */
  metrics: { port: number; host: string } | undefined;
  dataDir: string;
  migrateOnStart: boolean;
  poolSize: number;
  /** Longest a statement on the main pool may run or wait; 0: no limit. */
  statementTimeoutMs: number;
  /** Streaming standbys for customer reads; empty: every read on the primary. */
  readReplicaUrls: string[];
  logLevel: Environment['LOG_LEVEL'];
  /** `requests: 0` turns the per-token limit off, `anonymousRequests: 0` the per-address one. */
  rateLimit: ServerSettings['rateLimit'] & { store: 'memory' | 'postgres' };
  shutdownTimeoutMs: number;
  /** How much password hashing may wait, in all and per token, before requests get 503. */
  hashing: HashingLimits;
  /** OpenTelemetry traces over OTLP/HTTP; undefined: off, and nothing of it is loaded. */
  tracing: { url: string; protocol: 'http/protobuf' | 'http/json'; serviceName: string } | undefined;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty variables count as unset, as in most shells' `VAR= npm start`.
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = schema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
  }
  const e = parsed.data;
  const throughPgBouncer = e.DATABASE_URL !== undefined && parseDatabaseUrl(e.DATABASE_URL).pgbouncer;
  const settings = withDefaults({
    production: e.NODE_ENV === 'production',
    graphiql: e.GRAPHIQL,
    introspection: e.INTROSPECTION,
    corsOrigins: e.CORS_ORIGINS,
    limits: {
      maxBodyBytes: e.MAX_BODY_BYTES,
      maxDepth: e.MAX_DEPTH,
      maxAliases: e.MAX_ALIASES,
      maxTokens: e.MAX_TOKENS,
      maxDirectives: e.MAX_DIRECTIVES,
      maxCost: e.MAX_COST,
      maxPersistedQueryBytes: e.MAX_PERSISTED_QUERY_BYTES,
      maxPersistedQueries: e.MAX_PERSISTED_QUERIES,
    },
    rateLimit: { requests: e.RATE_LIMIT_REQUESTS, windowMs: e.RATE_LIMIT_WINDOW_MS, anonymousRequests: e.ANONYMOUS_RATE_LIMIT_REQUESTS },
    trustProxy: e.TRUST_PROXY,
    maxSubscriptionsPerToken: e.MAX_SUBSCRIPTIONS_PER_TOKEN,
    readinessTimeoutMs: e.READINESS_TIMEOUT_MS,
    tokenCacheTtlMs: e.TOKEN_CACHE_TTL_MS,
    readinessCacheMs: e.READINESS_CACHE_MS,
    idempotencyKeysPerTokenPerDay: e.IDEMPOTENCY_KEYS_PER_TOKEN_PER_DAY,
    webhookDelivery: {
      enabled: e.WEBHOOKS === undefined ? undefined : e.WEBHOOKS === 'on',
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      retrySchedule: e.WEBHOOK_RETRY_SCHEDULE,
      concurrency: e.WEBHOOK_CONCURRENCY,
      retentionMs: e.WEBHOOK_DELIVERY_RETENTION_DAYS === undefined ? undefined : e.WEBHOOK_DELIVERY_RETENTION_DAYS * DAY_MS,
    },
    eventsPollMs: e.EVENTS_POLL_MS,
    webhookAllowPrivateNetworks: e.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
    webhookMaxEndpoints: e.WEBHOOK_MAX_ENDPOINTS,
  });
  return {
    ...settings,
    databaseUrl: e.DATABASE_URL,
    directDatabaseUrl: e.DIRECT_DATABASE_URL,
    throughPgBouncer,
    port: e.PORT,
    // Embedded database means a developer's machine: listen on loopback only.
    host: e.HOST ?? (e.DATABASE_URL ? '0.0.0.0' : '127.0.0.1'),
    metrics: e.METRICS_PORT === undefined ? undefined : { port: e.METRICS_PORT, host: e.METRICS_HOST },
    dataDir: e.DATA_DIR,
    migrateOnStart: e.MIGRATE_ON_START,
    poolSize: e.DATABASE_POOL_SIZE,
    statementTimeoutMs: e.DATABASE_STATEMENT_TIMEOUT_MS,
    readReplicaUrls: e.READ_REPLICA_URLS ?? [],
    logLevel: e.LOG_LEVEL,
    rateLimit: { ...settings.rateLimit, store: e.RATE_LIMIT_STORE },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    hashing: { maxQueued: e.PASSWORD_HASH_QUEUE_LIMIT, maxPerOwner: e.PASSWORD_HASH_PER_TOKEN_LIMIT },
    tracing: e.OTEL_EXPORTER_OTLP_ENDPOINT
      ? {
          // The traces path below the base endpoint, as every OpenTelemetry SDK appends it.
          url: `${e.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`,
          protocol: e.OTEL_EXPORTER_OTLP_PROTOCOL,
          serviceName: e.OTEL_SERVICE_NAME,
        }
      : undefined,
  };
}
