/**
 * How long the gateway takes to serve, on an embedded database that already exists (a first start
 * creates it and is not timed), from spawning the process to the first GraphQL request that
 * succeeds: `npm start` (`node --import tsx src/main.ts`), and the production build
 * (`NODE_ENV=production node dist/main.js`, after `npm run build`).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { atExit, ROOT, stopChild, tail } from './processes.ts';

export interface StartupResult extends StartTimes {
  /** The untimed first start: cluster creation, migrations and demo seed. */
  coldFirstRequestMs: number;
  /** The same warm start of the production build. */
  production: StartTimes;
}

export interface StartTimes {
  /** Spawn to the "ready ... http://..." line. */
  readyLineMs: number;
  /** Spawn to the first successful GraphQL request. */
  firstRequestMs: number;
  /** The "ready in N ms" the process reports itself (from its own start, after its modules load). */
  reportedReadyMs: number;
}

type Command = 'development' | 'production';
const COMMANDS: Record<Command, { args: string[]; env: NodeJS.ProcessEnv }> = {
  development: { args: ['--import', 'tsx', 'src/main.ts'], env: {} },
  production: { args: ['dist/main.js'], env: { NODE_ENV: 'production' } },
};

const READY = /ready in (\d+) ms: (http:\/\/[^\s"]+)/;
const START_TIMEOUT_MS = 120_000;

interface Started {
  child: ChildProcess;
  url: string;
  reportedReadyMs: number;
  readyAt: number;
  stop(): Promise<void>;
}

function start(dataDir: string, command: Command = 'development'): Promise<Started> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...COMMANDS[command].env, DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1' };
  delete env.DATABASE_URL;
  const child = spawn(process.execPath, COMMANDS[command].args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const forget = atExit(() => stopChild(child, 20_000));
  const stop = async () => {
    await stopChild(child, 20_000);
    forget();
  };
  const stderr = tail(child.stderr);
  return new Promise<Started>((resolve, reject) => {
    let stdout = '';
    const fail = (reason: string) => {
      clearTimeout(timer);
      void stop().finally(() => reject(new Error(`npm start ${reason}:\n${stdout.slice(-2_000)}${stderr()}`)));
    };
    const timer = setTimeout(() => fail(`printed no ready line within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
    child.once('exit', (code, signal) => fail(`exited (${code ?? signal})`));
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const match = READY.exec(stdout);
      if (!match) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      child.stdout!.removeAllListeners('data');
      child.stdout!.resume();
      resolve({ child, url: match[2]!, reportedReadyMs: Number(match[1]), readyAt: performance.now(), stop });
    });
  });
}

/** Polls until `{ __typename }` succeeds (introspection needs no token); returns when it did. */
async function firstSuccess(url: string, timeoutMs = 30_000): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  let last = '';
  while (performance.now() < deadline) {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }' }),
        signal: AbortSignal.timeout(5_000),
      });
      const body = (await response.json()) as { data?: { __typename?: string } };
      if (response.ok && body.data?.__typename === 'Query') return performance.now();
      last = `HTTP ${response.status} ${JSON.stringify(body).slice(0, 300)}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`no successful GraphQL request to ${url} within ${timeoutMs / 1000} s (last: ${last})`);
}

export async function measureStartup(folder: string, log: (message: string) => void): Promise<StartupResult> {
  const dataDir = path.join(folder, 'startup-data');

  log('npm start: first start (creates, migrates and seeds its embedded database; not timed)');
  const coldStart = performance.now();
  const cold = await start(dataDir);
  const coldFirstRequestMs = (await firstSuccess(cold.url)) - coldStart;
  await cold.stop();

  log('npm start: timing a second start on the warm database');
  const development = await timeWarmStart(dataDir, 'development');
  log('npm run build');
  const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
  log('node dist/main.js: timing a start on the warm database');
  const production = await timeWarmStart(dataDir, 'production');
  return { ...development, coldFirstRequestMs, production };
}

async function timeWarmStart(dataDir: string, command: Command): Promise<StartTimes> {
  const spawnedAt = performance.now();
  const warm = await start(dataDir, command);
  try {
    const succeededAt = await firstSuccess(warm.url);
    return { readyLineMs: warm.readyAt - spawnedAt, firstRequestMs: succeededAt - spawnedAt, reportedReadyMs: warm.reportedReadyMs };
  } finally {
    await warm.stop();
  }
}
