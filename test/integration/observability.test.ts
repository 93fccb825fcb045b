/**
 * Request logs (one JSON line per request, never a variable), `/metrics` on a listener of its
 * own (in-process and in the real process), and request ids.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoCustomers } from '../../src/domain/demo-customers.ts';
import { createLogger } from '../../src/http/logging.ts';
import { createMetricsListener, createMetricsRegistry } from '../../src/http/metrics.ts';
import { startGateway, stopGateways } from '../support/processes.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const lines: string[] = [];
const logged = () => lines.map((line) => JSON.parse(line) as Record<string, any>);
let server: TestServer;
let metrics: Server;
let metricsUrl: string;
let customerId: string;
beforeAll(async () => {
  const logger = createLogger('debug', { write: (line: string) => void lines.push(line) });
  const registry = createMetricsRegistry();
  server = await startTestServer({ logger, rateLimit: { requests: 1_000, windowMs: 60_000 }, metrics: registry });
  metrics = createMetricsListener(registry);
  await new Promise<void>((resolve) => metrics.listen(0, '127.0.0.1', resolve));
  metricsUrl = `http://127.0.0.1:${(metrics.address() as AddressInfo).port}/metrics`;
  await seedDemoCustomers(server.database.db);
  const { rows } = await server.database.sql.query('SELECT id FROM customers ORDER BY id LIMIT 1');
  customerId = String(rows[0].id);
});
afterAll(async () => {
  await stopGateways();
  await new Promise((resolve) => (metrics ? metrics.close(resolve) : resolve(undefined)));
  await server?.close();
});

const PASSWORD = 'Correct-Horse-Battery-9-Staple';
const UPDATE = /* GraphQL */ `
  mutation ChangePassword($id: ID!, $input: UpdateCustomerInput!) {
    updateCustomer(id: $id, input: $input) { customer { id version } errors { __typename ... on Error { code path } } }
  }
`;

describe('request logs', () => {
  it('write one line per request with id, operation, token, status and duration, matching X-Request-Id', async () => {
    lines.length = 0;
    const response = await server.graphql('query OneCustomer($id: ID!) { customer(id: $id) { id } }', { id: customerId });
    expect(response.status).toBe(200);
    const requestId = response.headers.get('x-request-id');
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    const requestLines = logged().filter((line) => line.msg === 'request');
    expect(requestLines).toHaveLength(1);
    const tokenId = (await server.database.sql.query('SELECT id FROM api_tokens WHERE name LIKE $1', ['writer-%'])).rows[0].id;
    expect(requestLines[0]).toMatchObject({
      level: 'info',
      reqId: requestId,
      method: 'POST',
      path: '/graphql',
      operation: 'OneCustomer',
      operationType: 'query',
      tokenId,
      status: 200,
    });
    expect(requestLines[0]!.durationMs).toBeGreaterThan(0);
  });

  it('keep a request id sent by a proxy in front', async () => {
    const response = await server.graphql('{ __typename }', undefined, { headers: { 'x-request-id': 'lb-1234.abc' } });
    expect(response.headers.get('x-request-id')).toBe('lb-1234.abc');
    expect(logged().some((line) => line.reqId === 'lb-1234.abc')).toBe(true);
    const forged = await server.graphql('{ __typename }', undefined, { headers: { 'x-request-id': 'bad id\twith "quotes"' } });
    expect(forged.headers.get('x-request-id')).not.toContain('bad');
  });

  it('log error codes', async () => {
    lines.length = 0;
    const response = await server.graphql(UPDATE, { id: customerId, input: { company: 'x' } }, { token: server.tokens.read });
    expect(response.status).toBe(403);
    expect(logged().find((line) => line.msg === 'request')).toMatchObject({ status: 403, errors: ['FORBIDDEN'], operation: 'ChangePassword' });
  });

  it('never contain a password sent in variables or in the query text, whatever happens to the request', async () => {
    lines.length = 0;
    const input = { authentication: { password: PASSWORD, passwordConfirmation: PASSWORD } };
    const accepted = await server.graphql(UPDATE, { id: customerId, input });
    expect(accepted.status).toBe(200);
    expect(accepted.body.data!.updateCustomer.errors).toEqual([]);
    const forbidden = await server.graphql(UPDATE, { id: customerId, input }, { token: server.tokens.read });
    expect(forbidden.status).toBe(403);
    const mismatch = await server.graphql(UPDATE, { id: customerId, input: { authentication: { password: PASSWORD, passwordConfirmation: `${PASSWORD}!` } } });
    expect(mismatch.body.data!.updateCustomer.errors[0].code).toBe('PASSWORD_MISMATCH');
    const badInput = await server.graphql(UPDATE, { id: customerId, input: { unknown: 1, authentication: { password: PASSWORD } } });
    expect(badInput.status).toBe(400);
    const inline = await server.graphql(
      `mutation Inline { updateCustomer(id: "${customerId}", input: { authentication: { password: "${PASSWORD}" } }) { errors { __typename } } }`,
    );
    expect(inline.status).toBe(200);
    for (const response of [accepted, forbidden, mismatch, badInput, inline]) expect(response.text).not.toContain(PASSWORD);
    expect(lines.length).toBeGreaterThanOrEqual(5);
    for (const line of lines) expect(line).not.toContain(PASSWORD);
    for (const line of lines) expect(line).not.toContain('Correct-Horse');
  });

  it('log an unexpected error with the request id and without its database details', async () => {
    const errorLines: string[] = [];
    const broken = await startTestServer({ logger: createLogger('info', { write: (line: string) => void errorLines.push(line) }) });
    try {
      await seedDemoCustomers(broken.database.db);
      await broken.database.sql.query('DROP TABLE customer_form_fields');
      const response = await broken.graphql('query Fields { customers(first: 1) { edges { node { formFields { name } } } } }');
      expect(response.body.errors![0]!.extensions!.code).toBe('INTERNAL_SERVER_ERROR');
      const requestId = response.headers.get('x-request-id');
      const entries = errorLines.map((line) => JSON.parse(line) as Record<string, any>);
      const unexpected = entries.find((line) => line.msg === 'unexpected error');
      expect(unexpected).toMatchObject({ level: 'error', reqId: requestId, error: { type: expect.stringMatching(/Prisma|DriverAdapter/) } });
      expect(entries.find((line) => line.msg === 'request')).toMatchObject({ reqId: requestId, errors: ['INTERNAL_SERVER_ERROR'] });
      for (const line of errorLines) expect(line).not.toMatch(/Invalid `.*` invocation/);
    } finally {
      await broken.close();
    }
  });
});

