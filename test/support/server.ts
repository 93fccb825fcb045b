/**
 * The real HTTP server on a free port, over a test database, with tokens of each scope.
 * Options go to `createServer` as they are (limits, logger, production flags...), except that
 * rate limiting is off unless a test asks for it, so suites that send many requests are not
 * slowed down by a limit they do not test.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer, type ServerDependencies } from '../../src/server.ts';
import { createToken } from '../../src/domain/tokens.ts';
import { createTestDatabase, type TestDatabase } from './database.ts';

export interface GraphQLResponse<T = Record<string, any>> {
  status: number;
  headers: Headers;
  body: { data?: T | null; errors?: Array<{ message: string; path?: string[]; extensions?: Record<string, any> }> };
  text: string;
}

export interface TestServer {
  url: string;
  database: TestDatabase;
  tokens: { read: string; write: string };
  /** POSTs one operation; `token: null` sends none, the default is the write token. */
  graphql<T = Record<string, any>>(
    query: string,
    variables?: Record<string, unknown>,
    options?: { token?: string | null; headers?: Record<string, string> },
  ): Promise<GraphQLResponse<T>>;
  close(): Promise<void>;
}

export async function startTestServer(
  options: Partial<Omit<ServerDependencies, 'db'>> & { database?: TestDatabase } = {},
): Promise<TestServer> {
  const { database: given, ...dependencies } = options;
  const database = given ?? (await createTestDatabase());
  const yoga = createServer({ rateLimit: false, ...dependencies, db: database.db });
  const http: Server = createHttpServer(yoga);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const suffix = Math.random().toString(36).slice(2, 8);
  const read = (await createToken(database.db, `reader-${suffix}`, ['customers:read'])).secret;
  const write = (await createToken(database.db, `writer-${suffix}`, ['customers:write'])).secret;

  return {
    url,
    database,
    tokens: { read, write },
    async graphql(query, variables, { token = write, headers = {} } = {}) {
      const response = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json, application/json',
          ...(token ? { 'x-auth-token': token } : {}),
          ...headers,
        },
        body: JSON.stringify({ query, variables }),
      });
      const text = await response.text();
      return { status: response.status, headers: response.headers, body: JSON.parse(text), text };
    },
    async close() {
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
      await yoga.dispose();
      if (!given) await database.close();
    },
  };
}
