/**
 * The webhook queue, which is also the delivery log: one row per event to send to an endpoint.
 * Written as SQL because it relies on what Prisma's query API cannot say: FOR UPDATE SKIP LOCKED,
 * so replicas share the work without waiting on each other, and conditional updates in one
 * statement. A job queue library was not used: none holds a customer's later event back while
 * an earlier one waits for its retry, nor retries on a schedule of our own (see the README).
 */
import type { CustomerChange } from '../../generated/prisma/client.ts';
import type { Database } from './prisma.ts';
import { runStatement } from './sql.ts';

/**
 * Queues for every enabled endpoint the events after its `queued_through` up to $1 (a settled
 * log position), at most $2 per endpoint, and moves `queued_through` on. An endpoint another
 * replica is queueing for is skipped: that replica does it.
 */
const QUEUE_EVENTS = {
  name: 'cgw_webhook_queue_events',
  text: `
WITH endpoint AS (
  SELECT id, event_types, queued_through FROM webhook_endpoints
   WHERE enabled AND queued_through < $1::bigint
   ORDER BY id FOR UPDATE SKIP LOCKED
),
event AS (
  SELECT endpoint.id AS endpoint_id, endpoint.event_types, c.id AS event_id, c.customer_id, c.version
    FROM endpoint CROSS JOIN LATERAL (
      SELECT id, customer_id, version FROM customer_changes
       WHERE id > endpoint.queued_through AND id <= $1::bigint ORDER BY id LIMIT $2
    ) c
),
reach AS (
  SELECT endpoint.id, CASE WHEN count(event.event_id) < $2 THEN $1::bigint ELSE max(event.event_id) END AS through
    FROM endpoint LEFT JOIN event ON event.endpoint_id = endpoint.id GROUP BY endpoint.id
),
queued AS (
  INSERT INTO webhook_deliveries (endpoint_id, event_id, customer_id, next_attempt_at)
  SELECT endpoint_id, event_id, customer_id, now() FROM event
   WHERE (CASE WHEN version = 1 THEN 'customer.created' ELSE 'customer.updated' END) = ANY (event_types)
   ORDER BY event_id
  RETURNING 1
),
moved AS (UPDATE webhook_endpoints e SET queued_through = reach.through FROM reach WHERE e.id = reach.id)
SELECT (SELECT count(*) FROM queued)::int AS queued, EXISTS (SELECT 1 FROM reach WHERE through < $1::bigint) AS more`,
};

/**
 * Takes up to $1 due deliveries for this replica for $2 ms: pending, due, of an enabled endpoint,
 * not taken by another replica (or taken and not finished in time), and with no earlier event of
 * the same customer still pending for the same endpoint. Counts the attempt.
 */
const TAKE_DUE = {
  name: 'cgw_webhook_take_due',
  text: `
WITH due AS (
  SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
   WHERE d.status = 'pending' AND d.next_attempt_at <= now() AND e.enabled
     AND (d.locked_until IS NULL OR d.locked_until < now())
     -- the first pending event of its customer for its endpoint (a subquery through the index,
     -- not NOT EXISTS, which PostgreSQL would run as an anti-join over every pending row)
     AND d.id = (
       SELECT p.id FROM webhook_deliveries p
        WHERE p.endpoint_id = d.endpoint_id AND p.customer_id = d.customer_id AND p.status = 'pending'
        ORDER BY p.event_id, p.id LIMIT 1)
   -- by time alone, so the walk of the (status, next_attempt_at) index stops at the limit
   ORDER BY d.next_attempt_at
   LIMIT $1
   FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_deliveries d
   SET locked_until = now() + $2::int * interval '1 millisecond', attempts = d.attempts + 1, last_attempt_at = now()
  FROM due, webhook_endpoints e, customer_changes c
 WHERE d.id = due.id AND e.id = d.endpoint_id AND c.id = d.event_id
RETURNING d.id::text AS id, d.attempts, d.endpoint_id AS "endpointId", e.url, e.secret,
  c.id::text AS "eventId", c.customer_id AS "customerId", c.version, c.at, c.actor, c.changes`,
};

/** When the next pending delivery of an enabled endpoint is due; null when none is. */
const NEXT_DUE = {
  name: 'cgw_webhook_next_due',
  text: `SELECT min(GREATEST(d.next_attempt_at, d.locked_until)) AS due FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
          WHERE d.status = 'pending' AND e.enabled`,
};

const ANY_ENDPOINT = { name: 'cgw_webhook_any_endpoint', text: `SELECT EXISTS (SELECT 1 FROM webhook_endpoints WHERE enabled) AS any` };

