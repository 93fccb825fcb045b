/**
 * The process: reads configuration once, finds or starts the database, migrates, listens, and
 * shuts everything down in order on SIGINT or SIGTERM.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { ConfigError, loadConfig } from './config.ts';
import { createDatabase } from './infra/database/prisma.ts';
import { locateDatabase } from './infra/database/connect.ts';
import { statementTimeoutMs } from './infra/database/health.ts';
import { applyMigrations } from './infra/database/migrate.ts';
import { ReadReplicas } from './infra/database/read-replicas.ts';
import { seedDemoCustomers } from './domain/demo-customers.ts';
import { startIdempotencyKeyPruning } from './domain/idempotency-pruning.ts';
import { setHashingLimits } from './domain/passwords.ts';
import { developmentTokenFile, ensureDevelopmentToken } from './development-token.ts';
import { describeError } from './http/error-description.ts';
import { createLogger } from './http/logging.ts';
import { createMetricsListener, createMetricsRegistry, METRICS_PATH } from './http/metrics.ts';
import { MemoryRateLimitStore, type RateLimitStore } from './http/rate-limit.ts';
import { PostgresRateLimitStore } from './infra/database/rate-limit-store.ts';
import { closeHttpServer } from './http/shutdown.ts';
import { createServer } from './server.ts';
import { serverOptions } from './server-options.ts';

const startedAt = performance.now();
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

async function main(): Promise<void> {
  const config = loadConfig();
  // Its packages are loaded only when tracing is on.
  const tracing = config.tracing && (await import('./tracing.ts')).startTracing(config.tracing);
  setHashingLimits(config.hashing);
  const logger = createLogger(config.logLevel);
  // Start-up and shutdown messages: plain lines for a developer's terminal, JSON in production.
  const say = config.production
    ? (message: string) => logger.info(message)
    : (message: string) => console.log(`[customer-gateway] ${message}`);

  const location = await locateDatabase(config, say);
  const db = createDatabase({
    connectionString: location.url,
    directConnectionString: location.directUrl,
    poolSize: config.poolSize,
    statementTimeoutMs: config.statementTimeoutMs,
  });
  const stopDatabase = async () => {
    await db.$disconnect().catch(() => {}); // ends the pool too
    await location.embedded?.stop();
  };
  let developmentToken: string | undefined;
  try {
    if (config.migrateOnStart) {
      const applied = await applyMigrations(location.directUrl, { log: say });
      if (applied.length === 0) say('database schema is up to date');
    }
    if (config.throughPgBouncer) {
      // The service cannot set the timeout through PgBouncer; it says so when the server's differs.
      void statementTimeoutMs(db).then((timeoutMs) => {
        if (timeoutMs === config.statementTimeoutMs) return;
        logger.warn(
          { statementTimeoutMs: timeoutMs, expected: config.statementTimeoutMs },
          'the statement timeout through PgBouncer is not DATABASE_STATEMENT_TIMEOUT_MS: set it in PgBouncer (connect_query) or on the role',
        );
      }, () => {});
    }
    if (location.embedded) {
      const seeded = await seedDemoCustomers(db);
      if (seeded > 0) say(`seeded ${seeded} demo customers`);
    }
    if (location.embedded && !config.production) {
      const { secret, created } = await ensureDevelopmentToken(db, config.dataDir);
      developmentToken = secret;
      say(`development token (customers:write, ${created ? 'new, ' : ''}kept in ${developmentTokenFile(config.dataDir)}): ${secret}`);
    }
  } catch (error) {
    await stopDatabase();
    throw error;
  }

  // Opened after the migrations: a replica takes reads once it has replayed them.
  const readReplicas =
    config.readReplicaUrls.length > 0
      ? new ReadReplicas(db, {
          urls: config.readReplicaUrls,
          poolSize: config.poolSize,
          statementTimeoutMs: config.statementTimeoutMs,
          onUnavailable: (replica, error) => logger.warn({ replica, error: describeError(error) }, 'read replica unavailable; its reads go to the primary'),
          onAvailable: (replica) => logger.info({ replica }, 'read replica answers again'),
          onNotStandby: (replica) => logger.error({ replica }, 'read replica is not a standby; it takes no reads'),
        })
      : undefined;
  const rateLimitStore: RateLimitStore =
    config.rateLimit.store === 'postgres'
      ? PostgresRateLimitStore.open(location.url, Math.max(2, Math.ceil(config.poolSize / 4)))
      : new MemoryRateLimitStore();
  // Idempotency keys are kept 24 hours; older ones are deleted now and every hour after.
  const pruning = startIdempotencyKeyPruning(db, {
    onPruned: (count) => {
      if (count > 0) logger.info({ count }, 'pruned expired idempotency keys');
    },
    onError: (error) => logger.warn({ error: describeError(error) }, 'pruning idempotency keys failed; retrying in an hour'),
  });
  const stopping = new AbortController();
  const metrics = config.metrics && createMetricsRegistry();
  const yoga = createServer(
    serverOptions(config, {
      db,
      readReplicas,
      logger,
      metrics,
      rateLimitStore,
      // The GraphiQL page carries the token: only when it is served to this machine alone.
      developmentToken: LOOPBACK.has(config.host) ? developmentToken : undefined,
      isShuttingDown: () => stopping.signal.aborted,
      shutdownSignal: stopping.signal,
      tracing: tracing?.plugin,
    }),
  );
  const metricsListener = metrics && config.metrics && createMetricsListener(metrics);
  if (metricsListener && config.metrics) {
    say(`metrics: ${await listen(metricsListener, config.metrics.port, config.metrics.host)}${METRICS_PATH}`);
  }
  const http = createHttpServer(yoga);
  say(`ready in ${Math.round(performance.now() - startedAt)} ms: ${await listen(http, config.port, config.host)}/graphql`);

  const shutdown = async (signal: string) => {
    if (stopping.signal.aborted) {
      // A second signal: stop waiting for requests in flight.
      http.closeAllConnections();
      return;
    }
    stopping.abort();
    say(`${signal}: stopping; requests in flight get up to ${config.shutdownTimeoutMs} ms`);
    // Stop accepting, let requests in flight finish (bounded), then close the pool and database.
    const { forced } = await closeHttpServer(http, config.shutdownTimeoutMs);
    if (forced) logger.warn('shutdown deadline reached: remaining connections were closed');
    if (metricsListener) await closeHttpServer(metricsListener, 0);
    await yoga.dispose();
    await rateLimitStore.close?.().catch(() => {});
    await pruning.stop();
    await readReplicas?.close();
    await stopDatabase();
    await tracing?.shutdown().catch(() => {}); // the last spans, if the collector takes them
    say('stopped');
    logger.flush();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

/** Listens, and gives the address to show (the port chosen when asked for 0). */
async function listen(server: Server, port: number, host: string): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const shownHost = host === '0.0.0.0' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return `http://${shownHost}:${actualPort}`;
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || (error instanceof Error && /Embedded|Migration/.test(error.name))) {
    console.error(`[customer-gateway] cannot start: ${error.message}`);
  } else {
    console.error('[customer-gateway] cannot start:', error);
  }
  process.exit(1);
});
