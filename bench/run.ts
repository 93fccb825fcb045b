/**
 * `npm run bench`: measures what a customer update or read costs in each variant (see README.md,
 * "Benchmarks"), each in a fresh server process, against one embedded PostgreSQL seeded here,
 * and checks after each run that the database holds exactly the writes that were acknowledged
 * (and, for reads, that every answer carried what was asked and nothing was written).
 *
 *   npm run bench -- --duration 2 --warmup 1 --variants limit,gateway --connections 10
 *
 * Progress goes to stderr, the table to stdout, the figures to bench/results/latest.json.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createToken } from '../src/domain/tokens.ts';
import { createDatabase } from '../src/infra/database/prisma.ts';
import { appliedWrites, historyRows, seedCustomers, settle, startDatabase, withTriggers, type BenchDatabase } from './database.ts';
import { drive, drivePaced } from './load.ts';
import { atExit, buildServers, cleanUp, cpuMs, postgresCpuMs, ROOT, rssMb, startServer } from './processes.ts';
import { addRatios, formatTable, percentile, type Entry } from './report.ts';
import { formatQueries, measureQueries, type QueriesResult } from './queries.ts';
import { measureStartup, type StartupResult } from './startup.ts';
import { registerBenchEndpoint } from './webhooks.ts';
import { SERVER_NAMES, VARIANTS, workload, type Variant, type Workload } from './workloads.ts';

const log = (message: string) => console.error(`[bench] ${message}`);
/** gateway-webhook's second, steady run, and what keeps its written values apart from the others'. */
const STEADY_MS = 5_000;
const STEADY_RUN_OFFSET = 100_000;

const USAGE = `usage: npm run bench -- [options]   (each option also reads the environment variable shown)
  --warmup S           seconds of warm-up before each measurement      BENCH_WARMUP       (3)
  --duration S         seconds measured per variant and connection count BENCH_DURATION   (10)
  --connections N,M    concurrent connections                          BENCH_CONNECTIONS  (10,50)
  --variants A,B       any of ${VARIANTS.join(',')}  BENCH_VARIANTS (all)
  --customers N        customers seeded                                BENCH_CUSTOMERS    (100000)
  --seed N             seed of the random customer ids                 BENCH_SEED         (1)
  --no-startup         skip timing npm start to its first request      BENCH_STARTUP=false
  --no-queries         skip timing single requests of each filter      BENCH_QUERIES=false
  --profile            V8 CPU profiles of each server in bench/results/profiles/<run>/  BENCH_PROFILE=true`;

interface Options {
  warmupS: number;
  durationS: number;
  connections: number[];
  variants: Variant[];
  customers: number;
  seed: number;
  startup: boolean;
  queries: boolean;
  profile: boolean;
}

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      warmup: { type: 'string' },
      duration: { type: 'string' },
      connections: { type: 'string' },
      variants: { type: 'string' },
      customers: { type: 'string' },
      seed: { type: 'string' },
      'no-startup': { type: 'boolean' },
      'no-queries': { type: 'boolean' },
      profile: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const env = process.env;
  const number = (name: string, text: string, min: number) => {
    const value = Number(text);
    if (!Number.isFinite(value) || value < min) throw new Error(`${name} must be a number of at least ${min}, not "${text}"`);
    return value;
  };
  const list = (text: string) => text.split(',').map((item) => item.trim()).filter(Boolean);
  const variants = list(values.variants ?? env.BENCH_VARIANTS ?? VARIANTS.join(','));
  const unknown = variants.filter((variant) => !(VARIANTS as readonly string[]).includes(variant));
  if (unknown.length > 0) throw new Error(`unknown variant ${unknown.join(', ')}; variants are ${VARIANTS.join(', ')}`);
  return {
    warmupS: number('--warmup', values.warmup ?? env.BENCH_WARMUP ?? '3', 0),
    durationS: number('--duration', values.duration ?? env.BENCH_DURATION ?? '10', 1),
    connections: list(values.connections ?? env.BENCH_CONNECTIONS ?? '10,50').map((text) => Math.floor(number('--connections', text, 1))),
    variants: variants as Variant[],
    customers: Math.floor(number('--customers', values.customers ?? env.BENCH_CUSTOMERS ?? '100000', 1)),
    seed: Math.floor(number('--seed', values.seed ?? env.BENCH_SEED ?? '1', 0)),
    startup: !values['no-startup'] && env.BENCH_STARTUP !== 'false',
    queries: !values['no-queries'] && env.BENCH_QUERIES !== 'false',
    profile: values.profile === true || env.BENCH_PROFILE === 'true',
  };
}

