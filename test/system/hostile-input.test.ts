/**
 * Bad input at scale: thousands of random, malformed and hostile requests (wrong types, huge
 * strings, lone surrogates, RTL and zero-width characters, NUL, injection strings, deep nesting,
 * unknown fields, invalid JSON, wrong content types, bad tokens) over HTTP to a real gateway
 * process. None may get a 5xx or bring the process down, none that reports an error may change
 * the database, and each that succeeds must have written exactly what it sent.
 */
import { isIP } from 'node:net';
import { Decimal } from 'decimal.js';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../../src/domain/tokens.ts';
import { historyProblems } from '../support/consistency.ts';
import { createTestDatabase, type TestDatabase } from '../support/database.ts';
import { startGateway, stopGateways, type GatewayProcess, type HttpResult } from '../support/processes.ts';

const BATCHES = 250;
const BATCH_SIZE = 8;
const CUSTOMERS = 2 * BATCH_SIZE;

let database: TestDatabase;
let gateway: GatewayProcess;
let tokens: { write: string; read: string };
let customerIds: number[];

beforeAll(async () => {
  database = await createTestDatabase({ poolSize: 2 });
  tokens = {
    write: (await createToken(database.db, 'hostile-writer', ['customers:write'])).secret,
    read: (await createToken(database.db, 'hostile-reader', ['customers:read'])).secret,
  };
  const { rows } = await database.sql.query<{ id: number }>(
    `WITH made AS (
       INSERT INTO customers (first_name, last_name, email, password_hash, notes, store_credit, company)
       SELECT 'Target', 'Customer ' || n, 'target.' || n || '@example.com', 'not-a-real-hash', 'initial', 10, 'Acme'
       FROM generate_series(1, $1) AS n RETURNING id)
     INSERT INTO customer_changes (customer_id, version, actor, changes)
     SELECT id, 1, 'seed', '[]' FROM made RETURNING customer_id AS id`,
    [CUSTOMERS],
  );
  customerIds = rows.map((row) => row.id).sort((a, b) => a - b);
  gateway = await startGateway({ databaseUrl: database.url, token: tokens.write });
});

afterAll(async () => {
  await stopGateways();
  await database?.close();
});

// ---------------------------------------------------------------------------------------------
// What is sent

const INJECTIONS = [
  "' OR '1'='1",
  "'; DROP TABLE customers; --",
  "1; UPDATE customers SET version = 999 --",
  "\\'; SELECT pg_sleep(5); --",
  "$$; DELETE FROM customer_changes; $$",
  '{"$gt": ""}',
  '{"$where": "sleep(1000)"}',
  '[$ne]=1',
  '__proto__',
  'constructor.prototype.polluted',
  '} } mutation { updateCustomer(id: "1", input: {notes: "owned"}) { errors { code } } }',
  '") { id } } query { customers { edges { node { email } } } } #',
  '${jndi:ldap://127.0.0.1/a}',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  '%00%27%22',
  '{{7*7}}',
];

const UNICODE = [
  '\u202Eevil\u202C', // right-to-left override
  '\u05E9\u05DC\u05D5\u05DD', // Hebrew
  'a\u200Bb\u200Cc\u200Dd\uFEFF', // zero-width characters
  'nul\u0000byte',
  '\uD800', // lone high surrogate
  '\uDFFF', // lone low surrogate
  'x\uDBFFy',
  '\uD83D\uDE00', // a real pair (an emoji)
  'e\u0301\u0301\u0301', // combining marks
  '\u3000\u2003 wide spaces \u00A0',
  '\t\r\n',
  '\u0085\u2028\u2029',
  'Ω≈ç√∫',
];

const hugeString = fc.constantFrom(
  'x'.repeat(101),
  'y'.repeat(256),
  'z'.repeat(65_536),
  '\uD83D\uDE00'.repeat(30_000),
  ' '.repeat(1_000) + 'padded' + ' '.repeat(1_000),
);

const loneSurrogates = fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)), minLength: 1, maxLength: 4 });

const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.constantFrom(...INJECTIONS) },
  { weight: 2, arbitrary: fc.constantFrom(...UNICODE) },
  { weight: 1, arbitrary: loneSurrogates },
  { weight: 1, arbitrary: hugeString },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '   ', '\u200B') },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...UNICODE, ...INJECTIONS), fc.string({ maxLength: 10 })).map(([a, b]) => a + b) },
);

