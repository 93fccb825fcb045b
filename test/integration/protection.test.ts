/**
 * Protection of the GraphQL endpoint (OWASP's GraphQL cheat sheet): document limits that do
 * not reveal themselves, no field suggestions, masked unexpected errors, a body size limit,
 * no batching, CSRF checks, a CORS allow-list, and no echo of input values in errors.
 */
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoCustomers } from '../../src/domain/demo-customers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ limits: { maxBodyBytes: 4_000 }, corsOrigins: ['https://admin.example.com'] });
  await seedDemoCustomers(server.database.db);
});
afterAll(() => server.close());

/** Refused before execution, as a GraphQL error, without the limit or the measured value. */
function expectRefusedQuietly(response: Awaited<ReturnType<TestServer['graphql']>>) {
  expect(response.status).toBe(400);
  expect(response.body.data ?? null).toBeNull();
  expect(response.body.errors!.length).toBeGreaterThan(0);
  for (const error of response.body.errors!) {
    expect(error.message).not.toMatch(/\d/);
    expect(error.extensions?.code).toBe('QUERY_TOO_COMPLEX');
  }
}

describe('document limits (graphql-armor)', () => {
  it('refuses a query deeper than the limit without saying how deep is allowed', async () => {
    const shallow = await startTestServer({ database: server.database, limits: { maxDepth: 3 } });
    try {
      const ok = await shallow.graphql('{ customer(id: "1") { formFields { name } } }');
      expect(ok.status).toBe(200);
      const deep = await shallow.graphql('{ customers { edges { node { formFields { name } } } } }');
      expectRefusedQuietly(deep);
    } finally {
      await shallow.close();
    }
  });

  it('refuses too many aliases (default limit 15)', async () => {
    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: passwordPolicy { __typename }`).join(' ')} }`;
    expect((await server.graphql(aliases(15))).status).toBe(200);
    expectRefusedQuietly(await server.graphql(aliases(16)));
    // the classic batching-by-alias attack on a data field
    const wide = `{ ${Array.from({ length: 50 }, (_, i) => `c${i}: customer(id: "${i + 1}") { id }`).join(' ')} }`;
    expectRefusedQuietly(await server.graphql(wide));
  });

  it('refuses too many directives and too many tokens', async () => {
    const directives = `{ __typename ${'@include(if: true) '.repeat(21)} }`;
    expectRefusedQuietly(await server.graphql(directives));
    const tokens = `{ customer(id: "1") { ${'id '.repeat(1_050)}} }`;
    expectRefusedQuietly(await server.graphql(tokens));
  });

  it('suggests no field names', async () => {
    const response = await server.graphql('{ custome(id: "1") { id } }');
    expect(response.status).toBe(400);
    expect(response.text).not.toMatch(/Did you mean/);
    expect(response.text).not.toMatch(/"customer"/);
  });
});

