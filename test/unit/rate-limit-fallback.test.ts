/** FallbackRateLimitStore: which store counts, when it switches, and that each switch is told once. */
import { describe, expect, it } from 'vitest';
import { MemoryRateLimitStore, type RateLimitStore } from '../../src/http/rate-limit.ts';
import { FallbackRateLimitStore } from '../../src/http/rate-limit-fallback.ts';

/** A primary that answers or fails as told, counting the calls it gets. */
function primary() {
  const state = { failing: false, calls: 0 };
  const store: RateLimitStore = {
    async hit() {
      state.calls += 1;
      if (state.failing) throw new Error('connection refused');
      return { count: 100, resetMs: 1 };
    },
  };
  return { state, store };
}

describe('FallbackRateLimitStore', () => {
  it('counts in the primary while it answers, in the fallback for retryMs after it fails, then asks it again', async () => {
    let now = 0;
    const { state, store } = primary();
    const events: string[] = [];
    const fallback = new FallbackRateLimitStore(
      store,
      new MemoryRateLimitStore(() => 0),
      { onFallback: (error) => events.push(`fallback: ${(error as Error).message}`), onRecovery: () => events.push('recovered'), retryMs: 1_000 },
      () => now,
    );
    expect(await fallback.hit('token:1', 60_000)).toEqual({ count: 100, resetMs: 1 });

    state.failing = true;
    const counts = [];
    for (let i = 0; i < 3; i++) counts.push((await fallback.hit('token:1', 60_000)).count);
    expect(counts).toEqual([1, 2, 3]);
    expect(state.calls).toBe(2); // asked once more, then left alone
    expect(events).toEqual(['fallback: connection refused']);

    now = 999;
    expect((await fallback.hit('token:1', 60_000)).count).toBe(4);
    expect(state.calls).toBe(2);
    now = 1_000;
    expect((await fallback.hit('token:1', 60_000)).count).toBe(5); // asked, failed again: not told twice
    expect(state.calls).toBe(3);
    expect(events).toHaveLength(1);

    state.failing = false;
    now = 2_000;
    expect((await fallback.hit('token:1', 60_000)).count).toBe(100);
    expect(events).toEqual(['fallback: connection refused', 'recovered']);
  });

  it('tells one failure once, however many requests were waiting on the primary', async () => {
    const { state, store } = primary();
    state.failing = true;
    let told = 0;
    const fallback = new FallbackRateLimitStore(store, new MemoryRateLimitStore(), { onFallback: () => (told += 1) });
    const hits = await Promise.all(Array.from({ length: 10 }, () => fallback.hit('token:1', 60_000)));
    expect(hits.map((hit) => hit.count).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(told).toBe(1);
  });
});
