/**
 * The process: reads configuration once, finds or starts the database, migrates, listens, and
 * shuts everything down in order on SIGINT or SIGTERM.
 */
import { createServer as createHttpServer } from 'node:http';
import { ConfigError, loadConfig } from './config.ts';
import { createDatabase } from './infra/database/prisma.ts';
import { locateDatabase } from './infra/database/connect.ts';
import { applyMigrations } from './infra/database/migrate.ts';
import { seedDemoCustomers } from './infra/database/seed.ts';
import { generatePassword, hashPassword } from './domain/passwords.ts';
import { createServer } from './server.ts';

const startedAt = performance.now();
const say = (message: string) => console.log(`[customer-gateway] ${message}`);

async function main(): Promise<void> {
  const config = loadConfig();
  const location = await locateDatabase(config, say);
  const db = createDatabase({ connectionString: location.url, poolSize: config.poolSize });
  const stopDatabase = async () => {
    await db.$disconnect().catch(() => {});
    await location.embedded?.stop();
  };
  try {
    if (config.migrateOnStart) {
      const applied = await applyMigrations(location.url, { log: say });
      if (applied.length === 0) say('database schema is up to date');
    }
    if (location.embedded) {
      const seeded = await seedDemoCustomers(db, () => hashPassword(generatePassword()));
      if (seeded > 0) say(`seeded ${seeded} demo customers`);
    }
  } catch (error) {
    await stopDatabase();
    throw error;
  }

  const yoga = createServer({ db, production: config.production });
  const http = createHttpServer(yoga);
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(config.port, config.host, resolve);
  });
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const shownHost = config.host === '0.0.0.0' ? '127.0.0.1' : config.host;
  say(`ready in ${Math.round(performance.now() - startedAt)} ms: http://${shownHost}:${port}/graphql`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping`);
    // Stop accepting, let in-flight requests finish (bounded), then close the pool and database.
    const closed = new Promise<void>((resolve) => http.close(() => resolve()));
    http.closeIdleConnections();
    const deadline = setTimeout(() => http.closeAllConnections(), 10_000);
    await closed;
    clearTimeout(deadline);
    await stopDatabase();
    say('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || (error instanceof Error && /Embedded|Migration/.test(error.name))) {
    console.error(`[customer-gateway] cannot start: ${error.message}`);
  } else {
    console.error('[customer-gateway] cannot start:', error);
  }
  process.exit(1);
});