/** Any JSON value, deeply nested at times. */
const junk: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 2, arbitrary: fc.oneof(fc.integer(), fc.double(), fc.constantFrom(2 ** 31, -(2 ** 31) - 1, 2 ** 53 + 1, 1e308, -0, 0.1)) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
  { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 3_000 }).map((depth) => new Nested(depth)) },
);

/** Objects and arrays nested `depth` deep, built only when sent (fast-check prints it short). */
class Nested {
  constructor(readonly depth: number) {}
  toJSON(): unknown {
    let value: unknown = 'bottom';
    for (let level = 0; level < this.depth; level++) value = level % 2 ? [value] : { a: value };
    return value;
  }
  [fc.toStringMethod](): string {
    return `nested(${this.depth})`;
  }
}

const FIELDS = ['firstName', 'lastName', 'email', 'company', 'phone', 'notes', 'storeCredit', 'registrationIpAddress', 'customerGroupId', 'taxExemptCategory', 'resetPassOnLogin'] as const;
const UNKNOWN_FIELDS = ['id', 'version', 'passwordHash', 'password_hash', 'dateCreated', '__proto__', 'constructor', '$where', 'formFields', 'acceptsProductReviewAbandonedCartEmails', ''];

/** Input objects of any shape: known fields with any value, unknown fields, a junk authentication. */
const junkInput = fc.dictionary(fc.oneof(fc.constantFrom(...FIELDS, 'authentication'), fc.constantFrom(...UNKNOWN_FIELDS), fc.string({ maxLength: 8 })), junk, { maxKeys: 6 });

/** Plausible text: what a real client might send, hostile content included, mostly within limits. */
const plausibleText = fc.oneof(
  fc.string({ minLength: 1, maxLength: 30 }),
  fc.constantFrom(...INJECTIONS, ...UNICODE),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
  fc.constant(null),
  fc.constantFrom('  spaced  ', ''),
);

const plausibleValues = fc.record(
  {
    firstName: plausibleText,
    lastName: plausibleText,
    email: fc.oneof(fc.emailAddress(), fc.constantFrom('UPPER.case@Example.COM', ' padded@example.com ', 'not-an-email', "o'brien@example.com", 'x@y')),
    company: plausibleText,
    phone: plausibleText,
    notes: fc.oneof(plausibleText, hugeString),
    storeCredit: fc.oneof(
      fc.integer({ min: -5, max: 1_000_000 }),
      fc.double({ min: 0, max: 1e6, noNaN: true }),
      fc.constantFrom('12.5', '0', '0.0001', '1e3', '12.34567', '-1', 'NaN', 'Infinity', ' 7.25 ', '99999999999999999.9999', '１２'),
    ),
    registrationIpAddress: fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom('999.1.1.1', '::ffff:127.0.0.1', ' 10.0.0.1 ', 'localhost'), fc.constant(null)),
    customerGroupId: fc.oneof(fc.integer({ min: -1, max: 100 }), fc.constant(null), fc.constant(2 ** 31 - 1)),
    taxExemptCategory: plausibleText,
    resetPassOnLogin: fc.oneof(fc.boolean(), fc.constant(null)),
    authentication: fc.oneof(
      fc.record({ password: fc.constantFrom('short', 'password123', 'x'.repeat(200), 'nul\u0000Pass-1234', 'Blue-Harbor-1987'), passwordConfirmation: fc.constantFrom('Blue-Harbor-1987', 'other') }, { requiredKeys: ['password'] }),
      fc.record({ forceReset: fc.boolean() }),
    ),
  },
  { requiredKeys: [] },
);

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Text the rules accept, hostile in content only: RTL, zero-width, emoji, injection strings. */
const acceptedText = fc.oneof(
  fc.constantFrom(...INJECTIONS, ...UNICODE.filter((text) => !text.includes('\u0000') && text.replace(LONE_SURROGATE, '') === text && text.trim() !== '')),
  fc.string({ minLength: 1, maxLength: 40 }).filter((text) => text.trim() !== '' && !text.includes('\u0000')),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).filter((text) => text.trim() !== '' && !text.includes('\u0000')),
);

