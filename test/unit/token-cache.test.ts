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
});
