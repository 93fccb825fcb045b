/**
 * Reads on streaming standbys (READ_REPLICA_URLS), without ever giving a token an older state
 * than one it was already given.
 *
 * Written here rather than with @prisma/extension-read-replicas: two of the three reads
 * (`customer(id)`, history) are prepared statements on node-postgres pools, which the extension
 * cannot route, and it picks a replica at random per query with no notion of lag, of
 * read-your-writes, or of a replica that is down.
 *
 * How a replica proves what it has: every `pollMs` the primary's WAL position is sampled (asked
 * after noting the time; see PRIMARY_POSITION), and each replica's replay position
 * (`pg_last_wal_replay_lsn()`). Once a replica has replayed past a sample, it holds every commit
 * acknowledged before that sample was taken: that time is its `caughtUpThrough`.
 *
 * What a token was given: after each operation, the time it ended (`seen`); and, when its reads
 * came from one replica, which one. A replica serves the token when it has caught up through
 * `seen`, or when it is the replica the token last read from (a replica only moves forward) and
 * it has caught up through everything the token got elsewhere (`outside`).
 */
import pg from 'pg';
import { databaseError, DatabaseFailure, DatabaseUnavailable, SerializationFailure } from './database-errors.ts';
import { drop } from './notifications.ts';
import { createDatabase, databasePool, type Database } from './prisma.ts';
import { parseLsn, replayedPast } from './wal-position.ts';

/** Where one request reads. */
export interface ReadRoute {
  /** Runs a read where this request reads; a replica that cannot answer hands it to the primary. */
  run<T>(read: (db: Database) => Promise<T>): Promise<T>;
  /** The database this request reads from, chosen at first use (for loads that cannot go through `run`). */
  readonly db: Database;
  /** The request's token has now been given what it read or wrote. */
  delivered(): void;
}

/** Every read on the primary, nothing to record: a server without replicas. */
export function primaryReads(db: Database): ReadRoute {
  return { db, run: (read) => read(db), delivered: () => {} };
}

export interface ReadReplicaOptions {
  urls: readonly string[];
  /** Connections per replica. */
  poolSize: number;
  statementTimeoutMs: number;
  /** How often the primary's and the replicas' WAL positions are compared (default 100 ms). */
  pollMs?: number;
  /** A replica not proven this close to the primary takes no reads (default 30 s). */
  maxLagMs?: number;
  /** A replica stopped answering (said once per outage). */
  onUnavailable?: (replica: string, error: unknown) => void;
  /** It answers again. */
  onAvailable?: (replica: string) => void;
  /** It answers but is no standby (a promoted or mistyped server): it takes no reads. */
  onNotStandby?: (replica: string) => void;
}

/**
 * Query operations by where their reads went, counted as each ends: on a replica; on the primary
 * because no replica had yet what the token was given (`primaryBehind`) or none was answering
 * (`primaryUnavailable`); or on the primary after a replica failed a read (`fallback`).
 */
export type RouteCounts = Record<'replica' | 'primaryBehind' | 'primaryUnavailable' | 'fallback', number>;
type Route = keyof RouteCounts;

interface Replica {
  /** host:port/database, never the password. */
  readonly name: string;
  readonly db: Database;
  /** A connection of its own for probes, made again after any failure: a stalled one is dropped, not waited for. */
  probeClient: pg.Client | undefined;
  state: 'starting' | 'up' | 'down' | 'not-standby';
  /** Every commit acknowledged before this time (performance.now()) is replayed here. */
  caughtUpThrough: number;
  replayed: bigint | undefined;
  probing: boolean;
}

/** What one token was given, as times (performance.now()) by which it had committed. */
interface Reader {
  /** Everything: its last operation's end. */
  seen: number;
  /** The replica its last reads came from, if they did: that replica still has what it gave... */
  replica: Replica | undefined;
  /** ...and the rest had committed by this time. */
  outside: number;
}

/** How long a replica has to answer a probe before it counts as down. */
const PROBE_TIMEOUT_MS = 1_000;
/**
 * Where the primary's WAL holds every commit already acknowledged, or visible, on this pool's
 * sessions: with synchronous commits, what is flushed (a commit is flushed before it shows);
 * with `synchronous_commit = off`, what is inserted, since a commit then shows before its flush.
 * (The inserted position can wait for an unflushed tail in a quiet moment: correct, only slower.)
 */
const PRIMARY_POSITION = `SELECT CASE WHEN current_setting('synchronous_commit') = 'off' THEN pg_current_wal_insert_lsn()
                                 ELSE pg_current_wal_flush_lsn() END::text AS lsn,
                            (SELECT setting FROM pg_settings WHERE name = 'wal_segment_size') AS segment`;