describe('operation cost, with variables and defaults resolved', () => {
  const HISTORY_PAGE = 'edges { node { history(first: $n) { edges { node { id changes { field } } } } } }';
  /** The review's probe: every customer of a page, each with a page of its history, under `aliases` aliases. */
  const probe = (aliases: number) =>
    `query ($n: Int) { ${Array.from({ length: aliases }, (_, i) => `a${i}: customers(first: $n) { ${HISTORY_PAGE} }`).join(' ')} }`;

  it('refuses the probe: pages of 100 customers with 100 history entries each, under 15 aliases or one', async () => {
    expectRefusedQuietly(await server.graphql(probe(15), { n: 100 }));
    expectRefusedQuietly(await server.graphql(probe(1), { n: 100 }));
  });

  it('measures the operation that runs, not the first one of the document', async () => {
    const document = `query Cheap { __typename } ${probe(15).replace('query (', 'query Probe(')}`;
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-token': server.tokens.read },
      body: JSON.stringify({ query: document, variables: { n: 100 }, operationName: 'Probe' }),
    });
    expectRefusedQuietly({ status: response.status, headers: response.headers, text: '', body: await response.json() });
  });

  it('counts a page size left out as the default page of 20', async () => {
    const defaults = `{ ${Array.from({ length: 15 }, (_, i) => `a${i}: customers { edges { node { history { edges { node { id } } } } } }`).join(' ')} }`;
    expectRefusedQuietly(await server.graphql(defaults));
  });

  it('measures each request with its own variables: the same document with small pages runs', async () => {
    const small = await server.graphql(probe(15), { n: 1 });
    expect(small.status).toBe(200);
    expect(small.body.errors).toBeUndefined();
    expectRefusedQuietly(await server.graphql(probe(15), { n: 100 }));
    expect((await server.graphql(probe(15), { n: 1 })).status).toBe(200);
  });

  it('counts a page size over the cap as the cap of 100, as the resolvers do', async () => {
    const capped = await startTestServer({ database: server.database, limits: { maxCost: 300 } });
    try {
      // 1 (customer) + 1 (history) + 100 entries x 2 (the entry and its changes) = 202
      const query = 'query ($n: Int) { customer(id: "1") { history(first: $n) { edges { node { changes { field } } } } } }';
      expect((await capped.graphql(query, { n: 100_000 })).status).toBe(200);
    } finally {
      await capped.close();
    }
  });

  it('refuses a query over MAX_COST', async () => {
    const cheap = await startTestServer({ database: server.database, limits: { maxCost: 20 } });
    try {
      expect((await cheap.graphql('{ customer(id: "1") { id } }')).status).toBe(200);
      const costly = await cheap.graphql(
        '{ customers { edges { node { id firstName lastName email company phone notes storeCredit formFields { name value } } } } }',
      );
      expectRefusedQuietly(costly);
    } finally {
      await cheap.close();
    }
  });

  it('lets normal operations through: the example operations, 100 customers with every field, customers with their history', async () => {
    const operations = new URL('../../examples/operations/', import.meta.url);
    const fragment = readFileSync(new URL('customer-fields.graphql', operations), 'utf8');
    const example = (name: string) => `${readFileSync(new URL(`${name}.graphql`, operations), 'utf8')}\n${fragment}`;
    const email = `cost.${Date.now()}@example.com`;
    const answers = [
      await server.graphql(example('customers'), { first: 100 }),
      await server.graphql(example('customer'), { id: '1' }),
      await server.graphql(example('create-customer'), { input: { firstName: 'Cost', lastName: 'Check', email } }),
      await server.graphql(example('update-customer'), { id: '1', input: { notes: 'cost check' } }),
      await server.graphql(`{ customers(first: 100) { edges { cursor node {
        id firstName lastName email company phone notes storeCredit registrationIpAddress customerGroupId taxExemptCategory
        resetPassOnLogin acceptsProductReviewAbandonedCartEmails formFields { name value } dateCreated dateModified version
      } } pageInfo { hasNextPage endCursor } } }`),
      await server.graphql(`{ customer(id: "1") { id version history(first: 20) {
        edges { cursor node { id at actor version changes { field from to } } } pageInfo { hasNextPage endCursor }
      } } }`),
      await server.graphql(`{ customers(first: 100) { edges { node { id history(first: 20) { edges { node { version changes { field } } } } } } } }`),
    ];
    for (const answer of answers) {
      expect(answer.status, answer.text).toBe(200);
      expect(answer.body.errors, answer.text).toBeUndefined();
    }
  });

  it('suggests nothing anywhere: no fragment, argument, type, enum value or input field names', async () => {
    const probes: Array<[string, Record<string, unknown>?]> = [
      ['mutation { updateCustomer(id: "1", input: {}) { errors { code } } }'],
      ['{ customers(fist: 1) { edges { cursor } } }'],
      ['query ($f: CustomerFiltr) { customers(filter: $f) { edges { cursor } } }'],
      ['query ($f: CustomerFilter) { customers(filter: $f) { edges { cursor } } }', { f: { emial: 'x' } }],
      ['mutation { updateCustomer(id: "1", input: { firstNam: "x" }) { errors { code } } }'],
    ];
    for (const [query, variables] of probes) {
      const response = await server.graphql(query, variables);
      expect(response.status, query).toBe(400);
      expect(response.body.errors!.length, query).toBeGreaterThan(0);
      expect(response.text, query).not.toMatch(/Did you mean|Suggestion/i);
      // the names a suggestion would have given away, quoted as in a message
      expect(response.text, query).not.toMatch(/\\"(Error|ValidationError|first|email|firstName)\\"/);
    }
  });
});

