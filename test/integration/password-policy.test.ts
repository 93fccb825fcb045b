/** The default password policy, as the API shows it and as the server enforces it. */
import { dictionary } from '@zxcvbn-ts/language-common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ARGON2_PARAMETERS,
  HASH_CONCURRENCY,
  hashingLoad,
  hashPassword,
  passwordWeaknesses,
  PASSWORD_POLICY,
} from '../../src/domain/passwords.ts';
import { codesAndPaths, insertCustomer, updateCustomer } from '../support/customers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

describe('passwordPolicy', () => {
  it('shows the rules the validator uses, and needs no token', async () => {
    const response = await server.graphql(
      '{ passwordPolicy { minLength maxLength requiresLetter requiresDigit rejectsCommonPasswords commonPasswordCount } }',
      {},
      { token: null },
    );
    expect(response.status).toBe(200);
    expect(response.body.data!.passwordPolicy).toEqual({ ...PASSWORD_POLICY });
    expect(PASSWORD_POLICY).toMatchObject({ minLength: 8, maxLength: 128, requiresLetter: true, requiresDigit: true, rejectsCommonPasswords: true });
    expect(PASSWORD_POLICY.commonPasswordCount).toBeGreaterThan(30_000);
  });
});

describe('the default policy', () => {
  it('accepts a password at the bounds with a letter and a digit', () => {
    expect(passwordWeaknesses('kq3vzmxw')).toEqual([]);
    expect(passwordWeaknesses(`a1${'q'.repeat(126)}`)).toEqual([]);
    // Letters of any alphabet count; length is in characters, not UTF-16 units.
    expect(passwordWeaknesses('пароль77')).toEqual([]);
    expect(passwordWeaknesses('😀😀😀😀😀😀a1')).toEqual([]);
  });

  it('names every rule a password breaks, and never the password itself', () => {
    expect(passwordWeaknesses('abc')).toEqual(['have at least 8 characters', 'contain a digit (0-9)']);
    expect(passwordWeaknesses('12345678901')).toEqual(['contain a letter']);
    expect(passwordWeaknesses(`a1${'q'.repeat(127)}`)).toEqual(['have at most 128 characters']);
    expect(passwordWeaknesses('😀😀😀a1')).toEqual(['have at least 8 characters']);
    for (const password of ['abc', 'password1', 'Tr0ub4dor&3x'.repeat(12)]) {
      for (const reason of passwordWeaknesses(password)) expect(reason).not.toContain(password);
    }
  });

  it('refuses every common password that meets the other rules, in any case', () => {
    const eligible = dictionary['passwords-common'].filter((word) => [...word].length >= 8 && [...word].length <= 128 && /\p{L}/u.test(word) && /[0-9]/.test(word));
    expect(eligible.length).toBeGreaterThan(1000);
    for (const word of eligible) {
      expect(passwordWeaknesses(word)).toEqual(['not be a well-known common password']);
      expect(passwordWeaknesses(word.toUpperCase())).toEqual(['not be a well-known common password']);
    }
  });

  it('is enforced through the API: each rule gives PASSWORD_TOO_WEAK', async () => {
    const { id } = await insertCustomer(server);
    for (const password of ['short1', 'onlyletters', '1234567890', `a1${'q'.repeat(127)}`, 'Password1', 'QWERTY123']) {
      expect(codesAndPaths(await updateCustomer(server, id, { authentication: { password } }))).toEqual([
        ['PASSWORD_TOO_WEAK', 'input.authentication.password'],
      ]);
    }
  });
});

describe('hashing', () => {
  it('is argon2id with at least OWASP\'s minimum: 19 MiB, 2 iterations, 1 lane', async () => {
    expect(ARGON2_PARAMETERS).toMatchObject({ algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 });
    const hash = await hashPassword('Some-pass-42');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(await hashPassword('Some-pass-42')).not.toBe(hash);
  });

  it(`runs at most ${HASH_CONCURRENCY} at a time; the rest wait their turn`, async () => {
    const hashes = Array.from({ length: HASH_CONCURRENCY * 3 }, (_, index) => hashPassword(`Queued-${index}`));
    await new Promise((resolve) => setImmediate(resolve));
    expect(hashingLoad()).toEqual({ running: HASH_CONCURRENCY, waiting: HASH_CONCURRENCY * 2 });
    await Promise.all(hashes);
    expect(hashingLoad()).toEqual({ running: 0, waiting: 0 });
  });

  it('runs off the event loop: the loop keeps turning while hashes are computed', async () => {
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 1);
    const started = performance.now();
    await Promise.all(Array.from({ length: HASH_CONCURRENCY * 3 }, (_, index) => hashPassword(`Concurrent-${index}`)));
    const elapsed = performance.now() - started;
    clearInterval(timer);
    // A blocking hash would starve the 1 ms timer for the whole run.
    expect(ticks).toBeGreaterThan(elapsed / 10);
  });
});
