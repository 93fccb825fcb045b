/** The settings added for rate limiting by address and for the database's statement timeout. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { MemoryRateLimitStore } from '../../src/http/rate-limit.ts';
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
});