/** Updates that mostly pass validation, so that the checks on successful writes get exercised. */
const acceptedValues = fc.record(
  {
    firstName: acceptedText,
    lastName: acceptedText,
    company: fc.oneof(acceptedText, fc.constant(null)),
    phone: fc.oneof(acceptedText, fc.constant(null)),
    notes: fc.oneof(acceptedText, fc.constant(null), fc.constant('\u202E'.repeat(1_000))),
    storeCredit: fc.oneof(fc.integer({ min: 0, max: 1_000_000 }), fc.integer({ min: 0, max: 100_000_000 }).map((cents) => cents / 100), fc.constantFrom('12.5', '0', '0.0001', ' 7.25 ')),
    registrationIpAddress: fc.oneof(fc.ipV4(), fc.ipV6(), fc.constant(null)),
    customerGroupId: fc.oneof(fc.integer({ min: 0, max: 100 }), fc.constant(null)),
    taxExemptCategory: fc.oneof(acceptedText, fc.constant(null)),
    resetPassOnLogin: fc.boolean(),
  },
  { requiredKeys: [] },
);

const hostileId = fc.oneof(
  fc.constantFrom('0', '-1', '2147483648', '99999999999', '1.0', '1e1', ' 1', '0x1', '', 'null', ...INJECTIONS),
  hostileString,
  fc.integer(),
  fc.constant(null),
  junk,
);

type Request =
  | { kind: 'update'; target: 'slot' | { id: unknown }; input: unknown; expectedVersion?: unknown; idempotencyKey?: unknown; token: TokenChoice }
  | { kind: 'create'; input: unknown; uniqueEmail: boolean; idempotencyKey?: unknown; token: TokenChoice }
  | { kind: 'document'; query: string; token: TokenChoice }
  | { kind: 'raw'; method: 'POST' | 'GET'; body?: string; contentType?: string; search?: string; token: TokenChoice };

type TokenChoice = 'write' | 'read' | 'none' | { bogus: string };

const tokenChoice: fc.Arbitrary<TokenChoice> = fc.oneof(
  { weight: 20, arbitrary: fc.constant('write' as const) },
  { weight: 1, arbitrary: fc.constant('read' as const) },
  { weight: 1, arbitrary: fc.constant('none' as const) },
  // Header values are bytes: printable Latin-1 only.
  { weight: 1, arbitrary: fc.oneof(fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 60 }), fc.constantFrom("cgw_' OR 1=1 --", 'cgw_', 'Bearer')).map((bogus) => ({ bogus })) },
);

const optionalKey = fc.option(fc.oneof(fc.string({ minLength: 1, maxLength: 20 }), hostileString, junk), { nil: undefined, freq: 3 });
const optionalVersion = fc.option(fc.oneof(fc.integer({ min: -1, max: 5 }), junk), { nil: undefined, freq: 2 });

const updateRequest: fc.Arbitrary<Request> = fc.record({
  kind: fc.constant('update' as const),
  target: fc.oneof({ weight: 3, arbitrary: fc.constant('slot' as const) }, { weight: 1, arbitrary: hostileId.map((id) => ({ id })) }),
  input: fc.oneof(
    { weight: 3, arbitrary: acceptedValues },
    { weight: 2, arbitrary: plausibleValues },
    { weight: 2, arbitrary: junkInput },
    { weight: 1, arbitrary: junk },
  ),
  expectedVersion: optionalVersion,
  idempotencyKey: optionalKey,
  token: tokenChoice,
});

const createRequest: fc.Arbitrary<Request> = fc.record({
  kind: fc.constant('create' as const),
  input: fc.oneof(
    { weight: 3, arbitrary: acceptedValues.map((values) => ({ firstName: 'New', lastName: 'Customer', email: 'new@example.com', ...values })) },
    { weight: 2, arbitrary: plausibleValues.map((values) => ({ firstName: 'New', lastName: 'Customer', email: 'new@example.com', ...values })) },
    { weight: 1, arbitrary: junkInput },
    { weight: 1, arbitrary: junk },
  ),
  uniqueEmail: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
  idempotencyKey: optionalKey,
  token: tokenChoice,
});

const PAYLOAD_SELECTION = 'customer { id version } errors { __typename ... on Error { code path } }';

