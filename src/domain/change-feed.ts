/**
 * The change log as a stream: one follower per process reads each settled stretch of the log
 * once and hands it to everyone following in the process (live feeds, webhook queueing). A
 * follower that wants to start further back, or falls behind, reads the log itself up to the
 * shared position and then joins.
 *
 * It reads when a write of this process commits, when another replica announces one, and every
 * `pollMs` in case an announcement was lost. It reads nothing while nobody follows.
 */
import type { CustomerChange } from '../generated/prisma/client.ts';
import { logHead, readLog } from '../infra/database/change-log.ts';
import { onLocalNotice } from '../infra/database/event-notices.ts';
import type { Database } from '../infra/database/prisma.ts';

/** One stretch of the log: every change after `after` up to `through`, in order. */
export interface LogStretch {
  after: bigint;
  through: bigint;
  changes: readonly CustomerChange[];
}

/** Gets each stretch in order, and null once when the feed stops. */
export type Follower = (stretch: LogStretch | null) => void;

export interface ChangeFeedOptions {
  /** The fallback: how often to look without being told (default 1000). */
  pollMs?: number;
  /** Rows per read (default 500). */
  pageSize?: number;
  /**
   * The least time from one read's start to the next (default 20 ms): under a stream of writes
   * the feed reads every few milliseconds a stretch of many changes, not one read per change.
   */
  minIntervalMs?: number;
  /** Asked when the log cannot be read; the feed tries again at the next poll. */
  onError?: (error: unknown) => void;
}

/** How long to wait for transactions still running below a position: short, then longer. */
const SETTLE_WAIT_MS = [2, 5, 10, 25, 50, 100, 250];

export class ChangeFeed {
  readonly #db: Database;
  readonly #pollMs: number;
  readonly #pageSize: number;
  readonly #onError: (error: unknown) => void;
  readonly #followers = new Set<Follower>();
  /** Followers that take the changes themselves; the others only need to know how far the log is settled. */
  readonly #readers = new Set<Follower>();
  readonly #minIntervalMs: number;
  #lastReadAt = 0;
  #delayed: NodeJS.Timeout | undefined;
  #position: bigint | null = null;
  #reading: Promise<void> | null = null;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #stopLocal: (() => void) | undefined;
  #stopped = false;
  #lastError: unknown = null;
  #waitingSince: number | null = null;

  constructor(db: Database, options: ChangeFeedOptions = {}) {
    this.#db = db;
    this.#pollMs = options.pollMs ?? 1_000;
    this.#pageSize = options.pageSize ?? 500;
    this.#minIntervalMs = options.minIntervalMs ?? 20;
    this.#onError = options.onError ?? (() => {});
  }

  /** How far the feed has read: every change up to it was handed out. Null before the first read. */
  get position(): bigint | null {
    return this.#position;
  }

  /**
   * Hands every stretch read from now on to `follower`, and gives the position it starts from:
   * the follower gets every change after it. With `changes: false` the stretches come without
   * their changes (only how far the log is settled), and the feed reads none for it. Call the
   * returned function to stop.
   */
  async follow(follower: Follower, { changes = true }: { changes?: boolean } = {}): Promise<{ from: bigint; stop: () => void }> {
    if (this.#stopped) throw new Error('the change feed is stopped');
    this.#followers.add(follower);
    if (changes) this.#readers.add(follower);
    const stop = () => {
      this.#followers.delete(follower);
      this.#readers.delete(follower);
      if (this.#followers.size === 0) this.#sleep();
    };
    try {
      if (this.#followers.size === 1) this.#wake();
      // The first follower waits for the first read; if it fails, so does following.
      this.nudge();
      await this.#reading;
      if (this.#stopped) throw new Error('the change feed is stopped');
      if (this.#position === null) throw this.#lastError ?? new Error('the change log could not be read');
    } catch (error) {
      stop();
      throw error;
    }
    return { from: this.#position, stop };
  }

  /**
   * Since when (ms since epoch) the feed waits for a transaction that may still commit below the
   * log's head; null when it does not. A long wait means a long transaction holds the feed up.
   */
  get waitingSince(): number | null {
    return this.#waitingSince;
  }

  /** Something was written: read the log soon. */
  nudge(): void {
    if (this.#followers.size === 0 || this.#stopped) return;
    if (this.#reading || this.#delayed) {
      this.#again = true;
      return;
    }
    const wait = this.#lastReadAt + this.#minIntervalMs - Date.now();
    if (wait > 0 && this.#position !== null) {
      this.#delayed = setTimeout(() => {
        this.#delayed = undefined;
        this.nudge();
      }, wait);
      return;
    }
    this.#lastReadAt = Date.now();
    this.#reading = this.#read().finally(() => {
      this.#reading = null;
      if (this.#again) {
        this.#again = false;
        this.nudge();
      }
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#delayed);
    for (const follower of this.#followers) follower(null);
    this.#followers.clear();
    this.#sleep();
    await this.#reading;
  }

  #wake(): void {
    this.#stopLocal ??= onLocalNotice(this.#db, (notice) => notice === 'changes' && this.nudge());
    clearInterval(this.#timer);
    this.#timer = setInterval(() => this.nudge(), this.#pollMs);
    this.#timer.unref();
  }

  #sleep(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    // A read put off for the minimum interval is dropped: the next follower asks for its own.
    clearTimeout(this.#delayed);
    this.#delayed = undefined;
    this.#again = false;
    this.#stopLocal?.();
    this.#stopLocal = undefined;
    // Nobody follows: the position would go stale. The next follower starts from a fresh one.
    if (this.#followers.size === 0) this.#position = null;
  }

  async #read(): Promise<void> {
    try {
      const head = await logHead(this.#db);
      let running = head.running;
      for (let attempt = 0; ; attempt++) {
        if (this.#stopped) return;
        const after = this.#position ?? head.position;
        if (after >= head.position && this.#position !== null) return;
        // The first read only finds where the log stands: nothing is handed out.
        const page = await readLog(this.#db, {
          after,
          through: head.position,
          limit: this.#position === null || this.#readers.size === 0 ? 0 : this.#pageSize,
          running,
        });
        if (!page.settled) {
          this.#waitingSince ??= Date.now();
          await delay(SETTLE_WAIT_MS[Math.min(attempt, SETTLE_WAIT_MS.length - 1)]!);
          continue;
        }
        running = [];
        this.#waitingSince = null;
        const full = page.changes.length === this.#pageSize;
        const through = full ? page.changes.at(-1)!.id : head.position;
        // The position moves first: a follower handed the stretch may ask how far the log is settled.
        const previous = this.#position;
        this.#position = through;
        if (previous !== null) this.#handOut({ after, through, changes: page.changes });
        if (!full) return;
      }
    } catch (error) {
      this.#lastError = error;
      this.#onError(error);
    }
  }

  #handOut(stretch: LogStretch): void {
    for (const follower of this.#followers) follower(stretch);
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
