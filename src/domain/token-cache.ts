/**
 * The principals of recently seen tokens, so a request needs no database lookup for its token.
 * Correct only while every change to a token is heard (PostgreSQL notifications, see
 * src/infra/database/notifications.ts): the cache serves entries only while its source says it
 * is listening, and forgets everything whenever it stops listening, so a revocation made while
 * deaf is read from the database on the next request.
 */
import type { Principal } from './principal.ts';

export interface CachedToken {
  principal: Principal;
  /** When this process last recorded the token's use (lastUsedAt is kept to the minute). */
  touchedAt: number;
}

/** Bounded: the oldest entries go first; a token not in the cache costs one lookup. */
const MAX_ENTRIES = 10_000;

export class TokenCache {
  #entries = new Map<string, CachedToken>();
  #active = false;
  /** Grows with every announced change: a lookup that began before one may be stale. */
  #generation = 0;

  /** Entries are served only while changes are heard; turning it off forgets every entry. */
  setActive(active: boolean): void {
    this.#active = active;
    this.#generation++;
    this.#entries.clear();
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
    if (!this.#active || generation !== this.#generation) return;
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value as string);
    this.#entries.set(tokenHash, entry);
  }

  /** A change was announced for this token: read it from the database next time. */
  forget(tokenHash: string): void {
    this.#generation++;
    this.#entries.delete(tokenHash);
  }
}