/** GraphQL documents written by hand, with hostile text spliced in escaped or raw. */
const documentRequest: fc.Arbitrary<Request> = fc.record({
  kind: fc.constant('document' as const),
  query: fc.oneof(
    fc.tuple(hostileString, fc.boolean()).map(
      ([text, raw]) => `mutation { updateCustomer(id: "1", input: { notes: ${raw ? `"${text}"` : JSON.stringify(text)} }) { ${PAYLOAD_SELECTION} } }`,
    ),
    fc.tuple(hostileString, fc.constantFrom(...UNKNOWN_FIELDS)).map(
      ([text, field]) => `mutation { createCustomer(input: { firstName: "A", lastName: "B", email: "a@b.co", ${field || 'x'}: ${JSON.stringify(text)} }) { ${PAYLOAD_SELECTION} } }`,
    ),
    fc.constantFrom(
      `mutation { updateCustomer(id: 1, input: { notes: 5 }) { ${PAYLOAD_SELECTION} } }`,
      `mutation { updateCustomer(id: "1", input: { storeCredit: "1e3" }) { ${PAYLOAD_SELECTION} } }`,
      `mutation { updateCustomer(id: "1", input: {}) { ${PAYLOAD_SELECTION} } updateCustomer(id: "2", input: {}) { customer { id } } }`,
      `mutation { a: updateCustomer(id: "1", input: { notes: "a" }) { ${PAYLOAD_SELECTION} } b: updateCustomer(id: "1", input: { notes: "b" }) { ${PAYLOAD_SELECTION} } }`,
      '{ customer(id: "1") { id ...F } } fragment F on Customer { ...F }',
      'query { __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } } } }',
      `mutation { updateCustomer(id: "1", input: { notes: "x" }) @skip(if: true) @skip(if: true) { ${PAYLOAD_SELECTION} } }`,
      'subscription { customer(id: "1") { id } }',
      `mutation ($i: UpdateCustomerInput!) { updateCustomer(id: "1", input: $i) { ${PAYLOAD_SELECTION} } }`,
      '',
      '#',
      '{',
      'query { customer(id: "1") { id } } query { customer(id: "2") { id } }',
      `mutation { updateCustomer(id: "1", input: { notes: """block\\u0000""" }) { ${PAYLOAD_SELECTION} } }`,
      `{ ${'a: __typename '.repeat(200)} }`,
      `{ customers(first: 2147483647) { edges { node { id } } } }`,
      `{ customers(first: -1) { edges { node { id } } } }`,
      `{ customers(after: "' OR 1=1 --") { edges { node { id } } } }`,
    ),
    fc.integer({ min: 50, max: 20_000 }).map((depth) => `{ customer(id: ${'['.repeat(depth)}1${']'.repeat(depth)}) { id } }`),
    fc.integer({ min: 50, max: 5_000 }).map((depth) => `{ ${'customer(id: "1") { '.repeat(depth)}id${' }'.repeat(depth)} }`),
    fc.integer({ min: 50, max: 3_000 }).map((depth) => `mutation { updateCustomer(id: "1", input: ${'{ notes: '.repeat(depth)}"x"${' }'.repeat(depth)}) { ${PAYLOAD_SELECTION} } }`),
  ),
  token: tokenChoice,
});

const CONTENT_TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=utf-16',
  'application/json; charset=bogus',
  'application/graphql-response+json',
  'application/graphql',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'multipart/form-data; boundary=xyz',
  'application/xml',
  'application/octet-stream',
  '',
];

const rawBody = fc.oneof(
  fc.constantFrom(
    '',
    '{',
    '{"query":',
    'null',
    '[]',
    '[{"query":"{ __typename }"},{"query":"{ __typename }"}]',
    '123',
    '"mutation { updateCustomer(id: \\"1\\", input: {notes: \\"x\\"}) { customer { id } } }"',
    '{"query": 123}',
    '{"query": null}',
    '{"query": ["{ __typename }"]}',
    '{"query": "{ __typename }", "variables": "not an object"}',
    '{"query": "{ __typename }", "variables": [1, 2]}',
    '{"query": "{ __typename }", "extensions": "x"}',
    '{"query": "{ __typename }", "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "\' OR 1=1"}}}',
    '{"query": "{ __typename }", "operationName": {}}',
    '{"query": "mutation M { updateCustomer(id: \\"1\\", input: {notes: \\"x\\"}) { customer { id } } }", "operationName": "Other"}',
    '{"query": "{ __typename }", "query": "mutation { updateCustomer(id: \\"1\\", input: {notes: \\"dup\\"}) { customer { id version } errors { __typename } } }"}',
    '\uFEFF{"query": "{ __typename }"}',
    '{"query": "{ __typename }"}garbage',
    '{"query": "\\ud800"}',
    '{"__proto__": {"polluted": true}, "query": "{ __typename }"}',
    'query=%7B__typename%7D',
    '--xyz\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{"query":"{ __typename }"}\r\n--xyz--',
    '<?xml version="1.0"?><query>{ __typename }</query>',
    '{"query": "' + 'x'.repeat(100_500) + '"}',
  ),
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes).toString('latin1')),
  fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value)),
  fc.integer({ min: 1_000, max: 40_000 }).map((depth) => `{"query":"{ __typename }","variables":{"a":${'['.repeat(depth)}${']'.repeat(depth)}}}`),
);