describe('unexpected errors', () => {
  it('reach clients as "Unexpected error." with INTERNAL_SERVER_ERROR, never with details, even in development', async () => {
    const broken = await startTestServer();
    const nodeEnv = process.env.NODE_ENV;
    try {
      await seedDemoCustomers(broken.database.db);
      // a real database failure: the table the resolver reads is gone
      await broken.database.sql.query('DROP TABLE customer_form_fields');
      process.env.NODE_ENV = 'development';
      const response = await broken.graphql('{ customers(first: 1) { edges { node { id formFields { name } } } } }');
      expect(response.body.errors).toHaveLength(1);
      const [error] = response.body.errors!;
      expect(error!.message).toBe('Unexpected error.');
      expect(error!.extensions!.code).toBe('INTERNAL_SERVER_ERROR');
      expect(response.text).not.toMatch(/customer_form_fields|prisma|relation|stack|originalError|at .*\.(js|ts):\d+/i);
    } finally {
      process.env.NODE_ENV = nodeEnv;
      await broken.close();
    }
  });

  it('our own errors keep their message and code', async () => {
    const response = await server.graphql('{ customer(id: "1") { id } }', undefined, { token: null });
    expect(response.body.errors![0]!.message).toMatch(/token/);
    expect(response.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  });
});

describe('input values in errors', () => {
  it('are not echoed back, so a password sent with the wrong type is not repeated', async () => {
    const mutation = 'mutation ($input: UpdateCustomerInput!) { updateCustomer(id: "1", input: $input) { errors { __typename } } }';
    const wrongType = await server.graphql(mutation, { input: { authentication: { password: 987654321987 } } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body.errors![0]!.message).toMatch(/input\.authentication\.password/);
    expect(wrongType.text).not.toContain('987654321987');

    const unknownField = await server.graphql(mutation, { input: { nickname: 'x', authentication: { password: 'Sup3r; "secret" at "x"' } } });
    expect(unknownField.body.errors![0]!.message).toMatch(/nickname/);
    expect(unknownField.text).not.toMatch(/Sup3r|secret/);
  });
});

/** Sends a body of `size` bytes, with Content-Length or chunked (no length announced). */
function post(url: string, size: number, chunked: boolean): Promise<{ status: number; body: string }> {
  const filler = ' '.repeat(Math.max(0, size - 40));
  const body = Buffer.from(`{"query":"{ __typename }"${filler}}`);
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(chunked ? {} : { 'content-length': String(body.length) }) },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    if (chunked) {
      // several writes without a length: the size is only known while reading
      for (let i = 0; i < body.length; i += 1_000) req.write(body.subarray(i, i + 1_000));
      req.end();
    } else req.end(body);
  });
}

describe('request body size', () => {
  it('accepts a body under the limit and refuses a larger one with 413, announced or streamed', async () => {
    expect((await post(server.url, 3_000, false)).status).toBe(200);
    expect((await post(server.url, 3_000, true)).status).toBe(200);
    for (const chunked of [false, true]) {
      const refused = await post(server.url, 20_000, chunked);
      expect(refused.status, chunked ? 'chunked' : 'content-length').toBe(413);
      expect(refused.body).not.toMatch(/4000|4_000/);
    }
  });
});

describe('batching', () => {
  it('is off: an array of operations is refused', async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]),
    });
    expect(response.status).toBe(400);
    expect(await response.text()).not.toMatch(/"data"/);
  });
});

