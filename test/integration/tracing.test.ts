/**
 * API.md "Federation and tracing": with tracing on, each request is an OpenTelemetry trace,
 * exported over OTLP/HTTP to a receiver written here, continuing an incoming W3C `traceparent`.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTracing, type Tracing } from '../../src/tracing.ts';
import { insertCustomer, type CustomerFixture } from '../support/customers.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlp-receiver.ts';
import { startTestServer, type TestServer } from '../support/server.ts';
import { waitFor } from '../support/wait-for.ts';

/** OTLP's SpanKind for a server span. */
const SERVER = 2;

let receiver: OtlpReceiver;
let tracing: Tracing;
let server: TestServer;
let jane: CustomerFixture;

beforeAll(async () => {
  receiver = await startOtlpReceiver();
  tracing = startTracing({ url: `${receiver.endpoint}/v1/traces`, protocol: 'http/json', serviceName: 'customer-gateway-test' });
  server = await startTestServer({ tracing: tracing.plugin });
  jane = await insertCustomer(server);
  await server.database.sql.query(`INSERT INTO customer_form_fields (customer_id, name, value) VALUES ($1, 'Shoe size', '"42"')`, [jane.id]);
});

afterAll(async () => {
  await server?.close();
  await tracing?.shutdown();
  await receiver?.close();
});

/** A W3C traceparent from a caller that is itself traced: its trace id and its span's id. */
function traceparent() {
  const traceId = randomBytes(16).toString('hex');
  const parentId = randomBytes(8).toString('hex');
  return { traceId, parentId, header: `00-${traceId}-${parentId}-01` };
}

/** The trace's spans once its HTTP span has arrived (spans are exported in batches: flush, then poll). */
async function receivedTrace(traceId: string): Promise<ReceivedSpan[]> {
  await tracing.flush();
  const spans = () => receiver.trace(traceId);
  return (await waitFor(() => spans().some((span) => span.kind === SERVER) && spans(), { what: `trace ${traceId}` })) as ReceivedSpan[];
}

/** The spans as a list, each under its parent (children by start time): name, parent's name, duration. */
function describeTrace(spans: ReceivedSpan[]): string[] {
  const ids = new Set(spans.map((span) => span.spanId));
  const byStart = [...spans].sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0));
  const lines: string[] = [];
  const visit = (span: ReceivedSpan, depth: number, parent: string) => {
    lines.push(`${'  '.repeat(depth)}${span.name}  (parent: ${parent}, ${(Number(span.endNs - span.startNs) / 1e6).toFixed(2)} ms)`);
    for (const child of byStart.filter((each) => each.parentSpanId === span.spanId)) visit(child, depth + 1, span.name);
  };
  for (const root of byStart.filter((span) => !span.parentSpanId || !ids.has(span.parentSpanId))) {
    visit(root, 0, root.parentSpanId ? `the caller's span ${root.parentSpanId}` : 'none');
  }
  return lines;
}

/** A span's chain of parents' names, from the span up to the trace's root. */
function ancestry(spans: ReceivedSpan[], span: ReceivedSpan): string[] {
  const byId = new Map(spans.map((each) => [each.spanId, each]));
  const names = [span.name];
  for (let at = span.parentSpanId && byId.get(span.parentSpanId); at; at = at.parentSpanId && byId.get(at.parentSpanId)) names.push(at.name);
  return names;
}

const PROFILE = 'query Profile($id: ID!) { customer(id: $id) { email formFields { name value } } }';