const rawRequest: fc.Arbitrary<Request> = fc.oneof(
  fc.record({
    kind: fc.constant('raw' as const),
    method: fc.constant('POST' as const),
    body: rawBody,
    contentType: fc.constantFrom(...CONTENT_TYPES),
    token: tokenChoice,
  }),
  fc.record({
    kind: fc.constant('raw' as const),
    method: fc.constant('GET' as const),
    search: fc.oneof(
      fc.constantFrom(
        '?query=mutation%20%7B%20updateCustomer(id%3A%20%221%22%2C%20input%3A%20%7Bnotes%3A%20%22get%22%7D)%20%7B%20customer%20%7B%20id%20%7D%20%7D%20%7D',
        '?query=%7B__typename%7D&variables=not-json',
        '?query=%7B__typename%7D&extensions=%7B',
        '?query[]=a&query[]=b',
        '?query=%00',
        '?%ZZ',
        '?query=%ED%A0%80',
        '?query=%7B__typename%7D&variables=%FF%FE',
        '',
      ),
      // A lone surrogate cannot be percent-encoded: it is sent well-formed here, and as invalid
      // UTF-8 bytes above.
      hostileString.map((text) => `?query=${encodeURIComponent(text.replace(LONE_SURROGATE, '\uFFFD'))}`),
    ),
    token: tokenChoice,
  }),
);

const request: fc.Arbitrary<Request> = fc.oneof(
  { weight: 5, arbitrary: updateRequest },
  { weight: 2, arbitrary: createRequest },
  { weight: 2, arbitrary: documentRequest },
  { weight: 3, arbitrary: rawRequest },
);

// ---------------------------------------------------------------------------------------------
// Sending and judging

const RESPONSE_FIELDS =
  'id firstName lastName email company phone notes storeCredit registrationIpAddress customerGroupId taxExemptCategory resetPassOnLogin version';
const UPDATE = `mutation Update($id: ID!, $input: UpdateCustomerInput!, $expectedVersion: Int, $idempotencyKey: String) {
  updateCustomer(id: $id, input: $input, expectedVersion: $expectedVersion, idempotencyKey: $idempotencyKey) {
    customer { ${RESPONSE_FIELDS} } errors { __typename ... on Error { code path } } } }`;
const CREATE = `mutation Create($input: CreateCustomerInput!, $idempotencyKey: String) {
  createCustomer(input: $input, idempotencyKey: $idempotencyKey) {
    customer { ${RESPONSE_FIELDS} } errors { __typename ... on Error { code path } } } }`;

interface Sent {
  request: Request;
  /** The variables as sent, for update and create requests. */
  variables?: Record<string, unknown>;
  result: HttpResult;
}

let uniqueSequence = 0;

function headersFor(token: TokenChoice, contentType: string | undefined): Record<string, string> {
  const headers: Record<string, string> = { accept: 'application/graphql-response+json, application/json' };
  if (contentType) headers['content-type'] = contentType;
  if (token === 'write') headers['x-auth-token'] = tokens.write;
  else if (token === 'read') headers['authorization'] = `Bearer ${tokens.read}`;
  else if (token !== 'none') headers['x-auth-token'] = token.bogus;
  return headers;
}