describe('/metrics', () => {
  it('serves Prometheus text with requests and latencies per operation, errors by code, and pool use', async () => {
    await server.graphql('query MetricsProbe { __typename }');
    await server.graphql('query MetricsProbe { __typename }');
    await server.graphql('{ customer(id: "1") { id } }', undefined, { token: null });
    const response = await fetch(metricsUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    expect(text).toMatch(/^graphql_requests_total\{operation="MetricsProbe",type="query",status="200"\} 2$/m);
    expect(text).toMatch(/^graphql_request_duration_seconds_count\{operation="MetricsProbe",type="query"\} 2$/m);
    expect(text).toMatch(/^graphql_request_duration_seconds_bucket\{le="0\.1",operation="MetricsProbe",type="query"\} \d+$/m);
    expect(text).toMatch(/^graphql_errors_total\{code="UNAUTHENTICATED"\} [1-9]\d*$/m);
    expect(text).toMatch(/^graphql_errors_total\{code="FORBIDDEN"\} [1-9]\d*$/m);
    expect(text).toMatch(/^db_pool_connections\{state="total"\} [1-9]\d*$/m);
    expect(text).toMatch(/^db_pool_connections\{state="idle"\} \d+$/m);
    expect(text).toMatch(/^db_pool_connections\{state="waiting"\} \d+$/m);
    expect(text).toMatch(/^process_cpu_seconds_total \d/m);
  });

  it('is not on the API port, and its listener answers nothing else', async () => {
    expect((await fetch(`${server.url}/metrics`)).status).toBe(404);
    const other = await fetch(new URL('/graphql', metricsUrl));
    expect(other.status).toBe(404);
    expect((await fetch(metricsUrl, { method: 'POST' })).status).toBe(404);
  });

  it('labels operations only for requests that authenticated', async () => {
    const badToken = await server.graphql('query BadTokenProbe { __typename }', undefined, { token: 'cgw_not-a-token' });
    expect(badToken.status).toBe(401);
    const anonymous = await server.graphql('query AnonymousProbe { __typename }', undefined, { token: null });
    expect(anonymous.status).toBe(200);
    await server.graphql('query AuthenticatedProbe { __typename }');
    const text = await (await fetch(metricsUrl)).text();
    expect(text).not.toMatch(/BadTokenProbe|AnonymousProbe/);
    expect(text).toMatch(/^graphql_requests_total\{operation="unauthenticated",type="[a-z]+",status="401"\} [1-9]\d*$/m);
    expect(text).toMatch(/^graphql_requests_total\{operation="unauthenticated",type="query",status="200"\} [1-9]\d*$/m);
    expect(text).toMatch(/^graphql_requests_total\{operation="AuthenticatedProbe",type="query",status="200"\} 1$/m);
  });
});

describe('/metrics in the real process', () => {
  const METRICS_LINE = /metrics: (http:\/\/\S+\/metrics)/;

  it('listens on METRICS_PORT at 127.0.0.1, apart from the API, which answers 404 there', async () => {
    const gateway = await startGateway({ databaseUrl: server.database.url, token: server.tokens.read, env: { METRICS_PORT: '0' } });
    const url = METRICS_LINE.exec(gateway.output())?.[1];
    expect(url, gateway.output()).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(new URL(url!).port).not.toBe(new URL(gateway.url).port);
    expect((await gateway.graphql('query ProcessProbe { __typename }')).status).toBe(200);
    const response = await fetch(url!);
    expect(response.status).toBe(200);
    expect(await response.text()).toMatch(/^graphql_requests_total\{operation="ProcessProbe",type="query",status="200"\} 1$/m);
    expect((await gateway.request('/metrics')).status).toBe(404);
    await gateway.stop();
  });

  it('has no metrics listener without METRICS_PORT', async () => {
    const gateway = await startGateway({ databaseUrl: server.database.url, token: server.tokens.read });
    expect(gateway.output()).not.toMatch(METRICS_LINE);
    expect((await gateway.request('/metrics')).status).toBe(404);
    await gateway.stop();
  });
});
