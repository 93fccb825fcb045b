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

export type EventNotice =
  /** Customer changes committed, the newest with this id. */
  | { kind: 'changes'; lastEventId: bigint }
  /** Webhook deliveries were queued or endpoints changed. */
  | { kind: 'deliveries' };

export function encodeNotice(notice: EventNotice): string {
  return notice.kind === 'changes' ? `c:${notice.lastEventId}` : 'd';
}

export function decodeNotice(payload: string): EventNotice | null {
  if (payload === 'd') return { kind: 'deliveries' };
  const match = /^c:(\d{1,19})$/.exec(payload);
  return match ? { kind: 'changes', lastEventId: BigInt(match[1]!) } : null;
}

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
  changes: bigint | null;
  deliveries: boolean;
  sending: Promise<void> | null;
}
const pending = new WeakMap<Database, Pending>();

/**
 * Announces a notice to every replica. Returns at once: the NOTIFY goes out on the pool after
 * the one in flight, merged with any other notice that arrived meanwhile. A failure is dropped;
 * the followers' polling covers it.
 */
export function announce(db: Database, notice: EventNotice): void {
  for (const listener of localListeners.get(db) ?? []) listener(notice);
  const state = pending.get(db) ?? { changes: null, deliveries: false, sending: null };
  pending.set(db, state);
  if (notice.kind === 'changes') state.changes = state.changes === null || notice.lastEventId > state.changes ? notice.lastEventId : state.changes;
  else state.deliveries = true;
  if (!state.sending) state.sending = flush(db, state);
}

async function flush(db: Database, state: Pending): Promise<void> {
  try {
    while (state.changes !== null || state.deliveries) {
      const notices: EventNotice[] = [];
      if (state.changes !== null) notices.push({ kind: 'changes', lastEventId: state.changes });
      if (state.deliveries) notices.push({ kind: 'deliveries' });
      state.changes = null;
      state.deliveries = false;
      for (const notice of notices) await runStatement(db, NOTIFY, [encodeNotice(notice)]).catch(() => {});
    }
  } finally {
    state.sending = null;
  }
}