async function send(request: Request, slot: number): Promise<Sent> {
  const post = (body: string, contentType = 'application/json') =>
    gateway.request('/graphql', { method: 'POST', headers: headersFor(request.token, contentType), body, timeoutMs: 15_000 });
  switch (request.kind) {
    case 'update': {
      const id = request.target === 'slot' ? String(customerIds[slot]) : request.target.id;
      const variables = { id, input: request.input, expectedVersion: request.expectedVersion, idempotencyKey: request.idempotencyKey };
      return { request, variables, result: await post(JSON.stringify({ query: UPDATE, variables })) };
    }
    case 'create': {
      let input = request.input;
      // A fresh address most of the time, so that creations can succeed.
      if (request.uniqueEmail && input && typeof input === 'object' && !Array.isArray(input)) {
        input = { ...input, email: `u${process.pid}.${++uniqueSequence}.${Date.now()}@example.com` };
      }
      const variables = { input, idempotencyKey: request.idempotencyKey };
      return { request, variables, result: await post(JSON.stringify({ query: CREATE, variables })) };
    }
    case 'document':
      return { request, result: await post(JSON.stringify({ query: request.query })) };
    case 'raw':
      if (request.method === 'GET') {
        return {
          request,
          result: await gateway.request(`/graphql${request.search ?? ''}`, {
            headers: { ...headersFor(request.token, undefined), 'x-graphql-yoga-csrf': '1' },
            timeoutMs: 15_000,
          }),
        };
      }
      return { request, result: await post(request.body ?? '', request.contentType) };
  }
}

interface Success {
  sent: Sent;
  customer: Record<string, any>;
  /** The input sent, when the request was built from variables (the customer then has every field). */
  input?: Record<string, any>;
}

/**
 * Every write the response says succeeded: a payload with a customer and no errors, wherever it
 * is in `data` (a hand-written document may alias several mutations).
 */
function successesOf(sent: Sent): Success[] {
  const data = sent.result.status === 200 ? sent.result.body?.data : undefined;
  if (!data || typeof data !== 'object') return [];
  const fromVariables = sent.request.kind === 'update' || sent.request.kind === 'create';
  return Object.values(data as Record<string, any>).flatMap((payload) =>
    payload?.customer && Array.isArray(payload.errors) && payload.errors.length === 0
      ? [{ sent, customer: payload.customer, input: fromVariables ? (sent.variables!.input as Record<string, any>) : undefined }]
      : [],
  );
}

/** A short, printable picture of a value: long strings cut, deep nesting elided. */
function preview(value: unknown, depth = 0): unknown {
  if (value instanceof Nested) return `nested(${value.depth})`;
  if (typeof value === 'string') return value.length > 300 ? `${value.slice(0, 300)}...(${value.length} characters)` : value;
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8) return '...';
  if (Array.isArray(value)) return value.slice(0, 20).map((item) => preview(item, depth + 1));
  return Object.fromEntries(Object.entries(value).slice(0, 20).map(([key, item]) => [key, preview(item, depth + 1)]));
}

function describeSent(sent: Sent): string {
  return `${JSON.stringify(preview(sent.request))}\n=> ${sent.result.status} ${sent.result.failure ?? sent.result.text.slice(0, 500)}`;
}

const TEXT_FIELDS = ['firstName', 'lastName', 'company', 'phone', 'notes', 'taxExemptCategory'] as const;

/** Whether the stored customer (as the API showed it) is what the input asked for, field by field. */
function mismatches(input: Record<string, any>, customer: Record<string, any>): string[] {
  const problems: string[] = [];
  const differ = (field: string, expected: unknown) => {
    if (customer[field] !== expected) problems.push(`${field}: sent ${JSON.stringify(input[field])}, stored ${JSON.stringify(customer[field])}`);
  };
  for (const field of TEXT_FIELDS) {
    if (!(field in input)) continue;
    const given = input[field];
    differ(field, given === null || given.trim() === '' ? null : given.trim());
  }
  if ('email' in input && customer.email.toLowerCase() !== input.email.trim().toLowerCase()) problems.push(`email: sent ${input.email}, stored ${customer.email}`);
  if ('storeCredit' in input && !new Decimal(customer.storeCredit).equals(new Decimal(String(input.storeCredit).trim()))) {
    problems.push(`storeCredit: sent ${input.storeCredit}, stored ${customer.storeCredit}`);
  }
  if ('registrationIpAddress' in input) {
    const given = input.registrationIpAddress;
    const expected = given === null || given.trim() === '' ? null : given.trim().toLowerCase();
    if ((customer.registrationIpAddress?.toLowerCase() ?? null) !== expected || (expected !== null && !isIP(customer.registrationIpAddress))) {
      problems.push(`registrationIpAddress: sent ${given}, stored ${customer.registrationIpAddress}`);
    }
  }
  if ('customerGroupId' in input) differ('customerGroupId', input.customerGroupId);
  if (input.authentication?.forceReset === true) differ('resetPassOnLogin', true);
  else if ('resetPassOnLogin' in input && input.authentication?.forceReset === undefined) differ('resetPassOnLogin', input.resetPassOnLogin);
  return problems;
}

