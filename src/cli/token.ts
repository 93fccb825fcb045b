/**
 * API tokens from the command line:
 *   token create --name NAME --scopes customers:read[,customers:write][,webhooks:manage]   prints the token alone
 *   token list                                                          one line per token
 *   token revoke NAME|ID
 * Uses DATABASE_URL, or the embedded database when it is unset.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.ts';
import { locateDatabase } from '../infra/database/connect.ts';
import { applyMigrations } from '../infra/database/migrate.ts';
import { createDatabase } from '../infra/database/prisma.ts';
import { SCOPES } from '../domain/principal.ts';
import { createToken, listTokens, revokeToken, TokenError } from '../domain/tokens.ts';

const USAGE = `usage:
  npm run --silent token -- create --name NAME --scopes ${SCOPES.join(',')}
  npm run --silent token -- list
  npm run --silent token -- revoke NAME|ID`;

function usage(problem?: string): never {
  console.error(problem ? `${problem}\n${USAGE}` : USAGE);
  process.exit(problem ? 2 : 0);
}

let parsed;
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: { name: { type: 'string' }, scopes: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
} catch (error) {
  usage((error as Error).message); // an unknown or malformed option
}
const { positionals, values } = parsed;
const [command, target] = positionals;
if (values.help) usage();
if (!command || !['create', 'list', 'revoke'].includes(command)) usage(command ? `unknown command "${command}"` : 'give a command');

// Progress goes to stderr: stdout carries only the result, so `$(npm run --silent token ...)` works.
let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(2);
}
const location = await locateDatabase(config, (message) => console.error(message));
const db = createDatabase({ connectionString: location.url, directConnectionString: location.directUrl, poolSize: 1 });
let exitCode = 0;
try {
  if (config.migrateOnStart) await applyMigrations(location.directUrl, { log: (message) => console.error(message) });
  if (command === 'create') {
    if (!values.name || !values.scopes) throw new TokenError(`create needs --name and --scopes\n${USAGE}`);
    const scopes = values.scopes.split(',').map((scope) => scope.trim()).filter(Boolean);
    const { secret } = await createToken(db, values.name, scopes);
    console.log(secret);
  } else if (command === 'list') {
    for (const token of await listTokens(db)) {
      const state = token.revokedAt ? `revoked ${token.revokedAt.toISOString()}` : 'active';
      const used = token.lastUsedAt ? token.lastUsedAt.toISOString() : 'never';
      console.log(`${token.id}\t${token.name}\t${token.scopes.join(',')}\t${state}\tcreated ${token.createdAt.toISOString()}\tlast used ${used}`);
    }
  } else {
    if (!target) throw new TokenError(`revoke needs a token name or id\n${USAGE}`);
    if (!(await revokeToken(db, target))) throw new TokenError(`no active token named or numbered "${target}"`);
    console.error(`revoked ${target}`);
  }
} catch (error) {
  // A known mistake gets its message; anything else (the database unreachable) its message too,
  // without a stack trace, and a different exit code.
  console.error(error instanceof Error ? error.message : String(error));
  exitCode = error instanceof TokenError ? 2 : 1;
} finally {
  await db.$disconnect();
  await location.embedded?.stop();
}
process.exit(exitCode);
