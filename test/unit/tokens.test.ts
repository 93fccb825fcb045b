/** API tokens without a database: the stored hash of a secret, and what scopes grant. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { effectiveScopes, hashToken } from '../../src/domain/tokens.ts';

describe('hashToken', () => {
  it('is the SHA-256 of the secret in hex: the same secret always, another secret never', () => {
    const secret = 'cgw_0123456789abcdefghijklmnopqrstuvwxyzABCDEFG';
    expect(hashToken(secret)).toBe(createHash('sha256').update(secret).digest('hex'));
    expect(hashToken(secret)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashToken(secret)).toBe(hashToken(secret));
    expect(hashToken(`${secret}x`)).not.toBe(hashToken(secret));
    expect(hashToken(secret)).not.toContain(secret);
  });
});

describe('effectiveScopes', () => {
  it('customers:write implies customers:read', () => {
    expect(effectiveScopes(['customers:write'])).toEqual(new Set(['customers:write', 'customers:read']));
    expect(effectiveScopes(['customers:read', 'customers:write'])).toEqual(new Set(['customers:write', 'customers:read']));
  });

  it('customers:read is read only', () => {
    expect(effectiveScopes(['customers:read'])).toEqual(new Set(['customers:read']));
  });

  it('webhooks:manage stands alone: customers:write does not imply it, nor does it imply customer reads', () => {
    expect(effectiveScopes(['customers:write'])).not.toContain('webhooks:manage');
    expect(effectiveScopes(['webhooks:manage'])).toEqual(new Set(['webhooks:manage']));
  });

  it('ignores scopes it does not know, and grants nothing for none', () => {
    expect(effectiveScopes(['customers:admin', 'customers:read', 'CUSTOMERS:WRITE'])).toEqual(new Set(['customers:read']));
    expect(effectiveScopes([])).toEqual(new Set());
  });
});
