/**
 * What a process runs to follow the change log: the shared feed (live feeds read it) and, unless
 * turned off, the webhook senders. Woken by this process's own writes at once, by other
 * replicas' announcements on a listening connection, and by polling when both are silent.
 */
import { decodeNotice, EVENTS_CHANNEL, onLocalNotice } from '../infra/database/event-notices.ts';
import { listenForNotifications, type Heartbeat, type Listener } from '../infra/database/notifications.ts';
import type { Database } from '../infra/database/prisma.ts';
import { ChangeFeed } from './change-feed.ts';
import { WebhookSender, type WebhookSenderOptions } from './webhook-delivery.ts';

export interface ChangeEventsOptions {
  /** Fallback polling, when announcements are lost (default 1000 ms). */
  pollMs?: number;
  /** Sending webhooks from this process; false: it sends none. */
  webhooks?: Omit<WebhookSenderOptions, 'onError'> | false;
  /** How the listening connection checks it still hears; tests shorten or disable it. */
  heartbeat?: Heartbeat | false;
  onError?: (error: unknown, doing: string) => void;
}

export class ChangeEvents {
  readonly feed: ChangeFeed;
  readonly webhooks: WebhookSender | null;
  readonly #listener: Listener;
  readonly #stopLocal: () => void;

  constructor(db: Database, options: ChangeEventsOptions = {}) {
    const onError = options.onError ?? (() => {});
    this.feed = new ChangeFeed(db, { pollMs: options.pollMs, onError: (error) => onError(error, 'reading the change log') });
    this.webhooks = options.webhooks ? new WebhookSender(db, this.feed, { ...options.webhooks, onError }) : null;
    this.#stopLocal = onLocalNotice(db, (notice) => notice === 'deliveries' && this.webhooks?.wake());
    this.#listener = listenForNotifications(
      db,
      EVENTS_CHANNEL,
      {
        onNotification: (payload) => {
          const notice = decodeNotice(payload);
          if (notice === 'changes') this.feed.nudge();
          else if (notice === 'deliveries') this.webhooks?.wake();
        },
        // Deaf or not, polling goes on; hearing again may mean something was missed.
        onListening: (listening) => {
          if (!listening) return;
          this.feed.nudge();
          this.webhooks?.wake();
        },
      },
      { heartbeat: options.heartbeat, applicationName: 'customer-gateway-events' },
    );
  }

  async stop(): Promise<void> {
    this.#stopLocal();
    await this.#listener.close();
    await this.webhooks?.stop();
    await this.feed.stop();
  }
}
