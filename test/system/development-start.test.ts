/**
 * `npm start` as a developer and as production run it: the development token (printed, kept in
 * a 0600 file, reused while valid, replaced when revoked), GraphiQL filled in with it, none of
 * that in production, and SIGTERM letting requests in flight finish, up to a deadline.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../support/wait-for.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
let dataDir: string;
const started: ChildProcess[] = [];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'cgw-devstart-'));
  await chmod(dataDir, 0o755);
});
afterAll(async () => {
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(started.map((child) => (child.exitCode === null && child.signalCode === null ? new Promise((r) => child.once('exit', r)) : null)));
  await rm(dataDir, { recursive: true, force: true });
});

function environment(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, PORT: '0', NODE_ENV: 'development', LOG_LEVEL: 'info', ...extra };
  delete env.DATABASE_URL;
  return env;
}

interface Started {
  child: ChildProcess;
  url: string;
  output: () => string;
  exited: Promise<number | null>;
}

async function start(extra: NodeJS.ProcessEnv = {}): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env: environment(extra) });
  started.push(child);
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line in 30 s:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /ready in \d+ ms: (http:\/\/[^\s"/]+)\/graphql/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => reject(new Error(`exited with ${code}:\n${output}`)));
  });
  return { child, url, output: () => output, exited };
}

const TOKEN_LINE = /development token \(customers:write, (new, )?kept in (\S+)\): (cgw_\S+)/;

async function graphql(url: string, token: string, query: string) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-auth-token': token },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/**
 * A POST whose body is sent in two parts, so the request is in flight until `finish()`.
 * `received` resolves when the server has read its head: it asks for "100 Continue", which
 * Node's server sends just before handing the request to the application.
 */
function slowRequest(url: string) {
  const body = Buffer.from(JSON.stringify({ query: '{ slow: __typename }' }));
  const req = httpRequest(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': String(body.length), expect: '100-continue' },
  });
  const received = new Promise<void>((resolve) => req.once('continue', () => resolve()));
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  req.write(body.subarray(0, 5));
  return { received, response, finish: () => req.end(body.subarray(5)) };
}

describe('npm start in development', () => {
  let token: string;

  it('prints a development token, keeps it in a 0600 file, and fills it into GraphiQL', async () => {
    const server = await start();
    const [, isNew, file, secret] = TOKEN_LINE.exec(server.output())!;
    token = secret!;
    expect(isNew).toBe('new, ');
    expect(file).toBe(path.join(dataDir, 'dev-token'));
    expect((await stat(file!)).mode & 0o777).toBe(0o600);
    expect((await readFile(file!, 'utf8')).trim()).toBe(token);

    const updated = await graphql(server.url, token, 'mutation { updateCustomer(id: "1", input: { company: "Dev Co" }) { customer { company } errors { __typename } } }');
    expect(updated.body).toEqual({ data: { updateCustomer: { customer: { company: 'Dev Co' }, errors: [] } } });

    const page = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    const html = await page.text();
    expect(html).toContain(JSON.stringify(JSON.stringify({ 'X-Auth-Token': token }, null, 2)).slice(1, -1));
    expect(html).toContain('updateCustomer(id: \\"1\\"');

    server.child.kill('SIGINT');
    expect(await server.exited).toBe(0);
  });

  it('prints the same token on the next start, and a new one once it was revoked', async () => {
    const second = await start();
    const [, isNew, , secret] = TOKEN_LINE.exec(second.output())!;
    expect(isNew).toBeUndefined();
    expect(secret).toBe(token);

    const revoked = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/token.ts', 'revoke', 'development'], {
      cwd: ROOT,
      env: environment(),
      encoding: 'utf8',
    });
    expect(revoked.status, revoked.stderr).toBe(0);
    expect((await graphql(second.url, token, '{ __typename }')).status).toBe(401);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);

    const third = await start();
    const [, thirdNew, , thirdSecret] = TOKEN_LINE.exec(third.output())!;
    expect(thirdNew).toBe('new, ');
    expect(thirdSecret).not.toBe(token);
    expect((await graphql(third.url, thirdSecret!, '{ customer(id: "1") { id } }')).body).toEqual({ data: { customer: { id: '1' } } });
    expect((await readFile(path.join(dataDir, 'dev-token'), 'utf8')).trim()).toBe(thirdSecret);
    token = thirdSecret!;
    third.child.kill('SIGINT');
    expect(await third.exited).toBe(0);
  });
});

describe('SIGTERM', () => {
  it('stops accepting, lets a request in flight finish, then stops the database and exits 0', async () => {
    const server = await start();
    const inFlight = slowRequest(server.url);
    await inFlight.received;
    server.child.kill('SIGTERM');
    await waitFor(() => server.output().includes('SIGTERM: stopping'), { what: 'the stopping line' });
    // no new connections
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    inFlight.finish();
    const answer = await inFlight.response;
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ data: { slow: 'Query' } });
    expect(await server.exited).toBe(0);
    expect(server.output()).toMatch(/stopped/);
  });

  it('closes a request that never finishes once SHUTDOWN_TIMEOUT_MS is over (production: no token, no GraphiQL, JSON logs)', async () => {
    const server = await start({ NODE_ENV: 'production', SHUTDOWN_TIMEOUT_MS: '1000' });
    expect(server.output()).not.toMatch(/cgw_|development token/);
    const lines = server.output().trim().split('\n');
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    const page = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type') ?? '').not.toMatch(/html/);

    const stuck = slowRequest(server.url);
    stuck.response.catch(() => {}); // its connection is cut at the deadline
    await stuck.received;
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    await expect(stuck.response).rejects.toThrow();
    expect(server.output()).toMatch(/shutdown deadline reached/);
  });
});
