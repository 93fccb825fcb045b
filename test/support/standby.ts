/**
 * A streaming hot standby of the test cluster, made without pg_basebackup (the embedded binaries
 * have none): a replication slot keeps the primary's WAL from the backup's start, then
 * pg_backup_start(), a copy of the data folder (what pg_basebackup leaves out, left out),
 * pg_backup_stop() and its backup_label, standby.signal and primary_conninfo. It replays the
 * whole cluster, so every test database is on it too. One extra process; remove() takes it
 * and its slot away.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../../src/infra/database/embedded-postgres.ts';
import { withClient } from './pg-client.ts';
import { waitFor } from './wait-for.ts';

export interface Standby {
  /** The standby's URL for a database of the cluster. */
  url(database: string): string;
  /** Stops the server, keeping its folder. */
  stop(): Promise<void>;
  /** Starts it again on the same port: it goes on streaming where it stopped. */
  start(): Promise<void>;
  /** Stops it, drops its slot on the primary and removes its folder. */
  remove(): Promise<void>;
}

/** Directories whose contents a base backup leaves out (they are made again at start). */
const EMPTY_DIRS = new Set(['pg_wal', 'pg_replslot', 'pg_dynshmem', 'pg_notify', 'pg_serial', 'pg_snapshots', 'pg_subtrans', 'pg_stat_tmp']);
const SKIPPED_FILES = new Set(['postmaster.pid', 'postmaster.opts', 'backup_label', 'tablespace_map', 'backup_manifest', 'postgresql.auto.conf.tmp']);

/** Whether this run's PostgreSQL has its data folder on this machine (not so with TEST_DATABASE_URL). */
export async function canMakeStandby(adminUrl: string): Promise<boolean> {
  const dataDir = await withClient(adminUrl, async (client) => (await client.query<{ data_directory: string }>('SHOW data_directory')).rows[0]!.data_directory);
  return existsSync(path.join(dataDir, 'PG_VERSION'));
}

/**
 * Starts a standby of the cluster behind `adminUrl` (a superuser's URL). `settings` are extra
 * server settings for the standby, e.g. `recovery_min_apply_delay`.
 */