interface Snapshot {
  rows: Map<number, { version: number; hash: string }>;
  lastChangeId: string;
  idempotencyKeys: number;
}

async function snapshot(): Promise<Snapshot> {
  const { rows } = await database.sql.query<{ id: number; version: number; hash: string }>('SELECT id, version, md5(c::text) AS hash FROM customers c');
  const { rows: [last] } = await database.sql.query<{ id: string }>('SELECT coalesce(max(id), 0)::text AS id FROM customer_changes');
  const { rows: [keys] } = await database.sql.query<{ n: number }>('SELECT count(*)::int AS n FROM idempotency_keys');
  return { rows: new Map(rows.map((row) => [row.id, { version: row.version, hash: row.hash }])), lastChangeId: last!.id, idempotencyKeys: keys!.n };
}

const API_ROW = `SELECT id::text AS id, first_name AS "firstName", last_name AS "lastName", email, company, phone, notes,
  store_credit::text AS "storeCredit", registration_ip_address AS "registrationIpAddress",
  customer_group_id AS "customerGroupId", tax_exempt_category AS "taxExemptCategory", reset_pass_on_login AS "resetPassOnLogin", version
  FROM customers WHERE id = ANY($1::int[])`;

describe('thousands of malformed and hostile requests', () => {
  it('never get a 5xx, never stop the server, never change the database when they report an error, and write exactly what succeeds', async () => {
    const counts = { requests: 0, succeeded: 0, refused: 0, statuses: {} as Record<number, number>, writes: 0, creates: 0 };
    const started = performance.now();

    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: BATCH_SIZE, maxLength: BATCH_SIZE }), async (batch) => {
        const before = await snapshot();
        // Each request aimed at "a customer" gets a different one, so two successes in one
        // batch never overwrite each other; ids sent as they are may still hit any customer.
        const offset = counts.requests % CUSTOMERS >= BATCH_SIZE ? BATCH_SIZE : 0;
        const sent = await Promise.all(batch.map((one, index) => send(one, (offset + index) % CUSTOMERS)));
        counts.requests += sent.length;

        for (const one of sent) {
          counts.statuses[one.result.status] = (counts.statuses[one.result.status] ?? 0) + 1;
          expect(one.result.failure, describeSent(one)).toBeUndefined();
          expect(one.result.status, describeSent(one)).toBeGreaterThanOrEqual(200);
          expect(one.result.status, describeSent(one)).toBeLessThan(500);
          expect(one.result.text, describeSent(one)).not.toMatch(/INTERNAL_SERVER_ERROR|Unexpected error|"stack"|"originalError":\{[^}]*"message"|node_modules|at .*\.(js|ts):\d+/);
        }
        expect(gateway.alive(), gateway.output().slice(-3_000)).toBe(true);

        // What changed in the database must be exactly what the successful writes reported.
        const after = await snapshot();
        const { rows: newChanges } = await database.sql.query<{ customer_id: number; version: number; changes: Array<{ field: string; to: unknown }> }>(
          'SELECT customer_id, version, changes FROM customer_changes WHERE id > $1',
          [before.lastChangeId],
        );
        const successes = sent.flatMap(successesOf);
        counts.succeeded += successes.length;
        counts.refused += sent.filter((one) => successesOf(one).length === 0).length;
        const expectedChanges = new Set<string>();
        /** Customers written in this batch, and the newest write to each that showed every field. */
        const written = new Set<number>();
        const newest = new Map<number, Success>();
        for (const success of successes) {
          const { customer } = success;
          const id = Number(customer.id);
          const previous = before.rows.get(id);
          if (!previous) expect(customer.version, describeSent(success.sent)).toBe(1);
          // A success that wrote nothing (nothing changed, or a replayed idempotent response)
          // adds no change; one that wrote adds exactly one.
          if (previous && customer.version <= previous.version) continue;
          expectedChanges.add(`${id}/${customer.version}`);
          written.add(id);
          if (!success.input) continue;
          expect(mismatches(success.input, customer), describeSent(success.sent)).toEqual([]);
          if ((newest.get(id)?.customer.version ?? 0) < customer.version) newest.set(id, success);
          const recorded = newChanges.find((row) => row.customer_id === id && row.version === customer.version);
          for (const change of recorded?.changes ?? []) {
            if (change.field !== 'password' && change.field !== 'storeCredit') {
              expect(change.to, `${change.field} in history\n${describeSent(success.sent)}`).toBe(customer[change.field]);
            }
          }
        }
        counts.writes += expectedChanges.size;
        counts.creates += [...expectedChanges].filter((key) => !before.rows.has(Number(key.split('/')[0]))).length;
        expect(new Set(newChanges.map((row) => `${row.customer_id}/${row.version}`)), sent.map(describeSent).join('\n\n')).toEqual(expectedChanges);
        expect(after.idempotencyKeys - before.idempotencyKeys).toBeLessThanOrEqual(
          successes.filter((success) => success.sent.variables?.idempotencyKey != null).length,
        );
        for (const [id, row] of after.rows) {
          if (written.has(id)) continue;
          expect(before.rows.get(id), `customer ${id} changed though no request writing it succeeded\n${sent.map(describeSent).join('\n\n')}`).toEqual(row);
        }
        // The newest success on each customer is what is stored now.
        if (newest.size > 0) {
          const { rows } = await database.sql.query(API_ROW, [[...newest.keys()]]);
          for (const row of rows) {
            const { customer, sent: one } = newest.get(Number(row.id))!;
            // Unless a later write without every field shown (a hand-written document) came after it.
            if (row.version !== customer.version) continue;
            expect({ ...row, storeCredit: new Decimal(row.storeCredit).toFixed(4) }, describeSent(one)).toEqual(customer);
          }
        }
      }),
      { numRuns: BATCHES, endOnFailure: true },
    );

    const health = await gateway.request('/healthz');
    const problems = await historyProblems(database.sql);
    const ms = performance.now() - started;
    console.log(
      `[hostile-input] ${counts.requests} requests in ${BATCHES} batches of ${BATCH_SIZE}: ${counts.refused} answered with errors only, ${counts.succeeded} succeeded ` +
        `(${counts.writes} changed something, ${counts.creates} of them creations, all matching their input); statuses ${JSON.stringify(counts.statuses)}; ` +
        `5xx ${Object.entries(counts.statuses).filter(([status]) => Number(status) >= 500).length}, process alive ${gateway.alive()}, ` +
        `history problems ${problems.length} (${Math.round(ms)} ms)`,
    );
    expect(health.status).toBe(200);
    expect(gateway.alive()).toBe(true);
    expect(problems).toEqual([]);
    expect(counts.requests).toBe(BATCHES * BATCH_SIZE);
    // Enough got through to show that the checks on successes ran.
    expect(counts.writes).toBeGreaterThan(20);
  }, 60_000);
});