const REPLICA_POSITION = 'SELECT pg_is_in_recovery() AS standby, pg_last_wal_replay_lsn()::text AS replayed';
/** SQLSTATEs after which a read goes to the primary instead: a recovery conflict, or a replica that cannot serve this database. */
const NOT_HERE = new Set(['40001', '40P01', '57P04', '3D000', '28000', '28P01']);

export class ReadReplicas {
  readonly counts: RouteCounts = { replica: 0, primaryBehind: 0, primaryUnavailable: 0, fallback: 0 };
  private readonly replicas: Replica[];
  private readonly readers = new Map<number, Reader>();
  /** The primary's WAL position, sampled: oldest first. */
  private readonly samples: Array<{ at: number; lsn: bigint }> = [];
  /** The primary's WAL segment size, in bytes. */
  private segmentSize = 16n * 1024n * 1024n;
  /** What the process found at start (its migrations) must be on a replica before it takes a read. */
  private readonly openedAt = performance.now();
  private readonly pollMs: number;
  private readonly maxLagMs: number;
  private next = 0;
  private timer: NodeJS.Timeout | undefined;
  private ticking: Promise<void> | undefined;
  private closed = false;

  constructor(
    private readonly primary: Database,
    private readonly options: ReadReplicaOptions,
  ) {
    this.pollMs = options.pollMs ?? 100;
    this.maxLagMs = options.maxLagMs ?? 30_000;
    this.replicas = options.urls.map((url) => ({
      name: replicaName(url),
      db: createDatabase({ connectionString: withApplicationName(url), poolSize: options.poolSize, statementTimeoutMs: options.statementTimeoutMs }),
      probeClient: undefined,
      state: 'starting',
      caughtUpThrough: -Infinity,
      replayed: undefined,
      probing: false,
    }));
    this.ticking = this.tick();
  }

  /** A query's reads: a replica that has what the token was given, else the primary. */
  forQuery(reader: number | null): ReadRoute {
    const primary = this.primary;
    let chosen: Replica | null | undefined;
    let route: Route = 'replica';
    const choose = (): Replica | null => {
      if (chosen === undefined) [chosen, route] = this.choose(reader);
      return chosen;
    };
    return {
      get db() {
        return choose()?.db ?? primary;
      },
      run: async (read) => {
        const replica = choose();
        if (!replica) return read(primary);
        try {
          return await read(replica.db);
        } catch (error) {
          const reason = cannotAnswer(error);
          if (!reason) throw error;
          if (reason === 'unavailable') this.markDown(replica, error);
          chosen = null;
          route = 'fallback';
          return read(primary);
        }
      },
      delivered: () => {
        if (chosen === undefined) return; // it read nothing
        this.counts[route] += 1;
        this.served(reader, chosen);
      },
    };
  }

  /** A write's or a subscription's reads: the primary; what it gives the token is recorded. */
  forWrite(reader: number | null): ReadRoute {
    return { db: this.primary, run: (read) => read(this.primary), delivered: () => this.served(reader, null) };
  }

  /** How far behind each replica is proven to be (Infinity until it has proven anything). */
  lag(): Array<{ replica: string; lagMs: number }> {
    const now = performance.now();
    return this.replicas.map((replica) => ({ replica: replica.name, lagMs: now - replica.caughtUpThrough }));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.ticking;
    await Promise.all(
      this.replicas.map(async (replica) => {
        if (replica.probeClient) await drop(replica.probeClient);
        await replica.db.$disconnect().catch(() => {});
      }),
    );
  }

  /** The next replica in turn that has what the reader was given, or the primary and why. */
  private choose(reader: number | null): [Replica | null, Route] {
    const now = performance.now();
    const state = reader === null ? undefined : this.readers.get(reader);
    let anyUp = false;
    for (let i = 0; i < this.replicas.length; i++) {
      const replica = this.replicas[(this.next + i) % this.replicas.length]!;
      if (replica.state !== 'up') continue;
      anyUp = true;
      if (this.holds(replica, state, now)) {
        this.next = (this.next + i + 1) % this.replicas.length;
        return [replica, 'replica'];
      }
    }
    return [null, anyUp ? 'primaryBehind' : 'primaryUnavailable'];
  }

  /** Whether the replica has everything this reader was given. */
  private holds(replica: Replica, state: Reader | undefined, now: number): boolean {
    const through = replica.caughtUpThrough;
    if (through <= this.openedAt || through < now - this.maxLagMs) return false;
    if (!state) return true;
    return through > state.seen || (replica === state.replica && through > state.outside);
  }

