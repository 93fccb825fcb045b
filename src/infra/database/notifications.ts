/**
 * PostgreSQL LISTEN on a connection of its own, kept open: reconnects with a growing delay when
 * the connection is lost, and says when it is listening and when it is not, so that whatever
 * relies on hearing every notification can stop relying on it while deaf.
 *
 * A connection can also die without a word (a NAT or load balancer forgetting it, a pooler that
 * does not keep LISTEN): no error, no end, the notifications just stop. So the listener sends
 * itself a notification every few seconds, on a channel of its own; one that does not come back
 * in time means deaf, and the connection is dropped and made again.
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import pg from 'pg';
import { sessionConfig, type Database } from './prisma.ts';

export interface Listener {
  close(): Promise<void>;
}

export interface ListenHandlers {
  onNotification(payload: string): void;
  /**
   * true once LISTEN is in effect (and, with heartbeats, a notification came back); false as soon
   * as the connection is lost, fails, or a heartbeat goes unanswered.
   */
  onListening(listening: boolean): void;
}

export interface Heartbeat {
  /** From one answered heartbeat to the next. */
  intervalMs: number;
  /** How long a heartbeat may take to come back before the connection counts as deaf. */
  timeoutMs: number;
}

export const DEFAULT_HEARTBEAT: Heartbeat = { intervalMs: 5_000, timeoutMs: 5_000 };

export interface ListenOptions {
  /** `false`: none, for tests of what happens without them. */
  heartbeat?: Heartbeat | false;
  /** How the connection shows in pg_stat_activity (default customer-gateway-listener). */
  applicationName?: string;
}

const RETRY_MS = [250, 500, 1_000, 2_000, 5_000];
/** TCP keepalive probes start after this much silence: the kernel then notices a peer gone for good. */
const KEEPALIVE_DELAY_MS = 10_000;
const DROP_GRACE_MS = 1_000;

/** Listens on `channel` on a connection to the client's database itself (never through PgBouncer, which drops LISTEN). */
export function listenForNotifications(db: Database, channel: string, handlers: ListenHandlers, options?: ListenOptions): Listener {
  return listen(sessionConfig(db), channel, handlers, options);
}

export function listen(config: pg.ClientConfig, channel: string, handlers: ListenHandlers, options: ListenOptions = {}): Listener {
  const heartbeat = options.heartbeat ?? DEFAULT_HEARTBEAT;
  // Heard by this listener alone, so its heartbeats disturb no other replica.
  const echoChannel = `cgw_listener_${randomBytes(8).toString('hex')}`;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  let beat: NodeJS.Timeout | undefined;
  let attempt = 0;
  let closed = false;

  const lost = (from: pg.Client) => {
    if (client !== from) return;
    client = undefined;
    clearTimeout(beat);
    handlers.onListening(false);
    drop(from);
    if (closed) return;
    retry = setTimeout(connect, RETRY_MS[Math.min(attempt++, RETRY_MS.length - 1)]);
    retry.unref();
  };

  const connect = async () => {
    const next = new pg.Client({
      ...config,
      application_name: options.applicationName ?? 'customer-gateway-listener',
      keepAlive: true,
      keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
    });
    client = next;
    const echoes = new Map<string, () => void>();
    let sent = 0;
    /** Resolves once a notification sent to itself came back; rejects after `timeoutMs`. */
    const echo = (timeoutMs: number) =>
      new Promise<void>((resolve, reject) => {
        const payload = String(++sent);
        const timer = setTimeout(() => reject(new Error('heartbeat timed out')), timeoutMs);
        timer.unref();
        echoes.set(payload, () => {
          clearTimeout(timer);
          resolve();
        });
        next.query('SELECT pg_notify($1, $2)', [echoChannel, payload]).catch(reject);
      }).finally(() => echoes.clear());
    const scheduleBeat = (every: Heartbeat) => {
      beat = setTimeout(() => {
        echo(every.timeoutMs).then(
          () => client === next && scheduleBeat(every),
          () => lost(next),
        );
      }, every.intervalMs);
      beat.unref();
    };

    next.on('error', () => lost(next));
    next.on('end', () => lost(next));
    next.on('notification', (message) => {
      if (message.channel === channel) handlers.onNotification(message.payload ?? '');
      else if (message.channel === echoChannel) echoes.get(message.payload ?? '')?.();
    });
    try {
      await next.connect();
      await next.query(`LISTEN ${pg.Client.prototype.escapeIdentifier(channel)}`);
      if (heartbeat) {
        await next.query(`LISTEN ${pg.Client.prototype.escapeIdentifier(echoChannel)}`);
        // Trusted only once a notification is seen to arrive on this connection.
        await echo(heartbeat.timeoutMs);
      }
      if (closed || client !== next) return void drop(next);
      attempt = 0;
      // The connection keeps no request alive: it must not hold the process open either.
      socketOf(next)?.unref();
      handlers.onListening(true);
      if (heartbeat) scheduleBeat(heartbeat);
    } catch {
      lost(next);
    }
  };

  void connect();
  return {
    async close() {
      closed = true;
      clearTimeout(retry);
      clearTimeout(beat);
      const current = client;
      client = undefined;
      handlers.onListening(false);
      if (current) await drop(current);
    },
  };
}

/** Ends a connection, politely but briefly: a stalled one would never answer the goodbye. */
export function drop(connection: pg.Client): Promise<void> {
  connection.removeAllListeners();
  connection.on('error', () => {});
  const force = setTimeout(() => socketOf(connection)?.destroy(), DROP_GRACE_MS);
  force.unref();
  return connection
    .end()
    .catch(() => {})
    .finally(() => clearTimeout(force));
}

function socketOf(connection: pg.Client): Socket | undefined {
  return (connection as unknown as { connection?: { stream?: Socket } }).connection?.stream;
}
