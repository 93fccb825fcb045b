/**
 * What one request costs as the store grows: every filter of `customers`, `customer(id)` and the
 * pages of a 10,000-entry history, sent one at a time to a fresh gateway on the seeded store.
 * Every answer is checked (no errors, and the customers it lists match what was asked); a wrong
 * answer fails the bench like a failed write check.
 */
import type pg from 'pg';
import { seededLastName } from './database.ts';
import { startServer } from './processes.ts';

export interface QueryTiming {
  query: string;
  requests: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Customers (or history entries) in each answer, as "min-max". */
  rows: string;
}

export interface QueriesResult {
  customers: number;
  timings: QueryTiming[];
  /** Requests whose answer was wrong, with the first reason. */
  wrong: number;
  firstWrong?: string;
}

const REQUESTS = 50;
const WARMUP = 5;
const PAGE = 20;
/** The entries of the long history, and so its pages of PAGE. */
const HISTORY_ENTRIES = 10_000;
const PROFILE = 'id firstName lastName email customerGroupId dateModified';

interface Probe {
  query: string;
  /** The GraphQL request for the i-th customer number drawn (from 1). */
  request(n: number): { query: string; variables: Record<string, unknown> };
  /** The customers or entries of a correct answer; undefined when the answer is wrong. */
  rows(data: Record<string, unknown>, n: number): number | undefined;
}

type Node = { id: string; firstName: string; lastName: string; email: string; customerGroupId: number | null };
const nodesOf = (data: Record<string, unknown>) =>
  ((data.customers as { edges?: Array<{ node: Node }> } | undefined)?.edges ?? []).map((edge) => edge.node);
const search = (filter: string) => `query($v: ${filter}) { customers(first: ${PAGE}, filter: $v) { edges { node { ${PROFILE} } } } }`;
const named = (term: string, mode: 'contains' | 'starts') => (node: Node) =>
  [node.firstName, node.lastName].some((name) => (mode === 'contains' ? name.toLowerCase().includes(term.toLowerCase()) : name.toLowerCase().startsWith(term.toLowerCase())));
const nameProbe = (query: string, term: (n: number) => string, mode: 'contains' | 'starts', min: number): Probe => ({
  query,
  request: (n) => ({ query: search('CustomerFilter'), variables: { v: { name: term(n) } } }),
  rows: (data, n) => {
    const nodes = nodesOf(data);
    return nodes.length >= min && nodes.every(named(term(n), mode)) ? nodes.length : undefined;
  },
});

