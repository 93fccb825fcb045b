/**
 * `npm start` as a user runs it: no DATABASE_URL, an embedded PostgreSQL in a data folder,
 * migrated and seeded on first start, kept across restarts, and gone when the gateway stops.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait-for.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'cgw-start-'));
  await chmod(dataDir, 0o755);
});
const started: ChildProcess[] = [];
afterAll(async () => {
  for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
  await rm(dataDir, { recursive: true, force: true });
});

function environment(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: '0', NODE_ENV: 'development' };
  delete env.DATABASE_URL;
  return env;
}

async function start(): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env: environment() });
  started.push(child);
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line in 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /ready in \d+ ms: (http:\/\/\S+)\/graphql/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)));
  });
  return { child, url, output: () => output };
}

function stop(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill(signal);
  });
}

/** PostgreSQL server processes on this test's data folder (not the guardian shell around one). */
function postgresProcesses(): string[] {
  const { stdout } = spawnSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
  return stdout.split('\n').filter((line) => /^\S*\/postgres -D /.test(line) && line.includes(dataDir));
}

function createToken(): string {
  const result = spawnSync(
    process.execPath,
    ['--import', 'tsx', 'src/cli/token.ts', 'create', '--name', `start-${Date.now()}`, '--scopes', 'customers:read'],
    { cwd: ROOT, env: environment(), encoding: 'utf8' },
  );
  expect(result.status, result.stderr).toBe(0);
  return result.stdout.trim();
}

async function firstCustomer(url: string, token: string) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-auth-token': token },
    body: JSON.stringify({ query: '{ customer(id: "1") { id email history { edges { node { version actor changes { field } } } } } }' }),
  });
  return (await response.json()) as {
    data: { customer: { id: string; email: string; history: { edges: Array<{ node: { version: number; actor: string; changes: Array<{ field: string }> } }> } } | null };
  };
}

describe('npm start with the embedded database', () => {
  it('migrates and seeds on first start, serves, and stops its PostgreSQL on SIGINT', async () => {
    const { child, url, output } = await start();
    expect(output()).toMatch(/applied migration/);
    expect(output()).toMatch(/seeded 3 demo customers/);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    // `npm run token` beside the running gateway shares its database
    const token = createToken();
    expect(token).toMatch(/^cgw_/);
    const customer = (await firstCustomer(url, token)).data.customer;
    expect(customer).toMatchObject({ id: '1', email: 'jane.doe@example.com' });
    // a demo customer's creation is in its history, like any other customer's
    const history = customer!.history.edges.map(({ node }) => node);
    expect(history).toHaveLength(1);
    expect(history[0]).toMatchObject({ version: 1, actor: 'demo-seed' });
    expect(history[0]!.changes.map(({ field }) => field)).toEqual(expect.arrayContaining(['firstName', 'email', 'storeCredit']));
    expect(postgresProcesses()).toHaveLength(1);
    expect(await stop(child, 'SIGINT')).toBe(0);
    expect(postgresProcesses()).toEqual([]);
  });

  it('finds the same data on the next start, and leaves no PostgreSQL behind even when killed with SIGKILL', async () => {
    const token = createToken();
    const { child, url, output } = await start();
    expect(output()).not.toMatch(/seeded/);
    expect((await firstCustomer(url, token)).data.customer?.email).toBe('jane.doe@example.com');
    await stop(child, 'SIGKILL');
    await waitFor(() => postgresProcesses().length === 0, { intervalMs: 100, what: 'its PostgreSQL to stop' });
  });

  it('names the bad variable when the configuration is invalid', () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: ROOT,
      env: { ...environment(), PORT: 'eighty' },
      encoding: 'utf8',
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/PORT/);
  });
});
