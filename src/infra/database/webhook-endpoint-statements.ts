/**
 * Webhook endpoints and their delivery log. Listing, counting and deleting go through Prisma's
 * query API; SQL is written here for what it cannot say in one statement: an endpoint created at
 * the change log's current position, the events queued again with INSERT ... SELECT, and a page
 * of the log joined to the events it delivers.
 */
import type { WebhookEndpoint } from '../../generated/prisma/client.ts';
import type { Database } from './prisma.ts';
import { runStatement } from './sql.ts';

/** An endpoint as it may be shown: everything but its secret. */
export type StoredEndpoint = Omit<WebhookEndpoint, 'secret'>;

export interface StoredDelivery {
  id: bigint;
  eventId: bigint;
  /** The version the event's write produced, which gives its type. */
  eventVersion: number;
  status: string;
  attempts: number;
  lastStatusCode: number | null;
  lastError: string | null;
  lastAttemptAt: Date | null;
  nextAttemptAt: Date | null;
  deliveredAt: Date | null;
}

const ENDPOINT_COLUMNS =
  'id, url, event_types AS "eventTypes", enabled, created_at AS "createdAt", created_by AS "createdBy", queued_through AS "queuedThrough"';

const CREATE_ENDPOINT = {
  name: 'cgw_webhook_endpoint_create',
  // The sequence's position, not max(id): the events after it are the ones this endpoint gets.
  text: `INSERT INTO webhook_endpoints (url, event_types, secret, created_by, queued_through)
         SELECT $1, $2::text[], $3, $4, CASE WHEN is_called THEN last_value ELSE 0 END FROM customer_changes_id_seq
         RETURNING ${ENDPOINT_COLUMNS}`,
};

type EndpointRow = Omit<StoredEndpoint, 'queuedThrough'> & { queuedThrough: string };

export async function createEndpoint(
  db: Database,
  endpoint: { url: string; eventTypes: readonly string[]; secret: string; createdBy: string },
): Promise<StoredEndpoint> {
  const [row] = await runStatement<EndpointRow>(db, CREATE_ENDPOINT, [endpoint.url, endpoint.eventTypes, endpoint.secret, endpoint.createdBy]);
  // node-postgres gives a bigint as text; Prisma as a BigInt, as its model type says.
  return { ...row!, queuedThrough: BigInt(row!.queuedThrough) };
}

export function countEndpoints(db: Database): Promise<number> {
  return db.webhookEndpoint.count();
}

export function listEndpoints(db: Database): Promise<StoredEndpoint[]> {
  return db.webhookEndpoint.findMany({ omit: { secret: true }, orderBy: { id: 'asc' } });
}

export async function endpointExists(db: Database, id: number): Promise<boolean> {
  return (await db.webhookEndpoint.count({ where: { id } })) > 0;
}

/** Deletes an endpoint and, by cascade, its deliveries; false when there was none. */
export async function deleteEndpoint(db: Database, id: number): Promise<boolean> {
  return (await db.webhookEndpoint.deleteMany({ where: { id } })).count > 0;
}

const QUEUE_AGAIN = {
  name: 'cgw_webhook_queue_again',
  // $4 and $5 are the event types of a version-1 write and of any later one (domain/customer-events.ts).
  text: `WITH endpoint AS (
           UPDATE webhook_endpoints SET enabled = true WHERE id = $1 RETURNING id, event_types, queued_through
         ), events AS (
           SELECT c.id, c.customer_id
             FROM customer_changes c, endpoint e
            WHERE c.id > $2::bigint AND c.id <= e.queued_through
              AND (CASE WHEN c.version = 1 THEN $4::text ELSE $5::text END) = ANY (e.event_types)
            ORDER BY c.id
            LIMIT $3
         ), queued AS (
           INSERT INTO webhook_deliveries (endpoint_id, event_id, customer_id, status, next_attempt_at)
           SELECT e.id, ev.id, ev.customer_id, 'pending', now() FROM events ev, endpoint e ORDER BY ev.id
           RETURNING event_id
         )
         SELECT (SELECT count(*) FROM endpoint)::int AS found, (SELECT count(*) FROM queued)::int AS queued,
                (SELECT max(event_id) FROM queued) AS "lastEventId"`,
};

/**
 * Queues the endpoint's events after `afterEventId` again, up to its position and only the types
 * it takes, in id order and at most `limit`, each as a new pending delivery due now; enables the
 * endpoint again. Null when there is no such endpoint.
 */
export async function queueAgain(
  db: Database,
  request: { endpointId: number; afterEventId: bigint; limit: number; firstVersionType: string; laterVersionType: string },
): Promise<{ queued: number; lastEventId: bigint | null } | null> {
  const [row] = await runStatement<{ found: number; queued: number; lastEventId: string | null }>(db, QUEUE_AGAIN, [
    request.endpointId,
    String(request.afterEventId),
    request.limit,
    request.firstVersionType,
    request.laterVersionType,
  ]);
  if (!row || row.found === 0) return null;
  return { queued: row.queued, lastEventId: row.lastEventId === null ? null : BigInt(row.lastEventId) };
}

const DELIVERY_PAGE = {
  name: 'cgw_webhook_delivery_page',
  // Through the (endpoint_id, id) index, newest first, stopping at the page size.
  text: `SELECT d.id, d.event_id AS "eventId", c.version AS "eventVersion", d.status, d.attempts,
                d.last_status_code AS "lastStatusCode", d.last_error AS "lastError", d.last_attempt_at AS "lastAttemptAt",
                d.next_attempt_at AS "nextAttemptAt", d.delivered_at AS "deliveredAt"
           FROM webhook_deliveries d
           JOIN customer_changes c ON c.id = d.event_id
          WHERE d.endpoint_id = $1 AND d.id < COALESCE($2::bigint, 9223372036854775807)
            AND ($3::text IS NULL OR d.status = $3::text)
          ORDER BY d.id DESC
          LIMIT $4`,
};

/** Up to `limit` deliveries of an endpoint older than `before` (all when null), newest first, of one status when given. */
export async function deliveryPage(
  db: Database,
  request: { endpointId: number; before: bigint | null; status: string | null; limit: number },
): Promise<StoredDelivery[]> {
  const rows = await runStatement<StoredDelivery & { id: string; eventId: string }>(db, DELIVERY_PAGE, [
    request.endpointId,
    request.before === null ? null : String(request.before),
    request.status,
    request.limit,
  ]);
  return rows.map((row) => ({ ...row, id: BigInt(row.id), eventId: BigInt(row.eventId) }));
}
