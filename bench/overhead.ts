/**
 * What the protective HTTP plugins cost on a trivial query: the same `{ __typename }` request
 * (with a token header) against servers built by `createServer`, with and without
 * authentication + armor + request logs + metrics + rate limit (`hardening: false`).
 *
 *   node --import tsx bench/overhead.ts [--duration 5] [--connections 10]
 *
 * The servers run in this process; autocannon runs as a separate process. Uses DATABASE_URL,
 * or a throw-away embedded PostgreSQL. The machine is shared: run it more than once.
 */
import { spawn } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createToken } from '../src/domain/tokens.ts';
import { createLogger } from '../src/http/logging.ts';
import { MemoryRateLimitStore, PostgresRateLimitStore } from '../src/http/rate-limit.ts';
import { startEmbeddedPostgres } from '../src/infra/database/embedded-postgres.ts';
import { applyMigrations } from '../src/infra/database/migrate.ts';
import { createDatabase, databasePool } from '../src/infra/database/prisma.ts';
import { createServer, type ServerDependencies } from '../src/server.ts';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '5' }, connections: { type: 'string', default: '10' } } });
const duration = Number(values.duration);
const connections = Number(values.connections);
const AUTOCANNON = path.resolve(import.meta.dirname, '../node_modules/.bin/autocannon');

interface Result {
  name: string;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

async function listen(deps: ServerDependencies): Promise<{ url: string; http: Server }> {
  const http = createHttpServer(createServer(deps));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/graphql`, http };
}

function autocannon(url: string, token: string, seconds: number): Promise<Record<string, any>> {
  const args = ['-c', String(connections), '-d', String(seconds), '-m', 'POST', '-j'];
  args.push('-H', 'content-type=application/json', '-H', `x-auth-token=${token}`, '-b', JSON.stringify({ query: '{ __typename }' }), url);
  return new Promise((resolve, reject) => {
    const child = spawn(AUTOCANNON, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`autocannon exited with ${code}`))));
  });
}

async function main() {
  let folder: string | undefined;
  let stopPostgres = async () => {};
  let url = process.env.DATABASE_URL;
  if (!url) {
    folder = await mkdtemp(path.join(os.tmpdir(), 'cgw-overhead-'));
    await chmod(folder, 0o755);
    const postgres = await startEmbeddedPostgres({ dataDir: path.join(folder, 'pg') });
    stopPostgres = () => postgres.stop();
    url = postgres.connectionString();
  }
  const db = createDatabase({ connectionString: url, poolSize: 10 });
  const servers: Server[] = [];
  try {
    await applyMigrations(url);
    const { secret } = await createToken(db, `overhead-${Date.now()}`, ['customers:read']);
    // Logs are written, as in production, but to /dev/null: the cost measured is making them.
    const logger = createLogger('info', (await import('pino')).pino.destination({ dest: '/dev/null', sync: false }));
    const unlimited = 1_000_000_000; // counted, never refused
    const variants: Array<[string, ServerDependencies]> = [
      ['bare (hardening off)', { db, hardening: false, rateLimit: false }],
      ['hardened, rate limit in memory', { db, logger, rateLimit: { requests: unlimited, windowMs: 60_000, store: new MemoryRateLimitStore() } }],
      ['hardened, rate limit in PostgreSQL', { db, logger, rateLimit: { requests: unlimited, windowMs: 60_000, store: new PostgresRateLimitStore(databasePool(db)) } }],
    ];
    const targets = [];
    for (const [name, deps] of variants) {
      const { url: target, http } = await listen(deps);
      servers.push(http);
      targets.push({ name, target });
      await autocannon(target, secret, 1); // warm up: JIT, pool connections, caches
    }
    const results: Result[] = [];
    for (const { name, target } of targets) {
      const run = await autocannon(target, secret, duration);
      results.push({
        name,
        requestsPerSecond: Math.round(run.requests.average),
        p50Ms: run.latency.p50,
        p99Ms: run.latency.p99,
        non2xx: run.non2xx,
        errors: run.errors,
      });
    }
    const baseline = results[0]!.requestsPerSecond;
    console.log(`{ __typename } with a token, ${connections} connections, ${duration} s each (${os.cpus().length} CPUs, shared)`);
    console.table(
      // The server is one Node thread kept busy by the load: 1/throughput is its time per request.
      results.map((r) => ({
        ...r,
        'vs bare': `${((r.requestsPerSecond / baseline) * 100).toFixed(0)}%`,
        'µs added per request': Math.round(1e6 / r.requestsPerSecond - 1e6 / baseline),
      })),
    );
  } finally {
    for (const http of servers) {
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    }
    await db.$disconnect();
    await stopPostgres();
    if (folder) await rm(folder, { recursive: true, force: true });
  }
}

await main();
