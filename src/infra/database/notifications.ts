/**
 * PostgreSQL LISTEN on a connection of its own, kept open: reconnects with a growing delay when
 * the connection is lost, and says when it is listening and when it is not, so that whatever
 * relies on hearing every notification can stop relying on it while deaf.
 */
import pg from 'pg';
import { databasePool, type Database } from './prisma.ts';

export interface Listener {
  close(): Promise<void>;
}

export interface ListenHandlers {
  onNotification(payload: string): void;
  /** true once LISTEN is in effect; false as soon as the connection is lost or fails. */
  onListening(listening: boolean): void;
}

const RETRY_MS = [250, 500, 1_000, 2_000, 5_000];

/** Listens on `channel` with the connection settings of the client's pool. */
export function listenForNotifications(db: Database, channel: string, handlers: ListenHandlers): Listener {
  return listen(databasePool(db).options, channel, handlers);
}

export function listen(config: pg.ClientConfig, channel: string, handlers: ListenHandlers): Listener {
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  let attempt = 0;
  let closed = false;

  const lost = (from: pg.Client) => {
    if (client !== from) return;
    client = undefined;
    handlers.onListening(false);
    from.removeAllListeners();
    from.on('error', () => {});
    void from.end().catch(() => {});
    if (closed) return;
    retry = setTimeout(connect, RETRY_MS[Math.min(attempt++, RETRY_MS.length - 1)]);
    retry.unref();
  };

  const connect = async () => {
    const next = new pg.Client({ ...config, application_name: 'customer-gateway-listener' });
    client = next;
    next.on('error', () => lost(next));
    next.on('end', () => lost(next));
    next.on('notification', (message) => {
      if (message.channel === channel) handlers.onNotification(message.payload ?? '');
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${pg.Client.prototype.escapeIdentifier(channel)}`);
      if (closed || client !== next) return void next.end().catch(() => {});
      attempt = 0;
      // The connection keeps no request alive: it must not hold the process open either.
      (next as unknown as { connection?: { stream?: { unref?(): void } } }).connection?.stream?.unref?.();
      handlers.onListening(true);
    } catch {
      lost(next);
    }
  };

  void connect();
  return {
    async close() {
      closed = true;
      clearTimeout(retry);
      const current = client;
      client = undefined;
      handlers.onListening(false);
      if (current) {
        current.removeAllListeners();
        current.on('error', () => {});
        await current.end().catch(() => {});
      }
    },
  };
}
