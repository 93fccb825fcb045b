/**
 * Where the database is: `DATABASE_URL` (and `DIRECT_DATABASE_URL` when that one leads to
 * PgBouncer), or an embedded PostgreSQL under the data folder (started here, with the gateway's
 * own database created on first use).
 */
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.ts';
import { parseDatabaseUrl } from './pool.ts';

export const EMBEDDED_DATABASE = 'customer_gateway';

export interface DatabaseLocation {
  /** For the pool: PostgreSQL, or PgBouncer with `pgbouncer=true`. */
  url: string;
  /** PostgreSQL itself, for what holds a session: migrations (advisory lock) and LISTEN. */
  directUrl: string;
  /** Set when this process started an embedded server; stop it on the way out. */
  embedded: EmbeddedPostgres | undefined;
}

export async function locateDatabase(
  options: { databaseUrl: string | undefined; directDatabaseUrl?: string | undefined; dataDir: string },
  log: (message: string) => void,
): Promise<DatabaseLocation> {
  if (options.databaseUrl) {
    return { url: options.databaseUrl, directUrl: parseDatabaseUrl(options.directDatabaseUrl ?? options.databaseUrl).url, embedded: undefined };
  }
  const embedded = await startEmbeddedPostgres({ dataDir: path.join(options.dataDir, 'pg'), log });
  try {
    await ensureDatabase(embedded.connectionString(), EMBEDDED_DATABASE);
    const url = embedded.connectionString(EMBEDDED_DATABASE);
    return { url, directUrl: url, embedded };
  } catch (error) {
    await embedded.stop();
    throw error;
  }
}

/** Creates the database when missing. */
export async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return;
    await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } finally {
    await client.end();
  }
}
