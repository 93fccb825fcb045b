/**
 * GraphQL over HTTP conformance: graphql-http's server audits against the real server, with
 * every protection on.
 *
 * Three audits are notices, and are meant to be: they send a GET with neither a custom header
 * nor a non-simple content type, which is exactly the request a hostile web page can make a
 * browser send without a CORS preflight. CSRF prevention refuses those (403). All three are
 * "MAY" items of the spec, and the same audits pass once the client adds a header that forces a
 * preflight (`x-graphql-yoga-csrf`, `apollo-require-preflight`), as the second run shows.
 */
import { serverAudits } from 'graphql-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.ts';

const REFUSED_BY_CSRF_PREVENTION = new Map([
  ['5A70', 'MAY accept application/x-www-form-urlencoded formatted GET requests'],
  ['D6D5', 'MAY allow URL-encoded JSON string {variables} parameter in GETs when accepting application/graphql-response+json'],
  ['6A70', 'MAY allow URL-encoded JSON string {variables} parameter in GETs when accepting application/json'],
]);

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ rateLimit: { requests: 10_000, anonymousRequests: 10_000, windowMs: 60_000 } });
});
afterAll(() => server.close());

async function audit(fetchFn?: typeof fetch) {
  const results = [];
  for (const { id, name, fn } of serverAudits({ url: `${server.url}/graphql`, ...(fetchFn ? { fetchFn } : {}) })) {
    const result = await fn();
    results.push({ id, name, status: result.status, reason: 'reason' in result ? result.reason : undefined });
  }
  return results;
}

describe('graphql-http server audits', () => {
  it('pass, except three GET audits that CSRF prevention turns into notices', async () => {
    const results = await audit();
    expect(results.length).toBeGreaterThanOrEqual(61);
    const notOk = results.filter((result) => result.status !== 'ok');
    expect(notOk.map(({ id, name, status }) => ({ id, name, status }))).toEqual(
      [...REFUSED_BY_CSRF_PREVENTION].map(([id, name]) => ({ id, name, status: 'notice' })),
    );
  });

  it('all pass for a client that sends a CSRF header', async () => {
    const withHeader: typeof fetch = (input, init) => {
      const headers = new Headers(init?.headers);
      headers.set('x-graphql-yoga-csrf', '1');
      return fetch(input, { ...init, headers });
    };
    const results = await audit(withHeader);
    expect(results.filter((result) => result.status !== 'ok')).toEqual([]);
  });
});
