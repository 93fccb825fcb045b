/**
 * Real gateway processes (`node --import tsx src/main.ts`, as `npm start` runs it, or the build)
 * for the tests that need more than one server, or a server they can kill. Every process started
 * here is killed when the test file ends, and with SIGKILL when the test worker itself exits, so
 * none outlives a failed or interrupted run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
/** The tail of a process's output kept for failure messages. */
const OUTPUT_LIMIT = 64_000;

const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface HttpResult<T = any> {
  status: number;
  /** The body as text; empty when the request got no response. */
  text: string;
  /** The parsed body, when it is JSON. */
  body: T | undefined;
  ms: number;
  /** Set when no response arrived: the request timed out or the connection failed. */
  failure?: string;
}

export interface GatewayProcess {
  url: string;
  child: ChildProcess;
  output(): string;
  alive(): boolean;
  /** POSTs one operation with the given token, giving up after `timeoutMs`. */
  graphql<T = any>(query: string, variables?: Record<string, unknown>, options?: { token?: string; timeoutMs?: number }): Promise<HttpResult<T>>;
  /** Any request to the gateway, bounded by `timeoutMs`. */
  request(pathname: string, init?: RequestInit & { timeoutMs?: number }): Promise<HttpResult>;
  /** Sends the signal and waits for the process to exit (SIGKILL after 10 s). */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export interface GatewayOptions {
  databaseUrl: string;
  /** PostgreSQL itself, when `databaseUrl` leads to PgBouncer. */
  directDatabaseUrl?: string | undefined;
  /** The default token for `graphql`. */
  token?: string;
  env?: Record<string, string>;
  /** Node's arguments: by default the sources through tsx; `['dist/main.js']` runs the build. */
  args?: string[];
}

export async function startGateway(options: GatewayOptions): Promise<GatewayProcess> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    DATABASE_URL: options.databaseUrl,
    DIRECT_DATABASE_URL: options.directDatabaseUrl ?? '',
    PORT: '0',
    // Loopback only: with DATABASE_URL the default would be every interface.
    HOST: '127.0.0.1',
    MIGRATE_ON_START: 'false',
    // These tests send bursts that the rate limits would throttle; the limits have their own tests.
    RATE_LIMIT_REQUESTS: '0',
    ANONYMOUS_RATE_LIMIT_REQUESTS: '0',
    DATABASE_POOL_SIZE: '5',
    LOG_LEVEL: 'error',
    SHUTDOWN_TIMEOUT_MS: '2000',
    ...options.env,
  };
  const child = spawn(process.execPath, options.args ?? ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => running.delete(child));
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.length > OUTPUT_LIMIT * 2) output = output.slice(-OUTPUT_LIMIT);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the gateway printed no ready line in 30 s:\n${output}`)), 30_000);
    const onData = () => {
      const match = /ready in \d+ ms: (http:\/\/\S+?)\/graphql/.exec(output);
      if (match) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the gateway exited during start-up (${code ?? signal}):\n${output}`));
    });
  }).catch(async (error: unknown) => {
    child.kill('SIGKILL');
    await exited;
    throw error;
  });

  const request = async (pathname: string, init: RequestInit & { timeoutMs?: number } = {}): Promise<HttpResult> => {
    const { timeoutMs = 10_000, ...rest } = init;
    const started = performance.now();
    try {
      const response = await fetch(`${url}${pathname}`, { ...rest, signal: AbortSignal.timeout(timeoutMs) });
      const text = await response.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      return { status: response.status, text, body, ms: performance.now() - started };
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      return { status: 0, text: '', body: undefined, ms: performance.now() - started, failure: `${(error as Error).name}${cause?.code ? ` ${cause.code}` : ''}: ${(error as Error).message}` };
    }
  };

  return {
    url,
    child,
    output: () => output,
    alive: () => child.exitCode === null && child.signalCode === null,
    request,
    graphql(query, variables, { token = options.token, timeoutMs } = {}) {
      return request('/graphql', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          ...(token ? { 'x-auth-token': token } : {}),
        },
        body: JSON.stringify({ query, variables }),
        timeoutMs,
      });
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      child.kill(signal);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Kills every gateway still running (for afterAll). */
export async function stopGateways(): Promise<void> {
  await Promise.all(
    [...running].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}
