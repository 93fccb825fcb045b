/**
 * The principals of recently seen tokens, so a request needs no database lookup for its token.
 * Kept fresh by hearing every change to a token (PostgreSQL notifications, see
 * src/infra/database/notifications.ts): the cache serves entries only while its source says it
 * is listening, and forgets everything whenever it stops listening, so a revocation made while
 * deaf is read from the database on the next request. Whatever happens to the notifications, no
 * entry is served after its lifetime: a revocation never takes longer than that to apply.
 *
 * Tokens the database does not know (or has revoked) are remembered too, briefly, so a flood of
 * one bad token costs one lookup. A new token is announced like any change, and forgotten here.
 */
import type { Principal } from './principal.ts';

export interface CachedToken {
  principal: Principal;
  /** When this process last recorded the token's use (lastUsedAt is kept to the minute). */
  touchedAt: number;
}

export const DEFAULT_TOKEN_CACHE_TTL_MS = 30_000;
/** Unknown tokens are remembered no longer than this, nor than the cache's lifetime. */
const UNKNOWN_TTL_MS = 5_000;

export interface TokenCacheOptions {
  /** How long an entry is served after its lookup. */
  ttlMs?: number;
  /** Per kind of entry; beyond it, the oldest go first. */
  maxEntries?: number;
  /** A monotonic clock, in milliseconds. */
  now?: () => number;
}

export class TokenCache {
  /** Valid tokens, and hashes known to be unknown or revoked: two maps, so a flood of random
   * tokens cannot push the valid ones out. Insertion order is expiry order. */
  #entries: BoundedExpiringMap<CachedToken>;
  #unknown: BoundedExpiringMap<true>;
  #active = false;
  /** Grows with every announced change: a lookup that began before one may be stale. */
  #generation = 0;

  constructor({ ttlMs = DEFAULT_TOKEN_CACHE_TTL_MS, maxEntries = 10_000, now = () => performance.now() }: TokenCacheOptions = {}) {
    this.#entries = new BoundedExpiringMap(ttlMs, maxEntries, now);
    this.#unknown = new BoundedExpiringMap(Math.min(ttlMs, UNKNOWN_TTL_MS), maxEntries, now);
  }

  /** Entries are served only while changes are heard; turning it off forgets every entry. */
  setActive(active: boolean): void {
    this.#active = active;
    this.#generation++;
    this.#entries.clear();
    this.#unknown.clear();
  }

  /** Taken before a database lookup, and handed back to `set` with its result. */
  get generation(): number {
    return this.#generation;
  }

  get(tokenHash: string): CachedToken | undefined {
    return this.#active ? this.#entries.get(tokenHash) : undefined;
  }

  /**
   * Keeps a lookup's result, unless a change was announced since the lookup began: the database
   * may have answered before the change committed, and its answer must not outlive the change.
   */
  set(tokenHash: string, entry: CachedToken, generation: number): void {
    if (this.#active && generation === this.#generation) this.#entries.set(tokenHash, entry);
  }

  /**
   * Whether a recent lookup found this token unknown or revoked. Served even while deaf: being
   * wrong here only refuses a brand-new token for a few seconds.
   */
  isUnknown(tokenHash: string): boolean {
    return this.#unknown.get(tokenHash) === true;
  }

  /** Remembers that a lookup found nothing valid, unless a change was announced meanwhile. */
  setUnknown(tokenHash: string, generation: number): void {
    if (generation === this.#generation) this.#unknown.set(tokenHash, true);
  }

  /** A change was announced for this token: read it from the database next time. */
  forget(tokenHash: string): void {
    this.#generation++;
    this.#entries.delete(tokenHash);
    this.#unknown.delete(tokenHash);
  }
}

/** A map whose entries expire `ttlMs` after they were set, holding at most `max`, oldest out first. */
class BoundedExpiringMap<V> {
  #entries = new Map<string, { value: V; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #max: number;
  readonly #now: () => number;

  constructor(ttlMs: number, max: number, now: () => number) {
    this.#ttlMs = ttlMs;
    this.#max = max;
    this.#now = now;
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (this.#now() < entry.expiresAt) return entry.value;
    this.#entries.delete(key);
    return undefined;
  }

  set(key: string, value: V): void {
    const now = this.#now();
    // Re-inserted at the end, so the first entry is always the next to expire.
    this.#entries.delete(key);
    for (const [oldest, entry] of this.#entries) {
      if (entry.expiresAt > now && this.#entries.size < this.#max) break;
      this.#entries.delete(oldest);
    }
    this.#entries.set(key, { value, expiresAt: now + this.#ttlMs });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}