describe('request parameters that are not valid JSON', () => {
  it('are answered 400 BAD_REQUEST without quoting the request back, in a GET, a form and a JSON body', async () => {
    const secret = 'Quoted-Secret-1234';
    const headers = { 'x-auth-token': tokens.write, 'x-graphql-yoga-csrf': '1', accept: 'application/json' };
    const responses = [
      await gateway.request(`/graphql?query=%7B__typename%7D&variables=${encodeURIComponent(`{"password":"${secret}"`)}`, { headers }),
      await gateway.request('/graphql?query=%7B__typename%7D&extensions=%7B', { headers }),
      await gateway.request('/graphql', {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        body: `query=%7B__typename%7D&variables=${encodeURIComponent(`{"password": ${secret}}`)}`,
      }),
      await gateway.request('/graphql', {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: `{"query": "{ __typename }", "variables": {"password": ${secret}}}`,
      }),
    ];
    for (const response of responses) {
      expect(response.status, response.text).toBe(400);
      expect(response.body.errors[0].extensions.code, response.text).toBe('BAD_REQUEST');
      expect(response.text).not.toContain(secret);
      expect(response.text).not.toMatch(/Unexpected error|"message":"[^"]*JSON at position|originalError":\{[^}]*"message"/);
    }
  });
});

