/**
 * `/metrics` in Prometheus' text format: GraphQL requests and their latency per operation,
 * errors by code, the database pool's use, and the process' own figures. Served by a listener of
 * its own (METRICS_PORT, loopback by default), never by the API's port: operation names and pool
 * figures are for the operator's scraper only. Each server counts into the registry it is given,
 * so several servers in one process (tests) do not collide.
 */
import { createServer, type Server } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PoolStats } from '../infra/database/health.ts';
import type { ReadReplicas } from '../infra/database/read-replicas.ts';
import { requestState } from './request-state.ts';

export type { Registry as MetricsRegistry } from 'prom-client';

export const METRICS_PATH = '/metrics';

/** A registry holding the process' own figures, for `useMetrics` to count into and a listener to serve. */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** An HTTP server answering GET `/metrics` from `registry`, and 404 to anything else. */
export function createMetricsListener(registry: Registry): Server {
  return createServer((request, response) => {
    response.setHeader('X-Content-Type-Options', 'nosniff');
    const path = (request.url ?? '').split('?')[0];
    if (path !== METRICS_PATH || (request.method !== 'GET' && request.method !== 'HEAD')) {
      response.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => {
        response.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
        response.end(request.method === 'HEAD' ? undefined : text);
      },
      () => response.writeHead(500).end(),
    );
  });
}

export interface MetricsOptions {
  registry: Registry;
  graphqlEndpoint: string;
  /** The database pool's use, read at each scrape. */
  poolStats?: (() => PoolStats) | undefined;
  poolSize?: number | undefined;
  /** Where queries read, and how far behind each replica is proven to be. */
  readReplicas?: ReadReplicas | undefined;
}

// Operation names come from clients: past this many distinct names, further ones are counted
// as "other" so a client cannot grow the metrics without bound.
const MAX_OPERATION_LABELS = 200;

export function useMetrics({ registry, graphqlEndpoint, poolStats, poolSize, readReplicas }: MetricsOptions): Plugin {
  const requests = new Counter({
    name: 'graphql_requests_total',
    help: 'GraphQL requests by operation name, operation type and HTTP status.',
    labelNames: ['operation', 'type', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'graphql_request_duration_seconds',
    help: 'Time from receiving a GraphQL request to its response, by operation.',
    labelNames: ['operation', 'type'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const errors = new Counter({
    name: 'graphql_errors_total',
    help: 'Errors in GraphQL responses by extensions.code.',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  if (poolStats) {
    new Gauge({
      name: 'db_pool_connections',
      help: 'Database pool connections: total open, idle, and requests waiting for one.',
      labelNames: ['state'] as const,
      registers: [registry],
      collect() {
        const stats = poolStats();
        this.set({ state: 'total' }, stats.total);
        this.set({ state: 'idle' }, stats.idle);
        this.set({ state: 'waiting' }, stats.waiting);
      },
    });
    if (poolSize !== undefined) {
      new Gauge({ name: 'db_pool_max_connections', help: 'Database pool size.', registers: [registry] }).set(poolSize);
    }
  }

  if (readReplicas) replicaMetrics(registry, readReplicas);

  const seen = new Set<string>();
  const label = (name: string | undefined) => {
    if (!name) return 'anonymous';
    if (seen.has(name)) return name;
    if (seen.size >= MAX_OPERATION_LABELS) return 'other';
    seen.add(name);
    return name;
  };

  return {
    onResponse({ request, response }) {
      if (new URL(request.url).pathname !== graphqlEndpoint || request.method === 'OPTIONS') return;
      if (response.headers.get('content-type')?.startsWith('text/html')) return; // GraphiQL's page
      const state = requestState(request);
      // Without a valid token a caller could fill the labels with names of its choosing.
      const operation = state.principal ? label(state.operationName) : 'unauthenticated';
      const type = state.operationType ?? 'unknown';
      requests.inc({ operation, type, status: String(response.status) });
      duration.observe({ operation, type }, (performance.now() - state.startedAt) / 1000);
      for (const code of state.errorCodes) errors.inc({ code });
    },
  };
}

/** Where queries read (counted by the replicas' router), and each replica's proven lag. */
function replicaMetrics(registry: Registry, replicas: ReadReplicas): void {
  const counted: Record<string, number> = {};
  new Counter({
    name: 'db_read_routes_total',
    help:
      'Query operations by where their reads went: replica; primaryBehind (no replica had yet what the token was given); ' +
      'primaryUnavailable (no replica answering); fallback (a replica failed a read, the primary answered it).',
    labelNames: ['route'] as const,
    registers: [registry],
    collect() {
      for (const [route, count] of Object.entries(replicas.counts)) {
        this.inc({ route }, count - (counted[route] ?? 0));
        counted[route] = count;
      }
    },
  });
  new Gauge({
    name: 'db_read_replica_lag_seconds',
    help: 'How far behind the primary each read replica is proven to be: every commit older than this is replayed there.',
    labelNames: ['replica'] as const,
    registers: [registry],
    collect() {
      for (const { replica, lagMs } of replicas.lag()) this.set({ replica }, lagMs / 1000);
    },
  });
}

/** What the change log's followers report, for `/metrics`. */
export interface ChangeEventMetrics {
  /** A webhook attempt ended: delivered, retry, failed or gone. */
  attempt(outcome: string): void;
  /** An event's first attempt started, this long after its commit. */
  firstAttempt(msSinceCommit: number): void;
}

/**
 * Webhook attempts by outcome, the time from commit to first attempt, and how long the change
 * feed has been waiting for a transaction that may still commit below the log's head (0: none).
 */
export function changeEventMetrics(registry: Registry, feedWaitingSince: () => number | null): ChangeEventMetrics {
  const attempts = new Counter({
    name: 'webhook_attempts_total',
    help: 'Webhook delivery attempts by outcome: delivered, retry, failed (no attempt left), gone (410, endpoint disabled).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const delay = new Histogram({
    name: 'webhook_first_attempt_delay_seconds',
    help: 'From an event\'s commit to the start of its first delivery attempt.',
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });
  new Gauge({
    name: 'change_feed_wait_seconds',
    help: 'How long the change feed has waited for a transaction that may still commit below the log\'s head (0: not waiting). Long: a long transaction holds events back.',
    registers: [registry],
    collect() {
      const since = feedWaitingSince();
      this.set(since === null ? 0 : (Date.now() - since) / 1000);
    },
  });
  return {
    attempt: (outcome) => attempts.inc({ outcome }),
    firstAttempt: (ms) => delay.observe(ms / 1000),
  };
}