/** mulberry32: a small seeded generator, so two benches send the same sequence of ids. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function loadCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

const round = (value: number | null, places: number) => (value === null ? null : Number(value.toFixed(places)));

interface RunContext {
  options: Options;
  database: BenchDatabase;
  ids: { min: number; max: number };
  seedMs: number;
  token: string;
}

async function measure(context: RunContext, variant: Variant, work: Workload, connections: number, run: number): Promise<Entry> {
  const { options, database } = context;
  const entry = emptyEntry(variant, work, connections, context);

  const say = (message: string) => log(`${variant} @${connections}: ${message}`);

  say('vacuum and checkpoint');
  await settle(database.client);
  // Registered before the server starts, as an endpoint made through the API is announced to
  // every running replica: the first events are not left for the server to find by polling.
  const endpoint = variant === 'gateway-webhook' ? await registerBenchEndpoint(database.client, say) : null;
  say(`starting a fresh ${work.server} server`);
  // One file per thread (tsx's loader runs on its own), hence a folder per run.
  const profileDir = path.join(ROOT, 'bench', 'results', 'profiles', `${variant}-${connections}`);
  const server = await startServer(
    work.server,
    { BENCH_DATABASE_URL: database.url, BENCH_NEEDS_PASSWORD: String(work.passwordShare > 0), ...work.env },
    options.profile ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
  );
  if ('unavailable' in server) {
    say(`skipped: ${server.unavailable}`);
    await endpoint?.close();
    return { ...entry, skipped: server.unavailable };
  }

  let peakRss = 0;
  const sampler = setInterval(() => {
    peakRss = Math.max(peakRss, rssMb(server.pid) ?? 0);
  }, 200);
  try {
    const writesBefore = await appliedWrites(database.client);
    const historyBefore = work.recordsHistory ? await historyRows(database.client) : 0;
    let start = { server: 0, postgres: 0, load: 0 };
    let end = start;
    const snapshot = () => ({
      server: cpuMs(server.pid),
      postgres: postgresCpuMs(database.postmasterPid),
      load: loadCpuMs(),
    });
    say(`warming up ${options.warmupS} s`);
    const result = await drive({
      port: server.port,
      connections,
      warmupMs: options.warmupS * 1000,
      measureMs: options.durationS * 1000,
      workload: work,
      run,
      ids: context.ids,
      random: seededRandom(options.seed * 1_000 + run),
      onMeasureStart: () => {
        start = snapshot();
        const rss = rssMb(server.pid) ?? null;
        entry.rssAfterWarmupMb = round(rss, 1);
        peakRss = Math.max(peakRss, rss ?? 0);
        say(`measuring ${options.durationS} s`);
      },
      onMeasureEnd: () => {
        end = snapshot();
        say('draining in-flight requests');
      },
      log: say,
    });
    clearInterval(sampler);
    peakRss = Math.max(peakRss, rssMb(server.pid) ?? 0);
    if (endpoint) {
      say('waiting for the webhook queue to drain');
      entry.webhooks = await endpoint.drain();
      // The run above is as fast as the server answers, where deliveries compete with writes for
      // the process; latency is then measured again at half that rate, which the server sustains.
      const rate = Math.max(50, Math.round(result.acknowledged / ((options.warmupS + options.durationS) * 2)));
      const since = Date.now();
      say(`steady run: ${rate} writes/s for ${STEADY_MS / 1000} s`);
      const steady = await drivePaced({
        port: server.port,
        workload: work,
        run: run + STEADY_RUN_OFFSET,
        ids: context.ids,
        random: seededRandom(options.seed * 1_000 + run + STEADY_RUN_OFFSET),
        rate,
        durationMs: STEADY_MS,
      });
      result.acknowledged += steady.acknowledged;
      result.unanswered += steady.unanswered;
      const figures = await endpoint.drain(since);
      entry.webhooks.steady = { rate, events: steady.acknowledged, p50Ms: figures.p50Ms, p95Ms: figures.p95Ms, p99Ms: figures.p99Ms };
      const total = await endpoint.drain();
      Object.assign(entry.webhooks, { events: total.events, delivered: total.delivered, missing: total.missing, duplicates: total.duplicates });
      if (total.missing > 0) say(`webhooks: ${total.missing} committed events were never queued: MISMATCH`);
    }
    await server.stop();

    const applied = (await appliedWrites(database.client)) - writesBefore;
    const history = work.recordsHistory ? (await historyRows(database.client)) - historyBefore : null;
    const { acknowledged, unanswered, wrong } = result;
    // A server that answers nothing right has measured nothing: that fails the run too.
    const none = acknowledged === 0 ? ', no successful answer' : '';
    if (work.effect === 'read') {
      const match = wrong === 0 && applied === 0 && !none;
      entry.reads = { answered: acknowledged + wrong, wrong, applied, match };
      say(`reads: ${wrong} of ${acknowledged + wrong} answers wrong, ${applied} writes${none}: ${match ? 'ok' : 'WRONG'}`);
    } else {
      const perRequest = work.customersPerRequest;
      const expected = acknowledged * perRequest;
      // Exact when every real request was answered; otherwise the cut-off ones may or may not have landed.
      const counted = unanswered === 0 ? applied === expected : applied >= expected && applied <= expected + unanswered * perRequest;
      const match = counted && wrong === 0 && (history === null || history === applied) && !none;
      entry.writes = { acknowledged, expected, applied, history, unanswered, wrong, match };
      say(
        `writes: ${applied} applied, ${expected} acknowledged${unanswered ? `, ${unanswered} requests unanswered` : ''}` +
          `${history === null ? '' : `, ${history} history rows`}${wrong ? `, ${wrong} wrong answers` : ''}${none}: ${match ? 'ok' : 'MISMATCH'}`,
      );
    }

    const successes = result.latencies.update.length + result.latencies.password.length;
    const responses = successes + result.failed + result.non2xx;
    const seconds = result.measuredMs / 1000;
    const perRequest = (ms: number) => (responses > 0 ? round(ms / responses, 4) : null);
    const primary = work.passwordShare === 1 ? result.latencies.password : result.latencies.update;
    Object.assign(entry, {
      rps: round(successes / seconds, 1),
      customersPerSecond: work.effect === 'write' ? round((successes * work.customersPerRequest) / seconds, 1) : null,
      p50: round(percentile(primary, 50), 3),
      p99: round(percentile(primary, 99), 3),
      errors: result.failed + result.transportErrors,
      non2xx: result.non2xx,
      transportErrors: result.transportErrors,
      cpuMsPerRequest: perRequest(end.server - start.server),
      postgresCpuMsPerRequest: perRequest(end.postgres - start.postgres),
      loadCpuMsPerRequest: perRequest(end.load - start.load),
      rssPeakMb: round(peakRss, 1),
    });
    if (work.passwordShare > 0 && work.passwordShare < 1) {
      const passwords = result.latencies.password;
      entry.password = {
        share: round(successes ? passwords.length / successes : 0, 4)!,
        requests: passwords.length,
        p50: round(percentile(passwords, 50), 3),
        p99: round(percentile(passwords, 99), 3),
      };
    }
    return entry;
  } finally {
    clearInterval(sampler);
    await server.stop();
    await endpoint?.close();
  }
}

async function benchToken(url: string): Promise<string> {
  const db = createDatabase({ connectionString: url, poolSize: 1 });
  try {
    return (await createToken(db, 'bench', ['customers:write'])).secret;
  } finally {
    await db.$disconnect();
  }
}

let aborting = false;

async function main(): Promise<number> {
  const options = readOptions();
  const runs = options.variants.length * options.connections.length;
  // Everything is bounded: a run that overstays this is stopped and cleaned up.
  const budgetMs = (runs * (options.warmupS + options.durationS + 120) + (options.startup ? 300 : 0) + (options.queries ? 300 : 0) + 300) * 1000;
  const watchdog = setTimeout(() => {
    log(`still running after ${Math.round(budgetMs / 1000)} s; giving up`);
    void finish(1);
  }, budgetMs);

  const folder = await mkdtemp(path.join(os.tmpdir(), 'customer-gateway-bench-'));
  // PostgreSQL runs as another user when we are root: it must be able to enter this folder.
  await chmod(folder, 0o755);
  atExit(() => rm(folder, { recursive: true, force: true }));

  log('building the servers');
  await buildServers(SERVER_NAMES);
  log('starting PostgreSQL');
  const database = await startDatabase(folder, log);
  atExit(() => database.stop());
  log(`seeding ${options.customers} customers`);
  const seedStart = performance.now();
  const seeded = await seedCustomers(database.client, options.customers);
  const seedMs = Math.round(performance.now() - seedStart);
  log(`seeded in ${seedMs} ms (insert ${seeded.insertMs} ms, vacuum and analyze ${seeded.vacuumMs} ms)`);
  const ids = { min: seeded.min, max: seeded.max };
  const context: RunContext = { options, database, ids, seedMs, token: await benchToken(database.url) };

  const entries: Entry[] = [];
  let run = 0;
  for (const variant of options.variants) {
    for (const connections of options.connections) {
      if (aborting) return 1;
      run++;
      // Fresh for each run: a workload keeps what its checks have seen.
      const work = workload(variant, context.token, ids);
      try {
        entries.push(await withTriggers(database.client, work.triggers, () => measure(context, variant, work, connections, run)));
      } catch (error) {
        if (aborting) return 1;
        log(`${variant} @${connections} failed: ${(error as Error).message}`);
        entries.push({ ...emptyEntry(variant, work, connections, context), error: (error as Error).message.split('\n')[0]! });
      }
    }
  }
  addRatios(entries);

  // After the variants: the long history it seeds changes one customer's version.
  let queries: QueriesResult | string | undefined;
  if (options.queries && !aborting) {
    try {
      queries = await measureQueries(database, ids, context.token, log);
    } catch (error) {
      log(`timing single queries failed: ${(error as Error).message}`);
      queries = (error as Error).message.split('\n')[0]!;
    }
  }

  let startup: StartupResult | string | undefined;
  if (options.startup && !aborting) {
    try {
      startup = await measureStartup(folder, log);
    } catch (error) {
      log(`timing npm start failed: ${(error as Error).message}`);
      startup = (error as Error).message.split('\n')[0]!;
    }
  }

  // An interrupted bench leaves the previous results alone.
  if (aborting) return 1;
  const resultsDir = path.join(ROOT, 'bench', 'results');
  await mkdir(resultsDir, { recursive: true });
  await writeFile(path.join(resultsDir, 'latest.json'), `${JSON.stringify(entries, null, 2)}\n`);
  if (startup && typeof startup !== 'string') {
    await writeFile(path.join(resultsDir, 'latest-startup.json'), `${JSON.stringify(startup, null, 2)}\n`);
  }
  if (queries && typeof queries !== 'string') {
    await writeFile(path.join(resultsDir, 'latest-queries.json'), `${JSON.stringify(queries, null, 2)}\n`);
  }
  console.log(formatTable(entries, startup));
  if (queries) console.log(`\n${typeof queries === 'string' ? `single queries: not measured (${queries})` : formatQueries(queries)}`);
  log(`results written to ${path.relative(process.cwd(), path.join(resultsDir, 'latest.json'))}`);
  clearTimeout(watchdog);
  const failed = (entry: Entry) =>
    entry.error || (entry.writes && !entry.writes.match) || (entry.reads && !entry.reads.match) || (entry.webhooks?.missing ?? 0) > 0;
  const queriesFailed = typeof queries === 'string' || (queries?.wrong ?? 0) > 0;
  return entries.some(failed) || queriesFailed ? 1 : 0;
}

function emptyEntry(variant: Variant, work: Workload, connections: number, context: RunContext): Entry {
  return {
    variant,
    connections,
    customers: context.options.customers,
    seedMs: context.seedMs,
    customersPerRequest: work.customersPerRequest,
    warmupS: context.options.warmupS,
    durationS: context.options.durationS,
    rps: null,
    customersPerSecond: null,
    p50: null,
    p99: null,
    errors: null,
    non2xx: null,
    transportErrors: null,
    cpuMsPerRequest: null,
    postgresCpuMsPerRequest: null,
    loadCpuMsPerRequest: null,
    rssAfterWarmupMb: null,
    rssPeakMb: null,
    writes: null,
    reads: null,
    ratioToLimit: null,
    ratioToPostgraphile: null,
    ratioToPostgraphileAudited: null,
  };
}

async function finish(code: number): Promise<void> {
  if (aborting) return;
  aborting = true;
  log('stopping servers and PostgreSQL, removing temporary files');
  await cleanUp(log);
  process.exit(code);
}

process.once('SIGINT', () => void finish(130));
process.once('SIGTERM', () => void finish(143));

main().then(
  (code) => finish(code),
  (error: unknown) => {
    log(`failed: ${(error as Error).stack ?? String(error)}`);
    return finish(1);
  },
);
