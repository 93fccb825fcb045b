/**
 * `/metrics` in Prometheus' text format: GraphQL requests and their latency per operation,
 * errors by code, the database pool's use, and the process' own figures. Each server has its
 * own registry, so several servers in one process (tests) do not collide.
 */
import type { Plugin } from 'graphql-yoga';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PoolStats } from '../infra/database/health.ts';
import { requestState } from './request-state.ts';

export interface MetricsOptions {
  endpoint: string;
  graphqlEndpoint: string;
  /** The database pool's use, read at each scrape. */
  poolStats?: (() => PoolStats) | undefined;
  poolSize?: number | undefined;
}

// Operation names come from clients: past this many distinct names, further ones are counted
// as "other" so a client cannot grow the metrics without bound.
const MAX_OPERATION_LABELS = 200;

export function useMetrics({ endpoint, graphqlEndpoint, poolStats, poolSize }: MetricsOptions): Plugin {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
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

  const seen = new Set<string>();
  const label = (name: string | undefined) => {
    if (!name) return 'anonymous';
    if (seen.has(name)) return name;
    if (seen.size >= MAX_OPERATION_LABELS) return 'other';
    seen.add(name);
    return name;
  };

  return {
    onRequest({ url, endResponse, fetchAPI }) {
      if (url.pathname !== endpoint) return;
      return registry.metrics().then((text) =>
        endResponse(new fetchAPI.Response(text, { status: 200, headers: { 'content-type': registry.contentType } })),
      );
    },
    onResponse({ request, response }) {
      if (new URL(request.url).pathname !== graphqlEndpoint || request.method === 'OPTIONS') return;
      if (response.headers.get('content-type')?.startsWith('text/html')) return; // GraphiQL's page
      const state = requestState(request);
      const operation = label(state.operationName);
      const type = state.operationType ?? 'unknown';
      requests.inc({ operation, type, status: String(response.status) });
      duration.observe({ operation, type }, (performance.now() - state.startedAt) / 1000);
      for (const code of state.errorCodes) errors.inc({ code });
    },
  };
}
