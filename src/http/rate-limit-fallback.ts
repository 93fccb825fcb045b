/**
 * A rate-limit store that keeps limiting when its primary (the counters shared in PostgreSQL)
 * fails: the limiter would otherwise let every request through. After a failure, requests are
 * counted by the fallback (this process only) for `retryMs`; then the primary is asked again.
 * Each switch is reported once, not once per request.
 */
import type { RateLimitHit } from '../infra/database/rate-limit-store.ts';
import type { RateLimitStore } from './rate-limit.ts';

export interface FallbackOptions {
  /** The primary failed: counting moves to the fallback. */
  onFallback?: (error: unknown) => void;
  /** The primary answers again. */
  onRecovery?: () => void;
  /** How long to count in the fallback before asking the primary again. @default 5000 */
  retryMs?: number;
}

export class FallbackRateLimitStore implements RateLimitStore {
  /** When the primary last failed; undefined while it answers. */
  private failedAt: number | undefined;

  constructor(
    private readonly primary: RateLimitStore,
    private readonly fallback: RateLimitStore,
    private readonly options: FallbackOptions = {},
    private readonly now: () => number = () => performance.now(),
  ) {}

  async hit(bucket: string, windowMs: number): Promise<RateLimitHit> {
    if (this.failedAt !== undefined && this.now() - this.failedAt < (this.options.retryMs ?? 5_000)) return this.fallback.hit(bucket, windowMs);
    try {
      const hit = await this.primary.hit(bucket, windowMs);
      if (this.failedAt !== undefined) {
        this.failedAt = undefined;
        this.options.onRecovery?.();
      }
      return hit;
    } catch (error) {
      if (this.failedAt === undefined) this.options.onFallback?.(error);
      this.failedAt = this.now();
      return this.fallback.hit(bucket, windowMs);
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.primary.close?.(), this.fallback.close?.()]);
  }
}
