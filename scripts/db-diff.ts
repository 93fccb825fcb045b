/**
 * Writes the next migration from a change to prisma/schema.prisma:
 *   npm run db:diff -- <name>
 * Applies the existing migrations to a throw-away embedded PostgreSQL, diffs that database
 * against schema.prisma with Prisma's schema engine, and writes
 * prisma/migrations/<timestamp>_<name>/migration.sql when they differ.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres } from '../src/infra/database/embedded-postgres.ts';
import { applyMigrations, MIGRATIONS_DIR } from '../src/infra/database/migrate.ts';
import { diffDatabaseToSchema } from '../src/infra/database/schema-engine.ts';

const SCHEMA = fileURLToPath(new URL('../prisma/schema.prisma', import.meta.url));
const name = process.argv[2];
if (!name || !/^[a-z0-9_]{1,80}$/.test(name)) {
  console.error('usage: npm run db:diff -- <name>   (lower-case letters, digits and _)');
  process.exit(2);
}

const folder = await mkdtemp(path.join(os.tmpdir(), 'customer-gateway-diff-'));
await chmod(folder, 0o755);
const server = await startEmbeddedPostgres({ dataDir: path.join(folder, 'pg') });
try {
  const url = server.connectionString();
  await applyMigrations(url);
  const { drift, script } = await diffDatabaseToSchema(url, SCHEMA);
  if (!drift) {
    console.log('schema.prisma and the migrations agree: nothing to write');
  } else {
    const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
    const target = path.join(MIGRATIONS_DIR, `${stamp}_${name}`);
    await mkdir(target);
    await writeFile(path.join(target, 'migration.sql'), script);
    console.log(`wrote ${path.relative(process.cwd(), target)}/migration.sql:\n\n${script}`);
  }
} finally {
  await server.stop();
  await rm(folder, { recursive: true, force: true });
}
