/**
 * What the protective HTTP plugins cost on a trivial query: the same `{ __typename }` request
 * (with a token header) against servers built by `createServer`, with and without
 * authentication + armor + request logs + metrics + rate limit (`hardening: false`).
 *
 *   node --import tsx bench/overhead.ts [--duration 5] [--connections 10] [--rounds 3]
 *
 * The servers run in this process; autocannon runs as a separate process. Uses DATABASE_URL,
 * or a throw-away embedded PostgreSQL. Variants take turns, round after round, and the median
 * is reported, because the machine is shared and its speed drifts. Besides throughput, the
 * server's own CPU time per request (this process: yoga, plugins, pg client) is reported: it
 * is less sensitive to other load than requests per second.
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
import { createMetricsRegistry } from '../src/http/metrics.ts';
import { MemoryRateLimitStore } from '../src/http/rate-limit.ts';
import { startEmbeddedPostgres } from '../src/infra/database/embedded-postgres.ts';
import { applyMigrations } from '../src/infra/database/migrate.ts';
import { createDatabase } from '../src/infra/database/prisma.ts';
import { PostgresRateLimitStore } from '../src/infra/database/rate-limit-store.ts';
import { createServer, type ServerDependencies } from '../src/server.ts';

const { values } = parseArgs({
  options: { duration: { type: 'string', default: '5' }, connections: { type: 'string', default: '10' }, rounds: { type: 'string', default: '3' } },
});
const duration = Number(values.duration);
const connections = Number(values.connections);
const rounds = Number(values.rounds);
const AUTOCANNON = path.resolve(import.meta.dirname, '../node_modules/.bin/autocannon');

interface Run {
  requestsPerSecond: number;
  cpuMicrosPerRequest: number;
  p99Ms: number;
  failures: number;
}

const median = (numbers: number[]) => {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

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
      [
        'hardened, rate limit in memory',
        { db, logger, metrics: createMetricsRegistry(), rateLimit: { requests: unlimited, windowMs: 60_000, store: new MemoryRateLimitStore() } },
      ],
      [
        'hardened, rate limit in PostgreSQL',
        { db, logger, metrics: createMetricsRegistry(), rateLimit: { requests: unlimited, windowMs: 60_000, store: PostgresRateLimitStore.open(url, 3) } },
      ],
    ];
    const targets = [];
    for (const [name, deps] of variants) {
      const { url: target, http } = await listen(deps);
      servers.push(http);
      targets.push({ name, target });
      await autocannon(target, secret, 1); // warm up: JIT, pool connections, caches
    }
    const runs = new Map<string, Run[]>(targets.map(({ name }) => [name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const { name, target } of targets) {
        const cpu = process.cpuUsage();
        const run = await autocannon(target, secret, duration);
        const used = process.cpuUsage(cpu);
        runs.get(name)!.push({
          requestsPerSecond: run.requests.average,
          cpuMicrosPerRequest: (used.user + used.system) / run.requests.total,
          p99Ms: run.latency.p99,
          failures: run.non2xx + run.errors,
        });
      }
    }
    const summary = targets.map(({ name }) => {
      const all = runs.get(name)!;
      return {
        name,
        rps: Math.round(median(all.map((r) => r.requestsPerSecond))),
        rounds: all.map((r) => Math.round(r.requestsPerSecond)).join(' '),
        cpuUs: Math.round(median(all.map((r) => r.cpuMicrosPerRequest))),
        p99Ms: median(all.map((r) => r.p99Ms)),
        failures: all.reduce((sum, r) => sum + r.failures, 0),
      };
    });
    const [bare] = summary;
    console.log(`{ __typename } with a token: ${connections} connections, ${duration} s per run, ${rounds} rounds, ${os.cpus().length} CPUs (shared)`);
    console.table(
      summary.map((r) => ({
        variant: r.name,
        'req/s (median)': r.rps,
        'req/s per round': r.rounds,
        'vs bare': `${((r.rps / bare!.rps) * 100).toFixed(0)}%`,
        'server CPU µs/req': r.cpuUs,
        'CPU added µs/req': r.cpuUs - bare!.cpuUs,
        'p99 ms': r.p99Ms,
        'non-2xx+errors': r.failures,
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
