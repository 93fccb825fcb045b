/** What production turns off (GraphiQL, introspection) and what development offers instead. */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/domain/tokens.ts';
import { EXAMPLE_OPERATION } from '../../src/http/graphiql.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startTestServer } from '../support/server.ts';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.close());

const browserGet = (url: string) => fetch(`${url}/graphql`, { headers: { accept: 'text/html,application/xhtml+xml' } });
const INTROSPECTION = '{ __schema { queryType { name } } }';

/** A browser's GET of the page with the given Host header (fetch would not send another Host). */
function pageFor(url: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${url}/graphql`, { headers: { host, accept: 'text/html' } });
    request.on('response', (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, body }));
    });
    request.on('error', reject);
    request.end();
  });
}

describe('production', () => {
  it('serves no GraphiQL and refuses introspection by default, while data queries work', async () => {
    const server = await startTestServer({ database, production: true });
    try {
      const page = await browserGet(server.url);
      expect(page.headers.get('content-type') ?? '').not.toMatch(/text\/html/);
      expect(await page.text()).not.toMatch(/graphiql/i);
      const introspection = await server.graphql(INTROSPECTION, undefined, { token: null });
      expect(introspection.status).toBe(400);
      expect(introspection.text).toMatch(/introspection/i);
      expect(introspection.text).not.toMatch(/"queryType"/);
      const typename = await server.graphql('{ __typename }', undefined, { token: server.tokens.read });
      expect(typename.body).toEqual({ data: { __typename: 'Query' } });
    } finally {
      await server.close();
    }
  });

  it('can turn GraphiQL and introspection back on (GRAPHIQL=true, INTROSPECTION=true), without any token in the page', async () => {
    const server = await startTestServer({ database, production: true, graphiql: true, introspection: true, developmentToken: undefined });
    try {
      const page = await browserGet(server.url);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      expect(await page.text()).not.toMatch(/cgw_/);
      expect((await server.graphql(INTROSPECTION, undefined, { token: null })).body).toEqual({ data: { __schema: { queryType: { name: 'Query' } } } });
    } finally {
      await server.close();
    }
  });

  it('development can turn introspection off too', async () => {
    const server = await startTestServer({ database, introspection: false });
    try {
      expect((await server.graphql(INTROSPECTION, undefined, { token: null })).status).toBe(400);
      expect((await browserGet(server.url)).headers.get('content-type')).toMatch(/text\/html/);
    } finally {
      await server.close();
    }
  });
});

describe('development GraphiQL', () => {
  it('opens with the development token in X-Auth-Token and the example updateCustomer operation', async () => {
    const { secret: token } = await createToken(database.db, 'development', ['customers:write']);
    const withToken = await startTestServer({ database, developmentToken: token });
    try {
      const html = await (await browserGet(withToken.url)).text();
      // the page ends with `YogaGraphiQL.renderYogaGraphiQL(<root element>, <options as JSON>)`
      const call = html.slice(html.lastIndexOf('YogaGraphiQL.renderYogaGraphiQL('));
      const options = JSON.parse(/^YogaGraphiQL\.renderYogaGraphiQL\(\s*[^,]+,\s*(\{.*\})\s*,?\s*\)/s.exec(call)![1]!);
      expect(JSON.parse(options.headers)).toEqual({ 'X-Auth-Token': token });
      expect(options.defaultQuery).toBe(EXAMPLE_OPERATION);
      expect(options.defaultQuery).toMatch(/mutation UpdateCustomer \{\s+updateCustomer\(id: "1", input: \{/);

      // the example runs as it is, with that header
      const result = await withToken.graphql(EXAMPLE_OPERATION, undefined, { token });
      expect(result.status).toBe(200);
      expect(result.body.data).toHaveProperty('updateCustomer');
    } finally {
      await withToken.close();
    }
  });

  it('puts the token only in pages asked for by a loopback Host (a DNS-rebound name gets the page without it)', async () => {
    const { secret: token } = await createToken(database.db, 'development-rebinding', ['customers:write']);
    const server = await startTestServer({ database, developmentToken: token });
    try {
      const port = new URL(server.url).port;
      for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'localhost', 'LOCALHOST:4000', '127.0.0.1']) {
        const page = await pageFor(server.url, host);
        expect(page.status, host).toBe(200);
        expect(page.body.includes(token), host).toBe(true);
      }
      for (const host of [`evil.example:${port}`, 'localhost.evil.example', '127.0.0.1.nip.io', '127.0.0.2', '0.0.0.0']) {
        const page = await pageFor(server.url, host);
        expect(page.status, host).toBe(200);
        // (booleans: a failure would otherwise print the whole page)
        expect(page.body.includes('renderYogaGraphiQL'), host).toBe(true);
        expect(page.body.includes('cgw_'), host).toBe(false);
      }
    } finally {
      await server.close();
    }
  });
});
