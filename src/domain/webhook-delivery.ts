/**
 * Sends webhook deliveries, in every replica that does not turn it off. Two steps, each safe to
 * run in several replicas at once:
 * 1. queue: the settled stretch of the change log the process's feed reads is turned into one
 *    delivery per enabled endpoint that wants the event (the endpoint row, locked while queueing,
 *    says how far it got, so no event is queued twice);
 * 2. send: due deliveries are taken with a lease (no other replica sends them until it ends),
 *    posted, and their outcome recorded. A customer's later event for an endpoint is not taken
 *    while an earlier one is pending for it. A replica killed mid-attempt leaves a lease that
 *    runs out, and the delivery is tried again, with the same webhook-id.
 */
import { Webhook } from 'standardwebhooks';
import type { Database } from '../infra/database/prisma.ts';
import {
  anyEnabledEndpoint,
  finishAttempts,
  nextDue,
  pruneFinishedDeliveries,
  queueEvents,
  takeDue,
  type AttemptRecord,
  type TakenDelivery,
} from '../infra/database/webhook-delivery-statements.ts';
import { postWebhook } from '../infra/network/webhook-client.ts';
import type { ChangeFeed } from './change-feed.ts';
import { OneAtATime } from './one-at-a-time.ts';
import { deliveryBody, outcomeOf } from './webhook-rules.ts';

export interface WebhookSenderOptions {
  /** Seconds to wait after each failed attempt; one more failure than it has waits is FAILED. */
  retrySchedule: readonly number[];
  /** The most an attempt may take, answer included. */
  timeoutMs: number;
  /** Attempts in flight at once in this process. */
  concurrency: number;
  /** How often to look for work without being told. */
  pollMs: number;
  /** How long delivered and failed deliveries stay in the log (default 30 days). */
  retentionMs?: number | undefined;
  /** Receivers on loopback, private and other non-public addresses are sent to (tests, local development). */
  allowPrivateNetworks: boolean;
  /** An event's first attempt starts this long after its commit (ms): for metrics. */
  onFirstAttempt?: ((msSinceCommit: number) => void) | undefined;
  /** An attempt ended with this outcome: for metrics. */
  onAttempt?: ((outcome: AttemptRecord['outcome']) => void) | undefined;
  onError?: (error: unknown, doing: string) => void;
}

/** Events queued per endpoint per statement: an endpoint far behind catches up in steps. */
const QUEUE_STEP = 1_000;
const DEFAULT_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
/** The delivery log is pruned this often, this many rows a statement, so no delete runs long. */
const PRUNE_INTERVAL_MS = 60 * 60 * 1000;
const PRUNE_STEP = 10_000;

