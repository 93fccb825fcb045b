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
  /** Attempts that arrived beyond one per event. */
  duplicates: number;
  /** Commit (the event's `at`) to its first attempt's arrival, ms. */
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  /** After the load stopped, until nothing was pending. */
  drainMs: number;
}

const DRAIN_LIMIT_MS = 120_000;

export interface BenchEndpoint {
  /** Waits until nothing is pending for the endpoint (the gateway still running), then gives the figures. */
  drain(): Promise<WebhookFigures>;
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
  log(`webhook endpoint ${endpoint} -> ${url}`);
  return {
    async drain() {
      const drainStart = performance.now();
      const pending = async () =>
        (await client.query<{ n: number }>("SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = $1 AND status = 'pending'", [endpoint])).rows[0]!.n;
      while ((await pending()) > 0 && performance.now() - drainStart < DRAIN_LIMIT_MS) await new Promise((resolve) => setTimeout(resolve, 100));
      const counts = (
        await client.query<{ events: number; delivered: number }>(
          "SELECT count(*)::int AS events, count(*) FILTER (WHERE status = 'delivered')::int AS delivered FROM webhook_deliveries WHERE endpoint_id = $1",
          [endpoint],
        )
      ).rows[0]!;
      const { attempts, latencies } = (await (await fetch(url)).json()) as { attempts: number; latencies: number[] };
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
