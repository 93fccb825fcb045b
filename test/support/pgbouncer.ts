/**
 * PgBouncer (Debian's 1.18) in transaction mode in front of the test PostgreSQL, as production
 * runs it in front of the real one. Every database of the server is reachable through it under
 * its own name, logging in as the server URL's user; clients connect on loopback without a
 * password (`auth_type = trust`, the user listed in its userlist).
 *
 * PgBouncer refuses to run as root: as root it runs as `nobody`, from a folder of its own that
 * only that user reads (the file holds the server's password). `setpriv --pdeathsig` ends it if
 * whoever started it dies, so none outlives an interrupted run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { DEFAULT_STATEMENT_TIMEOUT_MS } from '../../src/infra/database/pool.ts';

const CANDIDATES = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer', '/usr/local/bin/pgbouncer'];
const UNPRIVILEGED = 'nobody';

/** Where `pgbouncer` is installed, if it is. */
export function findPgBouncer(): string | undefined {
  const onPath = spawnSync('/bin/sh', ['-c', 'command -v pgbouncer'], { encoding: 'utf8' }).stdout.trim();
  return onPath || CANDIDATES.find((candidate) => existsSync(candidate));
}

/** In CI (`CI` set, or `REQUIRE_PGBOUNCER=1` as `.ci/run` sets) a missing pgbouncer fails the run instead of skipping its tests. */
export const PGBOUNCER_REQUIRED = Boolean(process.env.CI) || process.env.REQUIRE_PGBOUNCER === '1';

/** The binary; without one, undefined on a developer's machine and an error in CI. */
export function requirePgBouncer(): string | undefined {
  const binary = findPgBouncer();
  if (!binary && PGBOUNCER_REQUIRED) throw new Error(`${PGBOUNCER_MISSING}, and CI must run the PgBouncer tests`);
  return binary;
}

export const PGBOUNCER_MISSING = 'pgbouncer is not installed (apt-get install -y pgbouncer)';

export interface PgBouncerOptions {
  /** Server connections per database (default 20). */
  poolSize?: number;
  /** Set on each server connection (default the gateway's, 5 s). */
  statementTimeoutMs?: number;
}

export interface PgBouncer {
  port: number;
  /** `database` through PgBouncer, with `pgbouncer=true` for the gateway. */
  url(database: string): string;
  /** A `SHOW` command of PgBouncer's admin console (`CLIENTS`, `SERVERS`, `POOLS`...), as rows. */
  show(what: string): Promise<Array<Record<string, unknown>>>;
  /** Kills it (SIGKILL), as a crash would. */
  kill(): Promise<void>;
  /** Starts it again on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startPgBouncer(serverUrl: string, options: PgBouncerOptions = {}): Promise<PgBouncer> {
  const binary = findPgBouncer();
  if (!binary) throw new Error(PGBOUNCER_MISSING);
  const server = new URL(serverUrl);
  const user = decodeURIComponent(server.username) || 'postgres';
  const runAs = process.getuid?.() === 0 ? idsOf(UNPRIVILEGED) : undefined;
  const folder = await mkdtemp(path.join(os.tmpdir(), 'customer-gateway-pgbouncer-'));
  const port = await freePort();
  const quote = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const ini = [
    '[databases]',
    // Any database name, on the same server; the statement timeout the gateway cannot send
    // through PgBouncer is set on each server connection instead.
    `* = host=${server.hostname} port=${server.port || 5432} user=${user} password=${quote(decodeURIComponent(server.password))} ` +
      `connect_query=${quote(`SET statement_timeout = ${options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS}`)}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    'auth_type = trust',
    `auth_file = ${path.join(folder, 'userlist.txt')}`,
    'pool_mode = transaction',
    `default_pool_size = ${options.poolSize ?? 20}`,
    'max_client_conn = 2000',
    `admin_users = ${user}`,
    'log_connections = 0',
    'log_disconnections = 0',
  ].join('\n');
  await writeFile(path.join(folder, 'pgbouncer.ini'), `${ini}\n`, { mode: 0o600 });
  await writeFile(path.join(folder, 'userlist.txt'), `"${user}" ""\n`, { mode: 0o600 });
  if (runAs) {
    for (const file of ['pgbouncer.ini', 'userlist.txt']) await chown(path.join(folder, file), runAs.uid, runAs.gid);
    await chown(folder, runAs.uid, runAs.gid);
  }
  await chmod(folder, 0o700);

  let child: ChildProcess | undefined;
  const start = async () => {
    const credentials = runAs ? [`--reuid=${runAs.uid}`, `--regid=${runAs.gid}`, '--clear-groups'] : [];
    const next = spawn('setpriv', [...credentials, '--pdeathsig=KILL', '--', binary, path.join(folder, 'pgbouncer.ini')], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child = next;
    let output = '';
    await new Promise<void>((resolve, reject) => {
      next.stderr!.on('data', (chunk: Buffer) => {
        output = (output + chunk.toString('utf8')).slice(-8_000);
        if (output.includes('process up')) resolve();
      });
      next.once('error', reject);
      next.once('exit', (code, signal) => reject(new Error(`pgbouncer exited during start-up (${code ?? signal}):\n${output}`)));
    });
  };
  const kill = async () => {
    const current = child;
    child = undefined;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => current.once('exit', () => resolve()));
    current.kill('SIGKILL');
    await exited;
  };
  await start();
  return {
    port,
    url: (database) => `postgresql://${encodeURIComponent(user)}@127.0.0.1:${port}/${database}?pgbouncer=true`,
    async show(what) {
      const console = new pg.Client({ connectionString: `postgresql://${encodeURIComponent(user)}@127.0.0.1:${port}/pgbouncer` });
      await console.connect();
      try {
        return (await console.query(`SHOW ${what}`)).rows;
      } finally {
        await console.end();
      }
    },
    kill,
    restart: start,
    async stop() {
      await kill();
      await rm(folder, { recursive: true, force: true });
    },
  };
}

function idsOf(user: string): { uid: number; gid: number } {
  const uid = spawnSync('id', ['-u', user], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', user], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) throw new Error(`running as root, pgbouncer needs the unprivileged user "${user}"`);
  return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