/**
 * The ends of attempts, one row each in the arrays, recorded only where the attempt is still this
 * replica's (its attempt number unchanged): one that outlived its lease may have been taken
 * over, and the later attempt speaks. A 'gone' outcome also disables the endpoint.
 */
const FINISH = {
  name: 'cgw_webhook_finish',
  text: `
WITH outcome AS (
  SELECT * FROM unnest($1::bigint[], $2::int[], $3::text[], $4::int[], $5::int[], $6::text[])
    AS o(id, attempts, outcome, retry_ms, status_code, error)
),
finished AS (
  UPDATE webhook_deliveries d SET
    status = CASE o.outcome WHEN 'delivered' THEN 'delivered' WHEN 'retry' THEN 'pending' ELSE 'failed' END,
    next_attempt_at = CASE WHEN o.outcome = 'retry' THEN now() + o.retry_ms * interval '1 millisecond' END,
    delivered_at = CASE WHEN o.outcome = 'delivered' THEN now() END,
    last_status_code = o.status_code, last_error = o.error, locked_until = NULL
  FROM outcome o
  WHERE d.id = o.id AND d.attempts = o.attempts AND d.status = 'pending'
  RETURNING d.endpoint_id, o.outcome
)
UPDATE webhook_endpoints e SET enabled = false FROM finished WHERE finished.outcome = 'gone' AND e.id = finished.endpoint_id`,
};

/** Up to $2 finished deliveries whose last attempt is older than $1: the log does not grow forever. */
const PRUNE = {
  name: 'cgw_webhook_prune',
  text: `WITH gone AS (
           DELETE FROM webhook_deliveries WHERE id IN (
             SELECT id FROM webhook_deliveries WHERE status <> 'pending' AND last_attempt_at < $1 LIMIT $2)
           RETURNING 1)
         SELECT count(*)::int AS n FROM gone`,
};

export interface TakenDelivery {
  id: string;
  /** This attempt's number, from 1. */
  attempts: number;
  endpointId: number;
  url: string;
  secret: string;
  event: Pick<CustomerChange, 'id' | 'customerId' | 'version' | 'at' | 'actor' | 'changes'>;
}

export async function queueEvents(db: Database, through: bigint, perEndpoint: number): Promise<{ queued: number; more: boolean }> {
  const [row] = await runStatement<{ queued: number; more: boolean }>(db, QUEUE_EVENTS, [through, perEndpoint]);
  return row ?? { queued: 0, more: false };
}

export async function takeDue(db: Database, limit: number, leaseMs: number): Promise<TakenDelivery[]> {
  const rows = await runStatement<Record<string, unknown>>(db, TAKE_DUE, [limit, leaseMs]);
  return rows.map((row) => ({
    id: row.id as string,
    attempts: row.attempts as number,
    endpointId: row.endpointId as number,
    url: row.url as string,
    secret: row.secret as string,
    event: {
      id: BigInt(row.eventId as string),
      customerId: row.customerId as number,
      version: row.version as number,
      at: new Date(row.at as string),
      actor: row.actor as string,
      changes: row.changes as CustomerChange['changes'],
    },
  }));
}

export async function nextDue(db: Database): Promise<Date | null> {
  const [row] = await runStatement<{ due: Date | null }>(db, NEXT_DUE, []);
  return row?.due ? new Date(row.due) : null;
}

export async function anyEnabledEndpoint(db: Database): Promise<boolean> {
  const [row] = await runStatement<{ any: boolean }>(db, ANY_ENDPOINT, []);
  return row?.any ?? false;
}

export interface AttemptRecord {
  delivery: Pick<TakenDelivery, 'id' | 'attempts'>;
  outcome: 'delivered' | 'retry' | 'failed' | 'gone';
  retryInMs?: number | undefined;
  statusCode: number | null;
  error: string | null;
}

/** Records the ends of several attempts in one statement. */
export async function finishAttempts(db: Database, records: readonly AttemptRecord[]): Promise<void> {
  if (records.length === 0) return;
  await runStatement(db, FINISH, [
    records.map((record) => record.delivery.id),
    records.map((record) => record.delivery.attempts),
    records.map((record) => record.outcome),
    records.map((record) => record.retryInMs ?? 0),
    records.map((record) => record.statusCode),
    records.map((record) => record.error?.slice(0, 500) ?? null),
  ]);
}

/** Deletes up to `limit` delivered or failed deliveries last tried before `olderThan`; returns how many. */
export async function pruneFinishedDeliveries(db: Database, olderThan: Date, limit: number): Promise<number> {
  const [row] = await runStatement<{ n: number }>(db, PRUNE, [olderThan, limit]);
  return row?.n ?? 0;
}
