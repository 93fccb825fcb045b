/**
 * Wake-ups for whatever follows the change log: live feeds and webhook senders, in this process
 * and in every other replica. A notice carries ids only, never data; the change log and the
 * deliveries table stay the truth, and a replica that misses a notice finds the work by polling.
 *
 * The NOTIFY is sent after the write committed, not inside it: a NOTIFY in the writing
 * transaction takes a lock that serialises every such commit in the database. Notices are
 * coalesced, so a busy writer sends a few per second however many writes it makes.
 */
import { runStatement } from './sql.ts';
import type { Database } from './prisma.ts';

export const EVENTS_CHANNEL = 'cgw_events';

/**
 * `changes`: customer changes committed (the followers read the log for which);
 * `deliveries`: webhook deliveries were queued or endpoints changed.
 */
export type EventNotice = 'changes' | 'deliveries';

const PAYLOADS: Record<EventNotice, string> = { changes: 'c', deliveries: 'd' };

export function decodeNotice(payload: string): EventNotice | null {
  return payload === 'c' ? 'changes' : payload === 'd' ? 'deliveries' : null;
}

/** Between two NOTIFYs of one process: the most a follower in another replica waits for a nudge. */
const MIN_INTERVAL_MS = 50;

const NOTIFY = { name: 'cgw_event_notify', text: `SELECT pg_notify('${EVENTS_CHANNEL}', $1)` };

/** Whoever in this process wants to hear of its own writes at once, before the NOTIFY round trip. */
type LocalListener = (notice: EventNotice) => void;
const localListeners = new WeakMap<Database, Set<LocalListener>>();

export function onLocalNotice(db: Database, listener: LocalListener): () => void {
  const listeners = localListeners.get(db) ?? new Set<LocalListener>();
  localListeners.set(db, listeners);
  listeners.add(listener);
  return () => listeners.delete(listener);
}

interface Pending {
  notices: Set<EventNotice>;
  sending: Promise<void> | null;
}
const pending = new WeakMap<Database, Pending>();

/**
 * Announces a notice to this process at once and to every replica soon after. Returns at once: the NOTIFY goes out on the pool after
 * the one in flight, merged with any other notice that arrived meanwhile. A failure is dropped;
 * the followers' polling covers it.
 */
export function announce(db: Database, notice: EventNotice): void {
  for (const listener of localListeners.get(db) ?? []) listener(notice);
  const state = pending.get(db) ?? { notices: new Set<EventNotice>(), sending: null };
  pending.set(db, state);
  state.notices.add(notice);
  state.sending ??= flush(db, state);
}

async function flush(db: Database, state: Pending): Promise<void> {
  try {
    while (state.notices.size > 0) {
      const notices = [...state.notices];
      state.notices.clear();
      const sent = Date.now();
      for (const notice of notices) await runStatement(db, NOTIFY, [PAYLOADS[notice]]).catch(() => {});
      const wait = MIN_INTERVAL_MS - (Date.now() - sent);
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait).unref());
    }
  } finally {
    state.sending = null;
  }
}