export async function startStandby(adminUrl: string, settings: Record<string, string> = {}): Promise<Standby> {
  const slot = `cgw_standby_${randomBytes(4).toString('hex')}`;
  const primary = new pg.Client({ connectionString: adminUrl });
  await primary.connect();
  let standbyDir: string | undefined;
  try {
    const dataDir = (await primary.query<{ data_directory: string }>('SHOW data_directory')).rows[0]!.data_directory;
    // Reserves WAL from now: the standby streams from the backup's start, however late it connects.
    await primary.query('SELECT pg_create_physical_replication_slot($1, true)', [slot]);
    standbyDir = path.join(path.dirname(dataDir), `standby-${slot}`);
    await primary.query("SELECT pg_backup_start('customer-gateway test standby', true)");
    await copyDataDir(dataDir, standbyDir);
    const { rows } = await primary.query<{ labelfile: string; spcmapfile: string }>('SELECT labelfile, spcmapfile FROM pg_backup_stop(false)');
    await fs.writeFile(path.join(standbyDir, 'backup_label'), rows[0]!.labelfile);
    if (rows[0]!.spcmapfile) await fs.writeFile(path.join(standbyDir, 'tablespace_map'), rows[0]!.spcmapfile);
    await fs.writeFile(path.join(standbyDir, 'standby.signal'), '');
    const url = new URL(adminUrl);
    const conninfo = `host=${url.hostname} port=${url.port} user=${decodeURIComponent(url.username)} password=${decodeURIComponent(url.password)} application_name=${slot}`;
    // In the folder rather than on the command line: no password in `ps`.
    await fs.appendFile(
      path.join(standbyDir, 'postgresql.auto.conf'),
      `\nprimary_conninfo = '${conninfo.replace(/'/g, "''")}'\nprimary_slot_name = '${slot}'\n`,
    );
    await matchOwner(dataDir, standbyDir);
    // The password file the embedded server expects beside its folder (the cluster's superuser is the primary's).
    await fs.writeFile(`${standbyDir}.password`, `${decodeURIComponent(url.password)}\n`, { mode: 0o600 });
    const directory = standbyDir;
    const settingsOfStandby = {
      // A hot standby needs at least the primary's max_connections (the test cluster's is 300).
      max_connections: (await primary.query<{ max_connections: string }>('SHOW max_connections')).rows[0]!.max_connections,
      fsync: 'off',
      hot_standby: 'on',
      // Queries on the standby are not cancelled by vacuum on the primary.
      hot_standby_feedback: 'on',
      ...settings,
    };
    let server = await startEmbeddedPostgres({ dataDir: directory, settings: settingsOfStandby });
    const port = server.port;
    let running = true;
    const stop = async () => {
      if (running) await server.stop();
      running = false;
    };
    return {
      url: (database) => server.connectionString(database),
      stop,
      async start() {
        if (running) return;
        server = await startEmbeddedPostgres({ dataDir: directory, settings: settingsOfStandby, port });
        running = true;
      },
      async remove() {
        await stop();
        // The primary's sender may outlive the standby by a moment; the slot is dropped once it is free.
        await waitFor(
          () =>
            withClient(adminUrl, async (client) => {
              await client.query('SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1 AND NOT active', [slot]);
              return (await client.query('SELECT 1 FROM pg_replication_slots WHERE slot_name = $1', [slot])).rowCount === 0;
            }),
          { what: `replication slot ${slot} to be dropped` },
        );
        await fs.rm(directory, { recursive: true, force: true });
        await fs.rm(`${directory}.password`, { force: true });
      },
    };
  } catch (error) {
    await primary.query('SELECT pg_backup_stop(false)').catch(() => {});
    await primary.query('SELECT pg_drop_replication_slot($1) FROM pg_replication_slots WHERE slot_name = $1', [slot]).catch(() => {});
    if (standbyDir) await fs.rm(standbyDir, { recursive: true, force: true });
    throw error;
  } finally {
    await primary.end();
  }
}

/** Copies a live data folder: files that vanish meanwhile (temporary files, dropped relations) are skipped. */
async function copyDataDir(from: string, to: string, top = true): Promise<void> {
  await fs.mkdir(to, { recursive: true, mode: 0o700 });
  let entries;
  try {
    entries = await fs.readdir(from, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  for (const entry of entries) {
    const source = path.join(from, entry.name);
    const target = path.join(to, entry.name);
    if (entry.isDirectory()) {
      if (top && EMPTY_DIRS.has(entry.name)) {
        await fs.mkdir(target, { mode: 0o700 });
        if (entry.name === 'pg_wal') await fs.mkdir(path.join(target, 'archive_status'), { mode: 0o700 });
        continue;
      }
      if (entry.name.startsWith('pgsql_tmp')) continue;
      await copyDataDir(source, target, false);
    } else if (entry.isFile()) {
      if ((top && SKIPPED_FILES.has(entry.name)) || entry.name.startsWith('pg_internal.init')) continue;
      await fs.copyFile(source, target).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
  }
}

/** As root, the copy belongs to root; the server's user (the original's owner) must own it. */
async function matchOwner(original: string, copy: string): Promise<void> {
  const { uid, gid } = await fs.stat(original);
  if (process.getuid?.() !== 0) return;
  const walk = async (target: string): Promise<void> => {
    await fs.chown(target, uid, gid);
    for (const entry of await fs.readdir(target, { withFileTypes: true })) {
      if (entry.isDirectory()) await walk(path.join(target, entry.name));
      else await fs.chown(path.join(target, entry.name), uid, gid);
    }
  };
  await walk(copy);
}
