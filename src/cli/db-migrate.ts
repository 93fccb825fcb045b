/** Applies pending migrations to DIRECT_DATABASE_URL or DATABASE_URL (or the embedded database when both are unset). */
import { loadConfig } from '../config.ts';
import { locateDatabase } from '../infra/database/connect.ts';
import { applyMigrations } from '../infra/database/migrate.ts';

const config = loadConfig();
const location = await locateDatabase(config, console.log);
try {
  const applied = await applyMigrations(location.directUrl, { log: console.log });
  console.log(applied.length === 0 ? 'no pending migrations' : `applied ${applied.length} migration(s)`);
} finally {
  await location.embedded?.stop();
}
