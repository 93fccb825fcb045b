/** IDEMPOTENCY_KEYS_PER_TOKEN_PER_DAY, from the environment to the server's settings. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, withDefaults } from '../../src/config.ts';
import { serverOptions } from '../../src/server-options.ts';

describe('IDEMPOTENCY_KEYS_PER_TOKEN_PER_DAY', () => {
  it('is 10,000 when unset, for a process and for a server built without it alike', () => {
    expect(loadConfig({}).idempotencyKeysPerTokenPerDay).toBe(10_000);
    expect(withDefaults({}).idempotencyKeysPerTokenPerDay).toBe(10_000);
  });

  it('is read from the environment and handed to the server', () => {
    const config = loadConfig({ IDEMPOTENCY_KEYS_PER_TOKEN_PER_DAY: '250' });
    expect(config.idempotencyKeysPerTokenPerDay).toBe(250);
    const parts = { db: {} as never, logger: {} as never, rateLimitStore: {} as never };
    expect(serverOptions(config, parts).idempotencyKeysPerTokenPerDay).toBe(250);
  });

  it('must be a whole number of at least 1', () => {
    for (const value of ['0', '-1', '2.5', 'many']) {
      expect(() => loadConfig({ IDEMPOTENCY_KEYS_PER_TOKEN_PER_DAY: value })).toThrow(ConfigError);
    }
  });
});