  private served(reader: number | null, replica: Replica | null): void {
    if (reader === null) return;
    const now = performance.now();
    const state = this.readers.get(reader);
    if (!state) {
      this.readers.set(reader, { seen: now, replica: replica ?? undefined, outside: replica ? -Infinity : now });
    } else if (!replica) {
      // From the primary: newer than anything a replica was proven to have.
      state.seen = now;
      state.outside = now;
      state.replica = undefined;
    } else {
      if (replica !== state.replica) {
        state.outside = state.seen;
        state.replica = replica;
      }
      state.seen = now;
    }
  }

  private async tick(): Promise<void> {
    if (this.closed) return;
    const at = performance.now();
    try {
      const { rows } = await databasePool(this.primary).query<{ lsn: string; segment: string }>(PRIMARY_POSITION);
      this.samples.push({ at, lsn: parseLsn(rows[0]!.lsn) });
      this.segmentSize = BigInt(rows[0]!.segment);
      while (this.samples.length > 0 && this.samples[0]!.at < at - this.maxLagMs) this.samples.shift();
    } catch {
      // The primary cannot be asked: nothing more is proven this round.
    }
    await Promise.all(this.replicas.filter((replica) => !replica.probing).map((replica) => this.probe(replica)));
    this.forgetSettledReaders();
    if (!this.closed) {
      this.timer = setTimeout(() => (this.ticking = this.tick()), this.pollMs);
      this.timer.unref();
    }
  }

  private async probe(replica: Replica): Promise<void> {
    replica.probing = true;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DatabaseUnavailable('probe timeout')), PROBE_TIMEOUT_MS);
      });
      const row = (await Promise.race([this.probeQuery(replica), timeout])).rows[0]!;
      if (!row.standby || row.replayed === null) {
        if (replica.state !== 'not-standby') this.options.onNotStandby?.(replica.name);
        replica.state = 'not-standby';
        return;
      }
      const replayed = parseLsn(row.replayed);
      if (replica.replayed !== undefined && replayed < replica.replayed) this.wentBack(replica);
      replica.replayed = replayed;
      for (let i = this.samples.length - 1; i >= 0; i--) {
        const sample = this.samples[i]!;
        if (sample.at <= replica.caughtUpThrough) break;
        if (replayedPast(replayed, sample.lsn, this.segmentSize)) {
          replica.caughtUpThrough = sample.at;
          break;
        }
      }
      if (replica.state === 'down') this.options.onAvailable?.(replica.name);
      replica.state = 'up';
    } catch (error) {
      if (replica.probeClient) void drop(replica.probeClient);
      replica.probeClient = undefined;
      if (!this.closed) this.markDown(replica, error);
    } finally {
      clearTimeout(timer);
      replica.probing = false;
    }
  }

  private async probeQuery(replica: Replica) {
    if (!replica.probeClient) {
      const client = new pg.Client({
        ...databasePool(replica.db).options,
        connectionTimeoutMillis: PROBE_TIMEOUT_MS,
        keepAlive: true,
      });
      client.on('error', () => {});
      replica.probeClient = client;
      await client.connect();
    }
    return replica.probeClient.query<{ standby: boolean; replayed: string | null }>(REPLICA_POSITION);
  }

  private markDown(replica: Replica, error: unknown): void {
    if (replica.state !== 'down') this.options.onUnavailable?.(replica.name, databaseError(error));
    replica.state = 'down';
  }

  /** A replica that restarted behind where it was proves nothing it proved before. */
  private wentBack(replica: Replica): void {
    replica.caughtUpThrough = -Infinity;
    for (const state of this.readers.values()) {
      if (state.replica === replica) {
        state.replica = undefined;
        state.outside = state.seen;
      }
    }
  }

  /** A reader every usable replica has caught up with needs no record. */
  private forgetSettledReaders(): void {
    const now = performance.now();
    const settled = Math.max(now - this.maxLagMs, Math.min(...this.replicas.map((replica) => replica.caughtUpThrough)));
    for (const [reader, state] of this.readers) if (state.seen < settled) this.readers.delete(reader);
  }
}

/** Why a replica could not answer a read, or undefined when the read itself is at fault. */
function cannotAnswer(error: unknown): 'unavailable' | 'conflict' | undefined {
  const typed = databaseError(error);
  if (typed instanceof DatabaseUnavailable) return 'unavailable';
  if (typed instanceof SerializationFailure) return 'conflict';
  if (typed instanceof DatabaseFailure && typed.code && NOT_HERE.has(typed.code)) {
    return typed.code.startsWith('40') ? 'conflict' : 'unavailable';
  }
  return undefined;
}

function replicaName(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
}

/** Replica connections show as customer-gateway-replica in pg_stat_activity, unless the URL names its own. */
function withApplicationName(url: string): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('application_name')) parsed.searchParams.set('application_name', 'customer-gateway-replica');
  return parsed.toString();
}