describe('with tracing on, a request', () => {
  it('continues the caller\'s trace: HTTP > GraphQL execute > resolver > each database statement, by our SQL and by Prisma', async () => {
    const caller = traceparent();
    const response = await server.graphql(PROFILE, { id: jane.id }, { token: server.tokens.read, headers: { traceparent: caller.header } });
    expect(response.status).toBe(200);
    expect(response.body.data!.customer.formFields).toContainEqual({ name: 'Shoe size', value: '42' });

    const spans = await receivedTrace(caller.traceId);
    console.log(`trace ${caller.traceId}, continued from the caller's span ${caller.parentId}:\n${describeTrace(spans).join('\n')}`);
    expect(new Set(spans.map((span) => span.traceId))).toEqual(new Set([caller.traceId]));
    expect(new Set(spans.map((span) => span.service))).toEqual(new Set(['customer-gateway-test']));

    // the request's span is the child of the caller's, and the only span without a parent here
    const http = spans.filter((span) => span.kind === SERVER);
    expect(http.map((span) => [span.name, span.parentSpanId])).toEqual([['POST /graphql', caller.parentId]]);
    expect(http[0]!.attributes).toMatchObject({ 'http.request.method': 'POST', 'url.path': '/graphql', 'http.response.status_code': 200 });
    expect(spans.filter((span) => !spans.some((other) => other.spanId === span.parentSpanId)).map((span) => span.name)).toEqual(['POST /graphql']);

    const named = (name: string) => spans.filter((span) => span.name === name);
    for (const phase of ['graphql.parse', 'graphql.validate', 'graphql.execute']) expect(named(phase).map((span) => ancestry(spans, span))).toEqual([[phase, 'POST /graphql']]);
    expect(named('graphql.execute')[0]!.attributes).toMatchObject({ 'graphql.operation.type': 'query', 'graphql.operation.name': 'Profile' });

    // customer(id) reads with our own prepared statement (sql.ts)...
    const read = spans.filter((span) => String(span.attributes['db.statement']).includes('FROM customers WHERE id = $1'));
    expect(read.map((span) => ancestry(spans, span))).toEqual([[read[0]!.name, 'Query.customer', 'graphql.execute', 'POST /graphql']]);
    expect(read[0]!.attributes).toMatchObject({ 'db.system': 'postgresql' });
    // ...and formFields through Prisma: its operation, then its statements
    const formFields = spans.filter((span) => String(span.attributes['db.statement']).includes('"customer_form_fields"'));
    expect(formFields.map((span) => ancestry(spans, span))).toEqual([
      [formFields[0]!.name, 'prisma:client:operation', 'Customer.formFields', 'Query.customer', 'graphql.execute', 'POST /graphql'],
    ]);
    // the token lookup, before any GraphQL phase, belongs to the request too
    expect(spans.some((span) => String(span.attributes['db.statement']).includes('FROM api_tokens') && ancestry(spans, span)[1] === 'POST /graphql')).toBe(true);
    // every span ended within the request's
    for (const span of spans) expect(span.endNs <= http[0]!.endNs || span.name.includes('token_touch'), span.name).toBe(true);
  });

  it('without a traceparent starts a trace of its own', async () => {
    const response = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-token': server.tokens.read, 'x-request-id': 'untraced-caller' },
      body: JSON.stringify({ query: PROFILE, variables: { id: jane.id } }),
    });
    expect(response.status).toBe(200);
    await tracing.flush();
    const root = (await waitFor(() => receiver.spans.find((span) => span.kind === SERVER && !span.parentSpanId), { what: 'a root HTTP span' }))!;
    expect(receiver.trace(root.traceId).map((span) => span.name)).toEqual(expect.arrayContaining(['POST /graphql', 'graphql.execute', 'Query.customer']));
  });

  it('puts no variable, argument or token into its spans, and marks a refusal without calling it a server error', async () => {
    const caller = traceparent();
    const password = 'Secret-Trace-Pass-9';
    const response = await server.graphql(
      'mutation Change($id: ID!, $input: UpdateCustomerInput!) { updateCustomer(id: $id, input: $input) { customer { version } errors { __typename } } }',
      { id: jane.id, input: { company: 'Traced Ltd', authentication: { password, passwordConfirmation: password } } },
      { token: server.tokens.write, headers: { traceparent: caller.header } },
    );
    expect(response.body.data!.updateCustomer.errors).toEqual([]);
    const spans = await receivedTrace(caller.traceId);
    const everything = JSON.stringify(spans.map((span) => span.attributes));
    for (const secret of [password, 'Traced Ltd', server.tokens.write]) expect(everything).not.toContain(secret);
    const write = spans.filter((span) => String(span.attributes['db.statement']).startsWith('WITH') || String(span.attributes['db.statement']).includes('UPDATE customers'));
    expect(write.length).toBeGreaterThan(0);
    expect(ancestry(spans, write[0]!).slice(1)).toEqual(expect.arrayContaining(['Mutation.updateCustomer', 'graphql.execute', 'POST /graphql']));

    const refused = traceparent();
    const forbidden = await server.graphql('mutation { deleteWebhookEndpoint(id: "1") { deletedId } }', undefined, { token: server.tokens.read, headers: { traceparent: refused.header } });
    expect(forbidden.status).toBe(403);
    const [http] = (await receivedTrace(refused.traceId)).filter((span) => span.kind === SERVER);
    expect(http!.attributes['http.response.status_code']).toBe(403);
  });

  it('traces no statement outside a request: probes and the process\'s own work make no spans', async () => {
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    await tracing.flush();
    expect(receiver.spans.filter((span) => span.name.startsWith('pg.') && !span.parentSpanId)).toEqual([]);
    expect(receiver.spans.filter((span) => span.attributes['url.path'] === '/readyz')).toEqual([]);
  });
});
