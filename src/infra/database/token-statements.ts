/**
 * The token statements on every request's path, as prepared SQL (see sql.ts): the lookup of a
 * token not in the cache, and the at-most-once-a-minute `last_used_at` write, guarded in SQL so
 * that replicas do not all write it.
 */
import type { Database } from './prisma.ts';
import { runStatement } from './sql.ts';

export interface StoredToken {
  id: number;
  name: string;
  scopes: string[];
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const LOOKUP = {
  name: 'cgw_authenticate',
  text: 'SELECT id, name, scopes, last_used_at AS "lastUsedAt", revoked_at AS "revokedAt" FROM api_tokens WHERE token_hash = $1',
};

const TOUCH = {
  name: 'cgw_token_touch',
  text: `UPDATE api_tokens SET last_used_at = now()
  WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < now() - make_interval(secs => $2::double precision / 1000))`,
};

const lookups = new WeakMap<Database, number>();

/** How many token lookups this client has sent: what the token cache saves is measured by it. */
export function tokenLookups(db: Database): number {
  return lookups.get(db) ?? 0;
}

export async function findTokenByHash(db: Database, tokenHash: string): Promise<StoredToken | null> {
  lookups.set(db, tokenLookups(db) + 1);
  const [row] = await runStatement<StoredToken>(db, LOOKUP, [tokenHash]);
  return row ?? null;
}

/** Records a use, unless one was recorded within `precisionMs`. */
export async function touchToken(db: Database, tokenId: number, precisionMs: number): Promise<void> {
  await runStatement(db, TOUCH, [tokenId, precisionMs]);
}
