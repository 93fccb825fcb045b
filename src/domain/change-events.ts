/**
 * What a process runs to follow the change log: the shared feed (live feeds read it) and, unless
 * turned off, the webhook senders. Woken by this process's own writes at once, by other
 * replicas' announcements on a listening connection, and by polling when both are silent.
 */
import { decodeNotice, EVENTS_CHANNEL } from '../infra/database/event-notices.ts';
import { listenForNotifications, type Heartbeat, type Listener } from '../infra/database/notifications.ts';
import type { Database } from '../infra/database/prisma.ts';
import { ChangeFeed } from './change-feed.ts';

export interface ChangeEventsOptions {
  /** Fallback polling, when announcements are lost (default 1000 ms). */
  pollMs?: number;
  /** How the listening connection checks it still hears; tests shorten or disable it. */
  heartbeat?: Heartbeat | false;
  onError?: (error: unknown, doing: string) => void;
}

export class ChangeEvents {
  readonly feed: ChangeFeed;
  readonly #listener: Listener;

  constructor(db: Database, options: ChangeEventsOptions = {}) {
    const onError = options.onError ?? (() => {});
    this.feed = new ChangeFeed(db, { pollMs: options.pollMs, onError: (error) => onError(error, 'reading the change log') });
    this.#listener = listenForNotifications(
      db,
      EVENTS_CHANNEL,
      {
        onNotification: (payload) => {
          if (decodeNotice(payload) === 'changes') this.feed.nudge();
        },
        // Deaf or not, polling goes on; hearing again may mean something was missed.
        onListening: (listening) => listening && this.feed.nudge(),
      },
      { heartbeat: options.heartbeat },
    );
  }

  async stop(): Promise<void> {
    await this.#listener.close();
    await this.feed.stop();
  }
}