describe('CSRF prevention', () => {
  const get = (headers: Record<string, string>) =>
    fetch(`${server.url}/graphql?query=${encodeURIComponent('{ __typename }')}`, { headers: { accept: 'application/json', ...headers } });

  it('refuses a GET a web page could send (no custom header, no JSON content type)', async () => {
    const bare = await get({});
    expect(bare.status).toBe(403);
    expect(await bare.text()).toMatch(/CSRF/);
    const form = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `query=${encodeURIComponent('{ __typename }')}`,
    });
    expect(form.status).toBe(403);
  });

  it("lets through GETs with a preflight-forcing header, as Apollo Client's content-type or a CSRF header", async () => {
    const variants: Array<Record<string, string>> = [
      { 'content-type': 'application/json' },
      { 'x-graphql-yoga-csrf': '1' },
      { 'apollo-require-preflight': 'true' },
    ];
    for (const headers of variants) {
      const response = await get(headers);
      expect(response.status, JSON.stringify(headers)).toBe(200);
      expect(await response.json()).toEqual({ data: { __typename: 'Query' } });
    }
  });
});

describe('CORS', () => {
  const preflight = (origin: string) =>
    fetch(`${server.url}/graphql`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, x-auth-token' },
    });

  it('answers an allowed origin, exposing the rate-limit and request-id headers', async () => {
    const response = await preflight('https://admin.example.com');
    expect(response.headers.get('access-control-allow-origin')).toBe('https://admin.example.com');
    expect(response.headers.get('access-control-allow-headers')).toMatch(/x-auth-token/);
    expect(response.headers.get('access-control-allow-credentials')).toBeNull();
    const actual = await server.graphql('{ __typename }', undefined, { headers: { origin: 'https://admin.example.com' } });
    expect(actual.headers.get('access-control-allow-origin')).toBe('https://admin.example.com');
    expect(actual.headers.get('access-control-expose-headers')).toMatch(/X-Rate-Limit-Requests-Left/);
    expect(actual.headers.get('access-control-expose-headers')).toMatch(/X-Request-Id/);
  });

  it('gives any other origin no CORS headers, and by default no origin is allowed', async () => {
    const response = await preflight('https://evil.example');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    const other = await server.graphql('{ __typename }', undefined, { headers: { origin: 'https://evil.example' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const closed = await startTestServer({ database: server.database });
    try {
      const refused = await fetch(`${closed.url}/graphql`, {
        method: 'OPTIONS',
        headers: { origin: 'https://admin.example.com', 'access-control-request-method': 'POST' },
      });
      expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await closed.close();
    }
  });
});

describe('response headers', () => {
  it('GraphQL answers are never stored by a cache and vary with the token; nothing is content-sniffed', async () => {
    const data = await server.graphql('{ customer(id: "1") { id email } }', undefined, { token: server.tokens.read });
    expect(data.body.data).toEqual({ customer: { id: '1', email: expect.any(String) } });
    const get = await fetch(`${server.url}/graphql?query=${encodeURIComponent('{ customer(id: "1") { id } }')}`, {
      headers: { 'x-auth-token': server.tokens.read, 'x-graphql-yoga-csrf': '1' },
    });
    expect(get.status).toBe(200);
    const refused = await server.graphql('{ customer(id: "1") { id } }', undefined, { token: null });
    expect(refused.status).toBe(401);
    const origin = await server.graphql('{ __typename }', undefined, { headers: { origin: 'https://admin.example.com' } });
    for (const response of [data, get, refused, origin]) {
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('vary')).toMatch(/X-Auth-Token, Authorization/);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    }
    // CORS' own Vary: Origin stays
    expect(origin.headers.get('vary')).toMatch(/origin/i);
    for (const path of ['/healthz', '/readyz', '/nowhere']) {
      const other = await fetch(`${server.url}${path}`);
      expect(other.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
    const page = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('cache-control')).toBe('no-store');
  });
});
