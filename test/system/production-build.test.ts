/**
 * Production as it runs: the build in dist/ (made by `npm run build` unless it is fresh) under
 * plain node with NODE_ENV=production, no tsx. The built token command and the built server both
 * find the migrations from dist/, a token they share writes a customer, a page read through
 * Prisma (its query compiler is a chunk of its own, loaded on first use) finds it, and SIGTERM
 * exits 0. With OTEL_EXPORTER_OTLP_ENDPOINT set, the bundled server traces its statements too
 * (pg is patched in the bundle, not through a require hook) and exports its last spans on SIGTERM.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.ts';
import { startGateway, stopGateways, type GatewayProcess } from '../support/processes.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
/** No loader inherited from the test runner: what runs is the JavaScript in dist/. */
const PRODUCTION = { NODE_ENV: 'production', NODE_OPTIONS: '', LOG_LEVEL: 'info', MIGRATE_ON_START: 'true' };

let database: TestDatabase;
let gateway: GatewayProcess;
let token: string;

beforeAll(async () => {
  // The same check `npm run start:prod` makes before it runs dist/main.js.
  const fresh = spawnSync(process.execPath, ['--import', './scripts/require-fresh-build.mjs', '--eval', ''], { cwd: ROOT, encoding: 'utf8' });
  if (fresh.status !== 0) {
    const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, encoding: 'utf8' });
    expect(build.status, build.stdout + build.stderr).toBe(0);
  }
  database = await createTestDatabase({ poolSize: 1 });
  const env = { ...process.env, ...PRODUCTION, DATABASE_URL: database.url };
  const created = spawnSync(process.execPath, ['dist/cli/token.js', 'create', '--name', 'production-build', '--scopes', 'customers:write'], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
  });
  expect(created.status, created.stderr).toBe(0);
  token = created.stdout.trim();
  gateway = await startGateway({ databaseUrl: database.url, token, args: ['dist/main.js'], env: PRODUCTION });
}, 120_000);

afterAll(async () => {
  await stopGateways();
  await database?.close();
});

describe('node dist/main.js with NODE_ENV=production', () => {
  it('finds the migrations from dist/, writes with a token from the built token command, reads through Prisma, and exits 0 on SIGTERM', async () => {
    expect(gateway.output()).toMatch(/"msg":"database schema is up to date"/);

    const created = await gateway.graphql(
      'mutation ($input: CreateCustomerInput!) { createCustomer(input: $input) { customer { id version } errors { __typename } } }',
      { input: { firstName: 'Ada', lastName: 'Lovelace', email: 'ada.build@example.com' } },
    );
    expect(created.body?.data?.createCustomer?.errors, created.text).toEqual([]);
    const id: string = created.body.data.createCustomer.customer.id;

    const updated = await gateway.graphql(
      `mutation ($id: ID!, $input: UpdateCustomerInput!) {
        updateCustomer(id: $id, input: $input, expectedVersion: 1) { customer { id firstName company storeCredit version } errors { __typename } }
      }`,
      { id, input: { firstName: '  Augusta ', company: 'Analytical Engines', storeCredit: '12.5' } },
    );
    expect(updated.status).toBe(200);
    expect(updated.body).toEqual({
      data: { updateCustomer: { customer: { id, firstName: 'Augusta', company: 'Analytical Engines', storeCredit: '12.5000', version: 2 }, errors: [] } },
    });
    const { rows } = await database.sql.query('SELECT version, first_name FROM customers WHERE id = $1', [id]);
    expect(rows).toEqual([{ version: 2, first_name: 'Augusta' }]);

    const page = await gateway.graphql('{ customers(first: 5, filter: { email: "ada.build@example.com" }) { edges { node { id firstName } } } }');
    expect(page.body, page.text).toEqual({ data: { customers: { edges: [{ node: { id, firstName: 'Augusta' } }] } } });

    await gateway.stop('SIGTERM');
    expect(gateway.child.exitCode, gateway.output()).toBe(0);
    expect(gateway.output()).toMatch(/"msg":"stopped"/);
  });
});

describe('node dist/main.js with OTEL_EXPORTER_OTLP_ENDPOINT set', () => {
  let receiver: OtlpReceiver;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
  });
  afterAll(() => receiver?.close());

  const traced = (protocol: string) =>
    startGateway({
      databaseUrl: database.url,
      token,
      args: ['dist/main.js'],
      env: { ...PRODUCTION, MIGRATE_ON_START: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint, ...(protocol && { OTEL_EXPORTER_OTLP_PROTOCOL: protocol }) },
    });

  it('traces each statement, ours and Prisma\'s, under its resolver in the caller\'s trace, and exports them by SIGTERM', async () => {
    const server = await traced('http/json');
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const response = await server.request('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-token': token, traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
      body: JSON.stringify({ query: '{ customer(id: "1") { id } customers(first: 1) { edges { node { id } } } }' }),
    });
    expect(response.status, response.text).toBe(200);
    await server.stop('SIGTERM');
    expect(server.child.exitCode, server.output()).toBe(0);

    const spans = receiver.trace(traceId);
    const parentOf = (name: string) => {
      const span = spans.find((each) => each.name === name);
      return span && spans.find((each) => each.spanId === span.parentSpanId)?.name;
    };
    const statementUnder = (parent: string) =>
      spans.some((span) => span.name.startsWith('pg.query') && spans.find((each) => each.spanId === span.parentSpanId)?.name === parent);
    expect(spans.find((span) => span.name === 'POST /graphql')?.parentSpanId, JSON.stringify(spans.map((span) => span.name))).toBe('00f067aa0ba902b7');
    expect(parentOf('graphql.execute')).toBe('POST /graphql');
    expect(parentOf('Query.customer')).toBe('graphql.execute');
    expect(statementUnder('Query.customer')).toBe(true);
    expect(parentOf('prisma:client:operation')).toBe('Query.customers');
    expect(statementUnder('prisma:client:operation')).toBe(true);
  });

  it('sends OTLP/HTTP protobuf unless told json', async () => {
    const server = await traced('');
    expect((await server.graphql('{ __typename }')).status).toBe(200);
    await server.stop('SIGTERM');
    expect(receiver.posts.filter((post) => post.contentType === 'application/x-protobuf').map((post) => post.path)).toContain('/v1/traces');
  });
});
