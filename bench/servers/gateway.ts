/**
 * The real gateway: `createServer` from src/server.ts wired as `npm start` wires it in production
 * (NODE_ENV=production, settings from the same environment variables), on the project's Prisma
 * client, in a process of its own. Authentication, document limits, CSRF checks, request logs,
 * metrics and rate limiting are all on. The one change: the rate-limit quota is raised so the
 * bench's single token is never throttled, while every request still goes through the limiter.
 *
 * Before listening it checks that the schema has what the requested workload sends, and reports
 * the variant unavailable otherwise.
 */
import { createServer as createHttpServer } from 'node:http';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/http/logging.ts';
import { createMetricsRegistry } from '../../src/http/metrics.ts';
import { MemoryRateLimitStore } from '../../src/http/rate-limit.ts';
import { createDatabase } from '../../src/infra/database/prisma.ts';
import { PostgresRateLimitStore } from '../../src/infra/database/rate-limit-store.ts';
import { schema } from '../../src/schema/index.ts';
import { createServer } from '../../src/server.ts';
import { serverOptions } from '../../src/server-options.ts';
import { databaseUrl, POOL_SIZE, serve, unavailable } from './serve.ts';

const updateCustomer = schema.getMutationType()?.getFields().updateCustomer;
if (!updateCustomer) unavailable('the schema has no updateCustomer mutation yet');
if (process.env.BENCH_NEEDS_PASSWORD === 'true') {
  const input = schema.getType('UpdateCustomerInput');
  const fields = input && 'getFields' in input ? input.getFields() : {};
  if (!('authentication' in fields)) unavailable('UpdateCustomerInput has no authentication field yet');
}

const UNTHROTTLED = '100000000';
// gateway-pgbouncer: the URL PgBouncer would get, on PostgreSQL itself (bench/workloads.ts).
const pgbouncer = process.env.BENCH_PGBOUNCER === 'true';
const direct = new URL(databaseUrl());
const pooled = new URL(direct);
if (pgbouncer) pooled.searchParams.set('pgbouncer', 'true');
const config = loadConfig({
  ...process.env,
  NODE_ENV: 'production',
  DATABASE_URL: pooled.toString(),
  DIRECT_DATABASE_URL: pgbouncer ? direct.toString() : undefined,
  DATABASE_POOL_SIZE: String(POOL_SIZE),
  RATE_LIMIT_REQUESTS: UNTHROTTLED,
  // The gateway-webhook variant's receiver listens on loopback.
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
});
const db = createDatabase({
  connectionString: config.databaseUrl!,
  directConnectionString: config.directDatabaseUrl,
  poolSize: config.poolSize,
  statementTimeoutMs: config.statementTimeoutMs,
});
// Request logs go to stdout, which bench/run.ts discards, as a log shipper would take them.
const logger = createLogger(config.logLevel);
const rateLimitStore = config.rateLimit.store === 'postgres' ? PostgresRateLimitStore.sharing(db) : new MemoryRateLimitStore();
// Requests are counted as with METRICS_PORT set; the bench never scrapes them.
// Traced as `npm start` would be when OTEL_EXPORTER_OTLP_ENDPOINT is set, to measure what it costs.
const tracing = config.tracing && (await import('../../src/tracing.ts')).startTracing(config.tracing);
const yoga = createServer(serverOptions(config, { db, logger, rateLimitStore, metrics: createMetricsRegistry(), tracing: tracing?.plugin }));

await serve(createHttpServer(yoga), async () => {
  await db.$disconnect();
  logger.flush();
});
