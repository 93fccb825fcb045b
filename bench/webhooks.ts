/**
 * The `gateway-webhook` variant: one webhook endpoint registered for the run, whose receiver
 * (bench/servers/webhook-receiver.ts) answers 204 at once and notes, for each event, how long
 * after its commit the first attempt arrived. After the load, it waits until every queued
 * delivery was sent, so the figures cover every event of the run.
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { startServer } from './processes.ts';
import { percentile } from './report.ts';

export interface WebhookFigures {
  /** Events queued for the endpoint during the run, warm-up included. */
  events: number;
  /** Of them, delivered (2xx) once the queue drained. */
  delivered: number;
  /** Events committed after the endpoint was registered that were never queued for it: must be 0. */
  missing: number;
  /** Attempts that arrived beyond one per event. */
  duplicates: number;
  /** Commit (the event's `at`) to its first attempt's arrival, ms. */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  /** After the load stopped, until nothing was pending. */
  drainMs: number;
  /** A second run at a steady rate the server keeps up with: commit to first attempt, ms. */
  steady?: { rate: number; events: number; p50Ms: number | null; p95Ms: number | null; p99Ms: number | null };
}

const DRAIN_LIMIT_MS = 120_000;

export interface BenchEndpoint {
  /**
   * Waits until nothing is pending for the endpoint (the gateway still running), then gives the
   * figures, of the events committed from `since` (ms since epoch) when given.
   */
  drain(since?: number): Promise<WebhookFigures>;
  /** Deletes the endpoint (and its deliveries) and stops the receiver. */
  close(): Promise<void>;
}

export async function registerBenchEndpoint(client: pg.Client, log: (message: string) => void): Promise<BenchEndpoint> {
  const receiver = await startServer('webhook-receiver', {});
  if ('unavailable' in receiver) throw new Error(receiver.unavailable);
  const url = `http://127.0.0.1:${receiver.port}/bench`;
  const { rows } = await client.query<{ id: number }>(
    `INSERT INTO webhook_endpoints (url, event_types, secret, created_by, queued_through)
     VALUES ($1, '{customer.created,customer.updated}', $2, 'bench', (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM customer_changes_id_seq))
     RETURNING id`,
    [url, `whsec_${randomBytes(32).toString('base64')}`],
  );
  const endpoint = rows[0]!.id;
  const start = (await client.query<{ through: string }>('SELECT queued_through::text AS through FROM webhook_endpoints WHERE id = $1', [endpoint])).rows[0]!.through;
  log(`webhook endpoint ${endpoint} -> ${url}`);
  return {
    async drain(since = 0) {
      const drainStart = performance.now();
      // Done when every event of the log is queued for the endpoint and none is pending.
      const pending = async () =>
        (
          await client.query<{ n: number }>(
            `SELECT (SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'pending')
                  + (SELECT count(*) FROM customer_changes WHERE id > (SELECT queued_through FROM webhook_endpoints WHERE id = $1)) AS n`,
            [endpoint],
          )
        ).rows[0]!.n;
      while (Number(await pending()) > 0 && performance.now() - drainStart < DRAIN_LIMIT_MS) await new Promise((resolve) => setTimeout(resolve, 100));
      const counts = (
        await client.query<{ events: number; delivered: number; missing: number }>(
          `SELECT count(*)::int AS events, count(*) FILTER (WHERE status = 'delivered')::int AS delivered,
                  (SELECT count(*)::int FROM customer_changes c
                    WHERE c.id > $2::bigint AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.endpoint_id = $1 AND d.event_id = c.id)) AS missing
             FROM webhook_deliveries WHERE endpoint_id = $1`,
          [endpoint, start],
        )
      ).rows[0]!;
      const { attempts, latencies } = (await (await fetch(`${url}?since=${since}`)).json()) as { attempts: number; latencies: number[] };
      return {
        ...counts,
        duplicates: attempts - latencies.length,
        p50Ms: percentile(latencies, 50),
        p95Ms: percentile(latencies, 95),
        p99Ms: percentile(latencies, 99),
        drainMs: Math.round(performance.now() - drainStart),
      };
    },
    async close() {
      await client.query('DELETE FROM webhook_endpoints WHERE id = $1', [endpoint]);
      await receiver.stop();
    },
  };
}
