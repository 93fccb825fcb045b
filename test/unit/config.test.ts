/** Settings read from the environment: rate limiting by address, the statement timeout, webhook receivers. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, withDefaults } from '../../src/config.ts';
import { MemoryRateLimitStore } from '../../src/http/rate-limit.ts';
import { parseDatabaseUrl } from '../../src/infra/database/pool.ts';
import type { Database } from '../../src/infra/database/prisma.ts';
import { createLogger } from '../../src/http/logging.ts';
import { serverOptions } from '../../src/server-options.ts';

describe('configuration', () => {
  it('has defaults: 120 requests per address and window without a valid token, no proxy trusted, a 5 s statement timeout', () => {
    const config = loadConfig({});
    expect(config.rateLimit).toMatchObject({ requests: 600, anonymousRequests: 120, windowMs: 30_000 });
    expect(config.trustProxy).toBe(false);
    expect(config.statementTimeoutMs).toBe(5_000);
  });

  it('reads DIRECT_DATABASE_URL, required when DATABASE_URL says pgbouncer=true', () => {
    const pooled = 'postgresql://gateway@bouncer:6432/customers?pgbouncer=true';
    const direct = 'postgresql://gateway@db:5432/customers';
    expect(loadConfig({ DATABASE_URL: pooled, DIRECT_DATABASE_URL: direct })).toMatchObject({
      databaseUrl: pooled,
      directDatabaseUrl: direct,
      throughPgBouncer: true,
    });
    expect(loadConfig({ DATABASE_URL: direct })).toMatchObject({ directDatabaseUrl: undefined, throughPgBouncer: false });
    expect(() => loadConfig({ DATABASE_URL: pooled })).toThrow(/DIRECT_DATABASE_URL: required when DATABASE_URL has pgbouncer=true/);
    expect(() => loadConfig({ DIRECT_DATABASE_URL: direct })).toThrow(/DIRECT_DATABASE_URL: needs DATABASE_URL/);
    expect(() => loadConfig({ DATABASE_URL: direct, DIRECT_DATABASE_URL: 'mysql://db' })).toThrow(/DIRECT_DATABASE_URL: must be a postgres/);
  });

  it('takes pgbouncer=true out of the URL node-postgres gets, and leaves other URLs as they are', () => {
    expect(parseDatabaseUrl('postgresql://u:p%40ss@bouncer:6432/db?sslmode=require&pgbouncer=true')).toEqual({
      url: 'postgresql://u:p%40ss@bouncer:6432/db?sslmode=require',
      pgbouncer: true,
    });
    expect(parseDatabaseUrl('postgresql://u@db/db?pgbouncer=false')).toEqual({ url: 'postgresql://u@db/db', pgbouncer: false });
    expect(parseDatabaseUrl('postgres://u@db/db?application_name=a%20b')).toEqual({ url: 'postgres://u@db/db?application_name=a%20b', pgbouncer: false });
  });

  it('reads TRUST_PROXY as true, false or a number of proxies', () => {
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '0' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    for (const wrong of ['maybe', '-1', '1.5']) expect(() => loadConfig({ TRUST_PROXY: wrong }), wrong).toThrow(ConfigError);
  });

  it('reads MAX_SUBSCRIPTIONS_PER_TOKEN (default 10, at least 1) and hands it to the server', () => {
    expect(loadConfig({}).maxSubscriptionsPerToken).toBe(10);
    expect(loadConfig({ MAX_SUBSCRIPTIONS_PER_TOKEN: '3' }).maxSubscriptionsPerToken).toBe(3);
    for (const wrong of ['0', '-1', '2.5', 'many']) expect(() => loadConfig({ MAX_SUBSCRIPTIONS_PER_TOKEN: wrong }), wrong).toThrow(ConfigError);
    const parts = { db: {} as Database, logger: createLogger('silent'), rateLimitStore: new MemoryRateLimitStore() };
    expect(serverOptions(loadConfig({ MAX_SUBSCRIPTIONS_PER_TOKEN: '3' }), parts).maxSubscriptionsPerToken).toBe(3);
  });

  it('reads ANONYMOUS_RATE_LIMIT_REQUESTS and DATABASE_STATEMENT_TIMEOUT_MS (0 turns either off)', () => {
    const config = loadConfig({ ANONYMOUS_RATE_LIMIT_REQUESTS: '7', DATABASE_STATEMENT_TIMEOUT_MS: '250' });
    expect(config.rateLimit.anonymousRequests).toBe(7);
    expect(config.statementTimeoutMs).toBe(250);
    expect(loadConfig({ ANONYMOUS_RATE_LIMIT_REQUESTS: '0', DATABASE_STATEMENT_TIMEOUT_MS: '0' })).toMatchObject({
      rateLimit: { anonymousRequests: 0 },
      statementTimeoutMs: 0,
    });
  });

  it('hands them to the server: the limit stays on for anonymous callers when tokens are not limited', () => {
    const parts = { db: {} as Database, logger: createLogger('silent'), rateLimitStore: new MemoryRateLimitStore() };
    const options = serverOptions(loadConfig({ RATE_LIMIT_REQUESTS: '0', TRUST_PROXY: '1' }), parts);
    expect(options.rateLimit).toMatchObject({ requests: 0, anonymousRequests: 120, windowMs: 30_000 });
    expect(options.trustProxy).toBe(1);
    expect(serverOptions(loadConfig({ RATE_LIMIT_REQUESTS: '0', ANONYMOUS_RATE_LIMIT_REQUESTS: '0' }), parts).rateLimit).toBe(false);
  });

  it('reads READ_REPLICA_URLS as one URL or a comma-separated list (none by default)', () => {
    expect(loadConfig({}).readReplicaUrls).toEqual([]);
    expect(loadConfig({ READ_REPLICA_URLS: 'postgresql://r1.internal/customers' }).readReplicaUrls).toEqual(['postgresql://r1.internal/customers']);
    expect(loadConfig({ READ_REPLICA_URLS: ' postgres://r1/db , postgresql://r2:6432/db,' }).readReplicaUrls).toEqual(['postgres://r1/db', 'postgresql://r2:6432/db']);
    for (const wrong of [',', 'r1.internal', 'postgresql://r1/db,mysql://r2/db']) expect(() => loadConfig({ READ_REPLICA_URLS: wrong }), wrong).toThrow(ConfigError);
  });

  it('refuses webhook receivers on non-public networks and allows 20 endpoints unless told otherwise, for a process and a server alike', () => {
    expect(loadConfig({})).toMatchObject({ webhookAllowPrivateNetworks: false, webhookMaxEndpoints: 20 });
    expect(withDefaults({})).toMatchObject({ webhookAllowPrivateNetworks: false, webhookMaxEndpoints: 20 });
  });

  it('reads WEBHOOK_ALLOW_PRIVATE_NETWORKS and WEBHOOK_MAX_ENDPOINTS and hands them to the server', () => {
    const config = loadConfig({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', WEBHOOK_MAX_ENDPOINTS: '3' });
    expect(config).toMatchObject({ webhookAllowPrivateNetworks: true, webhookMaxEndpoints: 3 });
    expect(loadConfig({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false' }).webhookAllowPrivateNetworks).toBe(false);
    const parts = { db: {} as Database, logger: createLogger('silent'), rateLimitStore: new MemoryRateLimitStore() };
    expect(serverOptions(config, parts)).toMatchObject({ webhookAllowPrivateNetworks: true, webhookMaxEndpoints: 3 });
    expect(() => loadConfig({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'sometimes' })).toThrow(ConfigError);
    for (const wrong of ['0', '-1', '2.5', 'many']) expect(() => loadConfig({ WEBHOOK_MAX_ENDPOINTS: wrong }), wrong).toThrow(ConfigError);
  });

  it('sends webhooks by default, on the pinned schedule, and reads WEBHOOKS, WEBHOOK_TIMEOUT_MS, WEBHOOK_RETRY_SCHEDULE, WEBHOOK_CONCURRENCY, EVENTS_POLL_MS', () => {
    expect(loadConfig({}).webhookDelivery).toEqual({ enabled: true, timeoutMs: 10_000, retrySchedule: [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000, 86_400], concurrency: 32, retentionMs: 30 * 86_400_000 });
    expect(loadConfig({}).eventsPollMs).toBe(1_000);
    const config = loadConfig({ WEBHOOKS: 'off', WEBHOOK_TIMEOUT_MS: '500', WEBHOOK_RETRY_SCHEDULE: '0.2, 1,2', WEBHOOK_CONCURRENCY: '4', EVENTS_POLL_MS: '250', WEBHOOK_DELIVERY_RETENTION_DAYS: '7' });
    expect(config.webhookDelivery).toEqual({ enabled: false, timeoutMs: 500, retrySchedule: [0.2, 1, 2], concurrency: 4, retentionMs: 7 * 86_400_000 });
    expect(config.eventsPollMs).toBe(250);
    expect(serverOptions(config, { db: {} as Database, logger: createLogger('silent'), rateLimitStore: new MemoryRateLimitStore() })).toMatchObject({
      webhookDelivery: config.webhookDelivery,
      eventsPollMs: 250,
    });
    expect(withDefaults({ webhookDelivery: { retrySchedule: [1] } }).webhookDelivery).toEqual({ enabled: true, timeoutMs: 10_000, retrySchedule: [1], concurrency: 32, retentionMs: 30 * 86_400_000 });
  });

  it('names WEBHOOKS and WEBHOOK_RETRY_SCHEDULE when they are not understood', () => {
    expect(() => loadConfig({ WEBHOOKS: 'maybe' })).toThrow(/WEBHOOKS/);
    for (const schedule of ['soon', '5,,10', '0', '-1', '5,1e9']) {
      expect(() => loadConfig({ WEBHOOK_RETRY_SCHEDULE: schedule }), schedule).toThrow(ConfigError);
      expect(() => loadConfig({ WEBHOOK_RETRY_SCHEDULE: schedule }), schedule).toThrow(/WEBHOOK_RETRY_SCHEDULE/);
    }
  });

  it('traces only when OTEL_EXPORTER_OTLP_ENDPOINT is set, to its /v1/traces over OTLP/HTTP (protobuf unless told json)', () => {
    expect(loadConfig({}).tracing).toBeUndefined();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318' }).tracing).toEqual({
      url: 'http://jaeger:4318/v1/traces',
      protocol: 'http/protobuf',
      serviceName: 'customer-gateway',
    });
    expect(
      loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otlp.example.com/tenant/', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_SERVICE_NAME: 'customers-eu' }).tracing,
    ).toEqual({ url: 'https://otlp.example.com/tenant/v1/traces', protocol: 'http/json', serviceName: 'customers-eu' });
    for (const [name, value] of [
      ['OTEL_EXPORTER_OTLP_ENDPOINT', 'jaeger:4318'],
      ['OTEL_EXPORTER_OTLP_ENDPOINT', 'grpc://jaeger:4317'],
      ['OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc'],
    ] as const) {
      expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318', [name]: value }), value).toThrow(new RegExp(name));
    }
  });
});
