/** The default password policy, as the API shows it and as the server enforces it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ARGON2_PARAMETERS,
  HASH_CONCURRENCY,
  hashingLoad,
  hashPassword,
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
  });
});

describe('the default policy', () => {
  it('is enforced through the API: a password breaking it gives PASSWORD_TOO_WEAK (each rule: test/unit/passwords.test.ts)', async () => {
    const { id } = await insertCustomer(server);
    expect(codesAndPaths(await updateCustomer(server, id, { authentication: { password: 'Password1' } }))).toEqual([
      ['PASSWORD_TOO_WEAK', 'input.authentication.password'],
    ]);
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

  it('runs off the event loop: timers fire while hashes are being computed', async () => {
    // A hash computed on the event loop would hold it until done: no timer could see one running.
    const seenRunning: number[] = [];
    const timer = setInterval(() => seenRunning.push(hashingLoad().running), 1);
    await Promise.all(Array.from({ length: HASH_CONCURRENCY * 3 }, (_, index) => hashPassword(`Concurrent-${index}`)));
    clearInterval(timer);
    expect(seenRunning.some((running) => running > 0)).toBe(true);
  });
});
