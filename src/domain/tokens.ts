/**
 * API tokens: random secrets shown once; the database keeps only their SHA-256. A fast hash is
 * the right one here (unlike passwords): the secret has 256 bits of entropy, so it cannot be
 * guessed from the hash, and a token is checked on every request.
 */
import { createHash, randomBytes } from 'node:crypto';
import { UniqueViolation, databaseError } from '../infra/database/database-errors.ts';
import type { Database } from '../infra/database/prisma.ts';
import { findTokenByHash, touchToken } from '../infra/database/token-statements.ts';
import { SCOPES, type Principal, type Scope } from './principal.ts';
import type { TokenCache } from './token-cache.ts';

const PREFIX = 'cgw_';

export function hashToken(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** `customers:write` implies `customers:read`. */
export function effectiveScopes(granted: readonly string[]): Set<Scope> {
  const scopes = new Set(granted.filter(isScope));
  if (scopes.has('customers:write')) scopes.add('customers:read');
  return scopes;
}

export class TokenError extends Error {
  override name = 'TokenError';
}

export async function createToken(db: Database, name: string, scopes: readonly string[]) {
  const trimmed = name.trim();
  if (trimmed.length === 0 || trimmed.length > 255) throw new TokenError('a token name is 1 to 255 characters');
  const unknown = scopes.filter((scope) => !isScope(scope));
  if (unknown.length > 0) throw new TokenError(`unknown scope ${unknown.join(', ')}; scopes are ${SCOPES.join(', ')}`);
  if (scopes.length === 0) throw new TokenError(`give at least one scope: ${SCOPES.join(', ')}`);
  const secret = PREFIX + randomBytes(32).toString('base64url');
  try {
    const record = await db.apiToken.create({
      data: { name: trimmed, tokenHash: hashToken(secret), scopes: [...new Set(scopes)] },
    });
    return { secret, record };
  } catch (error) {
    const failure = databaseError(error);
    if (failure instanceof UniqueViolation) throw new TokenError(`a token named "${trimmed}" already exists`);
    throw failure;
  }
}

/** How often `lastUsedAt` is written per token: often enough to spot unused tokens, rarely enough to cost nothing. */
export const LAST_USED_PRECISION_MS = 60_000;

/**
 * The principal a presented secret stands for, or null when it is unknown or revoked. It runs on
 * every request, so a token not in the cache (valid, or recently found unknown or revoked) is one
 * prepared statement, cheaper than a Prisma query. `lastUsedAt` is written at most once a minute
 * per token, in the background, and guarded in SQL so replicas do not all write it.
 */
export async function authenticate(db: Database, secret: string, cache?: TokenCache): Promise<Principal | null> {
  if (!secret.startsWith(PREFIX)) return null;
  const tokenHash = hashToken(secret);
  const cached = cache?.get(tokenHash);
  if (cached) {
    if (Date.now() - cached.touchedAt >= LAST_USED_PRECISION_MS) {
      cached.touchedAt = Date.now();
      touch(db, cached.principal.tokenId);
    }
    return cached.principal;
  }
  if (cache?.isUnknown(tokenHash)) return null;
  const generation = cache?.generation ?? 0;
  const token = await findTokenByHash(db, tokenHash);
  if (!token || token.revokedAt) {
    cache?.setUnknown(tokenHash, generation);
    return null;
  }
  const touchedAt = token.lastUsedAt?.getTime() ?? 0;
  if (Date.now() - touchedAt >= LAST_USED_PRECISION_MS) touch(db, token.id);
  const principal: Principal = { tokenId: token.id, name: token.name, scopes: effectiveScopes(token.scopes) };
  cache?.set(tokenHash, { principal, touchedAt: Date.now() }, generation);
  return principal;
}

/** The notification channel on which the database announces changes to tokens (see migrations). */
export const TOKEN_CHANGES_CHANNEL = 'api_tokens_changed';

const touching = new WeakMap<Database, Set<number>>();

function touch(db: Database, tokenId: number): void {
  let pending = touching.get(db);
  if (!pending) touching.set(db, (pending = new Set()));
  if (pending.has(tokenId)) return;
  pending.add(tokenId);
  touchToken(db, tokenId, LAST_USED_PRECISION_MS)
    // Bookkeeping only: a failure (the database going away) must not fail or delay the request.
    .catch(() => {})
    .finally(() => pending.delete(tokenId));
}

export function listTokens(db: Database) {
  return db.apiToken.findMany({
    orderBy: { id: 'asc' },
    select: { id: true, name: true, scopes: true, createdAt: true, lastUsedAt: true, revokedAt: true },
  });
}

/** Revokes by name or id; returns false when no active token matched. */
export async function revokeToken(db: Database, nameOrId: string): Promise<boolean> {
  const id = /^\d+$/.test(nameOrId) ? Number(nameOrId) : undefined;
  const { count } = await db.apiToken.updateMany({
    where: { revokedAt: null, ...(id !== undefined ? { id } : { name: nameOrId }) },
    data: { revokedAt: new Date() },
  });
  return count > 0;
}