export class WebhookSender {
  readonly #db: Database;
  readonly #feed: ChangeFeed;
  readonly #options: WebhookSenderOptions;
  #following: { stop: () => void } | null = null;
  #startingToFollow: Promise<void> | null = null;
  readonly #queueing = new OneAtATime(() => this.#queueRun());
  readonly #sending = new OneAtATime(() => this.#sendRun());
  readonly #inFlight = new Set<Promise<void>>();
  /** Ends of attempts not yet recorded: written together, one statement for all that are ready. */
  #ended: Array<{ record: AttemptRecord; recorded: () => void }> = [];
  #recording: Promise<void> | null = null;
  #timer: NodeJS.Timeout | undefined;
  #pruneTimer: NodeJS.Timeout | undefined;
  #pruning: Promise<void> | null = null;
  #dueTimer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(db: Database, feed: ChangeFeed, options: WebhookSenderOptions) {
    this.#db = db;
    this.#feed = feed;
    this.#options = options;
    this.#timer = setInterval(() => this.wake(), options.pollMs);
    this.#timer.unref();
    this.#pruneTimer = setInterval(() => void this.prune(), PRUNE_INTERVAL_MS);
    this.#pruneTimer.unref();
    this.wake();
  }

  /** Deletes delivered and failed deliveries older than the retention; returns how many. */
  async prune(): Promise<number> {
    let pruned = 0;
    this.#pruning ??= (async () => {
      try {
        const olderThan = new Date(Date.now() - (this.#options.retentionMs ?? DEFAULT_RETENTION_MS));
        for (let step = PRUNE_STEP; step === PRUNE_STEP && !this.#stopped; pruned += step) {
          step = await pruneFinishedDeliveries(this.#db, olderThan, PRUNE_STEP);
        }
      } catch (error) {
        this.#options.onError?.(error, 'pruning the webhook delivery log');
      } finally {
        this.#pruning = null;
      }
    })();
    await this.#pruning;
    return pruned;
  }

  /** Endpoints or deliveries changed, or it is time to look: follow the log if needed, send what is due. */
  wake(): void {
    if (this.#stopped) return;
    void this.#checkEndpoints();
    this.#send();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    clearInterval(this.#pruneTimer);
    clearTimeout(this.#dueTimer);
    this.#following?.stop();
    this.#following = null;
    await Promise.allSettled([this.#startingToFollow, this.#queueing.running, this.#sending.running, this.#pruning, ...this.#inFlight]);
  }

  /** Follows the change log while an enabled endpoint exists; reads nothing otherwise. */
  async #checkEndpoints(): Promise<void> {
    if (this.#startingToFollow) return;
    this.#startingToFollow = (async () => {
      try {
        const wanted = await anyEnabledEndpoint(this.#db);
        if (wanted && !this.#following && !this.#stopped) {
          // Queueing reads the log itself: the feed only says how far it is settled.
          const following = await this.#feed.follow((stretch) => stretch && this.#queue(), { changes: false });
          if (this.#stopped) following.stop();
          else this.#following = following;
          this.#queue();
        } else if (!wanted && this.#following) {
          this.#following.stop();
          this.#following = null;
        } else if (wanted) {
          // Another replica may have queued for us; and an endpoint may lag behind after a restart.
          this.#queue();
        }
      } catch (error) {
        this.#options.onError?.(error, 'looking for webhook endpoints');
      } finally {
        this.#startingToFollow = null;
      }
    })();
    await this.#startingToFollow;
  }

  /** Queues the events the feed has read so far, then sends. One queueing at a time. */
  #queue(): void {
    if (!this.#stopped) this.#queueing.run();
  }

  async #queueRun(): Promise<void> {
    try {
      for (;;) {
        const through = this.#feed.position;
        if (through === null || this.#stopped) return;
        const { queued, more } = await queueEvents(this.#db, through, QUEUE_STEP);
        if (queued > 0) this.#send();
        if (!more) return;
      }
    } catch (error) {
      this.#options.onError?.(error, 'queueing webhook deliveries');
    }
  }

  /** Takes and sends due deliveries until none is due, then sleeps until the next one is. */
  #send(): void {
    if (!this.#stopped) this.#sending.run();
  }

  async #sendRun(): Promise<void> {
    try {
      for (;;) {
        this.#sending.askedAgain();
        const room = this.#options.concurrency - this.#inFlight.size;
        if (room <= 0 || this.#stopped) return;
        const taken = await takeDue(this.#db, room, this.#leaseMs());
        for (const delivery of taken) {
          const attempt = this.#attempt(delivery).finally(() => {
            this.#inFlight.delete(attempt);
            // A finished attempt may free the customer's next event, and a slot.
            this.#send();
          });
          this.#inFlight.add(attempt);
        }
        if (taken.length === 0 && !this.#sending.askedAgain()) break;
      }
      await this.#sleepUntilDue();
    } catch (error) {
      this.#options.onError?.(error, 'sending webhook deliveries');
    }
  }

  /** Longer than an attempt can take, so a lease runs out only for a replica gone silent. */
  #leaseMs(): number {
    return this.#options.timeoutMs + 5_000;
  }

  async #sleepUntilDue(): Promise<void> {
    clearTimeout(this.#dueTimer);
    if (this.#inFlight.size > 0) return; // each attempt's end looks again
    const due = await nextDue(this.#db);
    if (!due || this.#stopped) return;
    const wait = Math.max(0, Math.min(due.getTime() - Date.now(), this.#options.pollMs));
    this.#dueTimer = setTimeout(() => this.#send(), wait + 5);
    this.#dueTimer.unref();
  }

  async #attempt(delivery: TakenDelivery): Promise<void> {
    if (delivery.attempts === 1) this.#options.onFirstAttempt?.(Date.now() - delivery.event.at.getTime());
    let result: { status: number | null; error: string | null };
    try {
      const body = deliveryBody(delivery.event);
      const id = String(delivery.event.id);
      const now = new Date();
      const signature = new Webhook(delivery.secret).sign(id, now, body);
      result = await postWebhook(
        delivery.url,
        { 'webhook-id': id, 'webhook-timestamp': String(Math.floor(now.getTime() / 1000)), 'webhook-signature': signature },
        body,
        { timeoutMs: this.#options.timeoutMs, publicOnly: !this.#options.allowPrivateNetworks },
      );
    } catch (error) {
      // Not the receiver's doing: counted as an attempt without an answer, and tried again.
      this.#options.onError?.(error, 'sending a webhook');
      result = { status: null, error: 'the attempt could not be made' };
    }
    const outcome = outcomeOf(result.status, delivery.attempts, this.#options.retrySchedule);
    this.#options.onAttempt?.(outcome.kind);
    await this.#record({
      delivery,
      outcome: outcome.kind,
      retryInMs: outcome.kind === 'retry' ? outcome.delayMs : undefined,
      statusCode: result.status,
      error: result.error ?? (outcome.kind === 'delivered' ? null : `answered ${result.status}`),
    });
  }

  /** Resolves once the attempt's end is written, with the others that ended meanwhile. */
  #record(record: AttemptRecord): Promise<void> {
    return new Promise<void>((recorded) => {
      this.#ended.push({ record, recorded });
      this.#recording ??= (async () => {
        while (this.#ended.length > 0) {
          const batch = this.#ended;
          this.#ended = [];
          try {
            await finishAttempts(this.#db, batch.map((each) => each.record));
          } catch (error) {
            // Not recorded (the database is away): the leases run out and these deliveries are
            // tried again, with the same webhook-id.
            this.#options.onError?.(error, 'recording webhook attempts');
          }
          for (const each of batch) each.recorded();
        }
      })().finally(() => {
        this.#recording = null;
      });
    });
  }
}
