/**
 * TokenCache alone: it serves entries only while changes are heard, and never keeps a lookup
 * that a change may have made stale. Its use across servers: test/integration/token-cache.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { TokenCache } from '../../src/domain/token-cache.ts';

const principal = { tokenId: 1, name: 't', scopes: new Set<'customers:read'>(['customers:read']) };

function listening(): TokenCache {
  const cache = new TokenCache();
  cache.setActive(true);
  return cache;
}

describe('TokenCache', () => {
  it('serves what it was given while it is listening', () => {
    const cache = listening();
    cache.set('hash', { principal, touchedAt: 5 }, cache.generation);
    expect(cache.get('hash')).toEqual({ principal, touchedAt: 5 });
    expect(cache.get('other')).toBeUndefined();
  });

  it('does not keep a lookup that began before a change was announced', () => {
    const cache = listening();
    const before = cache.generation;
    cache.forget('other-token'); // any announcement while the lookup was in flight
    cache.set('hash', { principal, touchedAt: 0 }, before);
    expect(cache.get('hash')).toBeUndefined();
    cache.set('hash', { principal, touchedAt: 0 }, cache.generation);
    expect(cache.get('hash')?.principal).toBe(principal);
  });

  it('forgets a token whose change was announced', () => {
    const cache = listening();
    cache.set('hash', { principal, touchedAt: 0 }, cache.generation);
    cache.set('kept', { principal, touchedAt: 0 }, cache.generation);
    cache.forget('hash');
    expect(cache.get('hash')).toBeUndefined();
    expect(cache.get('kept')?.principal).toBe(principal);
  });

  it('serves nothing while inactive and forgets everything when it stops listening', () => {
    const cache = new TokenCache();
    cache.set('hash', { principal, touchedAt: 0 }, cache.generation);
    expect(cache.get('hash')).toBeUndefined();
    cache.setActive(true);
    cache.set('hash', { principal, touchedAt: 0 }, cache.generation);
    cache.setActive(false);
    expect(cache.get('hash')).toBeUndefined();
    cache.setActive(true);
    expect(cache.get('hash')).toBeUndefined();
  });

  it('a lookup that began before it stopped or started listening is not kept', () => {
    const cache = listening();
    const before = cache.generation;
    cache.setActive(false);
    cache.setActive(true);
    cache.set('hash', { principal, touchedAt: 0 }, before);
    expect(cache.get('hash')).toBeUndefined();
  });

  it('is bounded: past 10,000 tokens the oldest goes first', () => {
    const cache = listening();
    for (let n = 0; n <= 10_000; n++) cache.set(`hash-${n}`, { principal, touchedAt: n }, cache.generation);
    expect(cache.get('hash-0')).toBeUndefined();
    expect(cache.get('hash-1')?.touchedAt).toBe(1);
    expect(cache.get('hash-10000')?.touchedAt).toBe(10_000);
  });

  /** A cache on a clock the test moves. */
  function cacheAt(options: { ttlMs: number; maxEntries?: number }) {
    const clock = { now: 0 };
    const cache = new TokenCache({ ...options, now: () => clock.now });
    cache.setActive(true);
    return { cache, clock };
  }

  it('serves an entry for its lifetime, not a moment longer, however well it listens', () => {
    const { cache, clock } = cacheAt({ ttlMs: 30_000 });
    cache.set('hash', { principal, touchedAt: 0 }, cache.generation);
    clock.now = 29_999;
    expect(cache.get('hash')?.principal).toBe(principal);
    clock.now = 30_000;
    expect(cache.get('hash')).toBeUndefined();
  });

  it('remembers an unknown token for a few seconds, even while deaf, until its hash is announced', () => {
    const { cache, clock } = cacheAt({ ttlMs: 30_000 });
    cache.setUnknown('unknown', cache.generation);
    clock.now = 4_999;
    expect(cache.isUnknown('unknown')).toBe(true);
    clock.now = 5_000;
    expect(cache.isUnknown('unknown')).toBe(false);

    cache.setUnknown('unknown', cache.generation);
    cache.forget('unknown'); // e.g. the token was just created
    expect(cache.isUnknown('unknown')).toBe(false);

    cache.setActive(false);
    cache.setUnknown('unknown', cache.generation);
    expect(cache.isUnknown('unknown')).toBe(true);
  });

  it('remembers an unknown token no longer than a valid one', () => {
    const { cache, clock } = cacheAt({ ttlMs: 1_000 });
    cache.setUnknown('unknown', cache.generation);
    clock.now = 1_000;
    expect(cache.isUnknown('unknown')).toBe(false);
  });

  it('holds a bounded number of each kind, dropping the oldest, so unknown tokens cannot push valid ones out', () => {
    const { cache } = cacheAt({ ttlMs: 30_000, maxEntries: 3 });
    for (const hash of ['a', 'b', 'c', 'd']) {
      cache.set(hash, { principal, touchedAt: 0 }, cache.generation);
      cache.setUnknown(`unknown-${hash}`, cache.generation);
    }
    expect(['a', 'b', 'c', 'd'].map((hash) => cache.get(hash) !== undefined)).toEqual([false, true, true, true]);
    expect(['a', 'b', 'c', 'd'].map((hash) => cache.isUnknown(`unknown-${hash}`))).toEqual([false, true, true, true]);
    for (let i = 0; i < 100; i++) cache.setUnknown(`flood-${i}`, cache.generation);
    expect(['b', 'c', 'd'].every((hash) => cache.get(hash) !== undefined)).toBe(true);
  });
});
