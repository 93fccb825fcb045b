/**
 * One reader's way through the change log: from a given event (or from now), every change in
 * log order, then live, with no gap and no repeat. It reads the log itself until it reaches the
 * process's shared feed, then takes the feed's stretches; a reader that falls too far behind
 * drops what it holds and reads the log again, so a slow reader costs memory only up to a bound.
 */
import type { CustomerChange } from '../generated/prisma/client.ts';
import { readLog } from '../infra/database/change-log.ts';
import type { Database } from '../infra/database/prisma.ts';
import type { ChangeFeed, LogStretch } from './change-feed.ts';

export interface StreamRequest {
  /** The event after which to start; null: the changes that come after now. */
  after: bigint | null;
  /** Only this customer's changes. */
  customerId?: number | null;
}

/** Changes held for a reader that has not taken them yet, at most. */
const HELD_LIMIT = 1_000;
const PAGE = 200;

interface ReaderState {
  closed: boolean;
  wake: (() => void) | null;
  /** Stretches handed out by the feed and not read yet. */
  held: LogStretch[];
  heldChanges: number;
  /** Stretches were dropped: read the log up to the feed's position before taking more. */
  overflowed: boolean;
}

/**
 * Opens the changes as an iterator. It follows the feed before it resolves, so without `after`
 * it holds every change committed once it is open: a client told that its subscription started
 * misses nothing it writes next. `return()` ends it at once, even while it waits for the next
 * change (a plain async generator would only see it at its next change).
 */
export async function changeStream(db: Database, feed: ChangeFeed, request: StreamRequest): Promise<AsyncIterableIterator<CustomerChange>> {
  const state: ReaderState = { closed: false, wake: null, held: [], heldChanges: 0, overflowed: false };
  const { from, stop: unfollow } = await feed.follow((stretch) => {
    if (stretch === null) {
      state.closed = true;
    } else if (state.heldChanges + stretch.changes.length > HELD_LIMIT) {
      // Too far behind: forget, and catch up from the log, which keeps everything.
      state.held.length = 0;
      state.heldChanges = 0;
      state.overflowed = true;
    } else {
      state.held.push(stretch);
      state.heldChanges += stretch.changes.length;
    }
    state.wake?.();
  });
  let following = true;
  const end = () => {
    state.closed = true;
    state.wake?.();
    if (following) unfollow();
    following = false;
  };
  const inner = read(db, feed, request, state, request.after ?? from, end);
  const stream: AsyncIterableIterator<CustomerChange> = {
    [Symbol.asyncIterator]() {
      return this;
    },
    next: () => inner.next(),
    return(value?: unknown) {
      end();
      return inner.return(value as undefined);
    },
    throw(error?: unknown) {
      end();
      return inner.throw(error);
    },
  };
  return stream;
}

async function* read(
  db: Database,
  feed: ChangeFeed,
  request: StreamRequest,
  state: ReaderState,
  after: bigint,
  end: () => void,
): AsyncGenerator<CustomerChange> {
  const wanted = (change: CustomerChange) => request.customerId == null || change.customerId === request.customerId;
  let last = after;
  try {
    while (!state.closed) {
      // What the feed handed out, in order, as long as it follows on from what was read.
      const stretch = state.held[0];
      if (stretch && !state.overflowed && stretch.after <= last) {
        state.held.shift();
        state.heldChanges -= stretch.changes.length;
        for (const change of stretch.changes) if (change.id > last && wanted(change)) yield change;
        if (stretch.through > last) last = stretch.through;
        continue;
      }
      const through = feed.position;
      if (state.overflowed || (through !== null && last < through)) {
        // Behind the feed (a replay from `after`, or stretches dropped): read the log up to
        // where the feed stands, which is settled; held stretches up to there are then skipped.
        state.overflowed = false;
        while (through !== null && last < through && !state.closed) {
          const page = await readLog(db, { after: last, through, limit: PAGE, customerId: request.customerId });
          for (const change of page.changes) yield change;
          last = page.changes.length === PAGE ? page.changes.at(-1)!.id : through;
        }
        while (state.held[0] && state.held[0].through <= last) state.heldChanges -= state.held.shift()!.changes.length;
        continue;
      }
      await new Promise<void>((resolve) => (state.wake = resolve));
      state.wake = null;
    }
  } finally {
    end();
  }
}