function probes(ids: { min: number; max: number }): Probe[] {
  const id = (n: number) => String(ids.min + n - 1);
  return [
    {
      query: 'customer(id)',
      request: (n) => ({ query: `query($id: ID!) { customer(id: $id) { ${PROFILE} } }`, variables: { id: id(n) } }),
      rows: (data, n) => ((data.customer as Node | null)?.id === id(n) ? 1 : undefined),
    },
    {
      query: 'customers(filter: {email})',
      request: (n) => ({ query: search('CustomerFilter'), variables: { v: { email: `CUSTOMER${n}@bench.example` } } }),
      rows: (data, n) => {
        const nodes = nodesOf(data);
        return nodes.length === 1 && nodes[0]!.id === id(n) ? 1 : undefined;
      },
    },
    {
      query: 'customers(filter: {customerGroupId})',
      request: (n) => ({ query: search('CustomerFilter'), variables: { v: { customerGroupId: (n % 5) * 2 } } }),
      rows: (data, n) => {
        const nodes = nodesOf(data);
        return nodes.every((node) => node.customerGroupId === (n % 5) * 2) ? nodes.length : undefined;
      },
    },
    {
      query: 'customers(filter: {dateModified: last day})',
      request: () => ({
        query: search('CustomerFilter'),
        variables: { v: { dateModified: { from: new Date(Date.now() - 86_400_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() } } },
      }),
      rows: (data) => nodesOf(data).length || undefined,
    },
    nameProbe('customers(filter: {name}), 4 letters of a last name', (n) => seededLastName(n).slice(2, 6), 'contains', 1),
    nameProbe('customers(filter: {name}), no match', (n) => `zz${n % 10}nomatch`, 'contains', 0),
    nameProbe('customers(filter: {name}), 2 letters', (n) => seededLastName(n).slice(0, 2), 'starts', 1),
    nameProbe('customers(filter: {name}), 1 letter', (n) => seededLastName(n).slice(0, 1), 'starts', 1),
    {
      query: 'customers(first: 20)',
      request: () => ({ query: `{ customers(first: ${PAGE}) { edges { node { ${PROFILE} } } } }`, variables: {} }),
      rows: (data) => (nodesOf(data).length === PAGE ? PAGE : undefined),
    },
  ];
}

/**
 * A customer of its own (the variants before may have written any seeded one) with
 * HISTORY_ENTRIES versions after its first, each with its history entry; returns its id.
 */
async function seedHistory(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ id: number }>(
    `WITH made AS (
       INSERT INTO customers (first_name, last_name, email, password_hash, version)
       SELECT 'Long', 'History', 'long.history@bench.example', password_hash, $1 + 1 FROM customers LIMIT 1
       RETURNING id
     ), entries AS (
       INSERT INTO customer_changes (customer_id, version, actor, changes)
       SELECT made.id, v, 'bench', jsonb_build_array(jsonb_build_object('field', 'notes', 'from', 'note ' || (v - 1), 'to', 'note ' || v))
         FROM made, generate_series(2, $1 + 1) AS v
     )
     SELECT id FROM made`,
    [HISTORY_ENTRIES],
  );
  await client.query('ANALYZE customer_changes');
  return rows[0]!.id;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

function timing(query: string, times: number[], rows: number[]): QueryTiming {
  const sorted = [...times].sort((a, b) => a - b);
  return {
    query,
    requests: times.length,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted[sorted.length - 1]!,
    rows: `${Math.min(...rows)}-${Math.max(...rows)}`,
  };
}

export async function measureQueries(
  database: { url: string; client: pg.Client },
  ids: { min: number; max: number },
  token: string,
  log: (message: string) => void,
): Promise<QueriesResult> {
  const customers = ids.max - ids.min + 1;
  log(`queries: a customer with a history of ${HISTORY_ENTRIES} entries`);
  const longHistory = await seedHistory(database.client);
  const server = await startServer('gateway', { BENCH_DATABASE_URL: database.url, BENCH_NEEDS_PASSWORD: 'false' });
  if ('unavailable' in server) throw new Error(`the gateway cannot run: ${server.unavailable}`);
  const url = `http://127.0.0.1:${server.port}/graphql`;
  const result: QueriesResult = { customers, timings: [], wrong: 0 };
  const send = async (body: { query: string; variables: Record<string, unknown> }) => {
    const started = performance.now();
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-auth-token': token },
      body: JSON.stringify(body),
    });
    const json = (await response.json()) as { data?: Record<string, unknown>; errors?: unknown[] };
    const ms = performance.now() - started;
    if (response.status !== 200 || json.errors || !json.data) throw new Error(`HTTP ${response.status}: ${JSON.stringify(json).slice(0, 300)}`);
    return { ms, data: json.data };
  };
  const wrong = (reason: string) => {
    result.wrong++;
    result.firstWrong ??= reason;
  };
  try {
    // Customer numbers drawn the same way every run: a small linear congruential sequence.
    let state = 7;
    const draw = () => (state = (state * 48271) % 2147483647) % customers + 1;
    for (const probe of probes(ids)) {
      log(`queries: ${probe.query}`);
      const times: number[] = [];
      const rows: number[] = [];
      for (let i = 0; i < WARMUP + REQUESTS; i++) {
        const n = draw();
        try {
          const { ms, data } = await send(probe.request(n));
          const count = probe.rows(data, n);
          if (count === undefined) wrong(`${probe.query} for customer ${n}: ${JSON.stringify(data).slice(0, 300)}`);
          else if (i >= WARMUP) {
            times.push(ms);
            rows.push(count);
          }
        } catch (error) {
          wrong(`${probe.query} for customer ${n}: ${(error as Error).message}`);
        }
      }
      if (times.length > 0) result.timings.push(timing(probe.query, times, rows));
    }

    log(`queries: every page of a ${HISTORY_ENTRIES}-entry history`);
    const historyQuery = `query($id: ID!, $after: String) {
      customer(id: $id) { history(first: ${PAGE}, after: $after) { edges { node { version } } pageInfo { hasNextPage endCursor } } }
    }`;
    type Page = { edges: Array<{ node: { version: number } }>; pageInfo: { hasNextPage: boolean; endCursor: string | null } };
    const times: number[] = [];
    const sizes: number[] = [];
    let after: string | null = null;
    let expected = HISTORY_ENTRIES + 1; // the newest version
    for (;;) {
      const { ms, data } = await send({ query: historyQuery, variables: { id: String(longHistory), after } });
      const page = (data.customer as { history: Page }).history;
      const versions = page.edges.map((edge) => edge.node.version);
      if (!versions.every((version, i) => version === expected - i)) {
        wrong(`history page after ${after}: versions ${versions.join(',')}`);
        break;
      }
      times.push(ms);
      sizes.push(versions.length);
      expected -= versions.length;
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    if (expected !== 1) wrong(`history ended at version ${expected + 1}, not 2`);
    const pages = times.length;
    if (pages === 0) return result;
    const tenth = Math.max(1, Math.floor(pages / 10));
    result.timings.push(timing(`history, first ${tenth} of ${pages} pages`, times.slice(0, tenth), sizes.slice(0, tenth)));
    result.timings.push(timing(`history, last ${tenth} of ${pages} pages`, times.slice(-tenth), sizes.slice(-tenth)));
    result.timings.push(timing(`history, all ${pages} pages`, times, sizes));
    return result;
  } finally {
    await server.stop();
  }
}

export function formatQueries(result: QueriesResult): string {
  const width = Math.max(...result.timings.map((row) => row.query.length));
  const lines = [
    `One request at a time on ${result.customers.toLocaleString('en-US')} customers (after ${WARMUP} unmeasured requests each):`,
    `${'query'.padEnd(width)}  requests  p50 ms  p99 ms  max ms  rows`,
    ...result.timings.map(
      (row) =>
        `${row.query.padEnd(width)}  ${String(row.requests).padStart(8)}  ${row.p50Ms.toFixed(2).padStart(6)}  ${row.p99Ms.toFixed(2).padStart(6)}  ${row.maxMs.toFixed(2).padStart(6)}  ${row.rows}`,
    ),
    result.wrong === 0 ? 'every answer checked: ok' : `WRONG: ${result.wrong} answers, first: ${result.firstWrong}`,
  ];
  return lines.join('\n');
}
