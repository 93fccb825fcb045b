/** customers(first, after, filter): a Relay connection in id order, with its filters. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databasePool } from '../../src/infra/database/prisma.ts';
import { insertCustomer } from '../support/customers.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

const CUSTOMERS = /* GraphQL */ `
  query ($first: Int, $after: String, $filter: CustomerFilter) {
    customers(first: $first, after: $after, filter: $filter) {
      edges { cursor node { id firstName lastName email formFields { name } } }
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    }
  }
`;

interface Page {
  edges: Array<{ cursor: string; node: { id: string; firstName: string; lastName: string; email: string } }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

async function page(variables: Record<string, unknown>, token?: string): Promise<Page> {
  const response = await server.graphql<{ customers: Page }>(CUSTOMERS, variables, token ? { token } : {});
  if (response.body.errors) throw new Error(response.text);
  return response.body.data!.customers;
}

async function allIds(filter?: Record<string, unknown>): Promise<string[]> {
  return (await page({ first: 100, filter })).edges.map((edge) => edge.node.id);
}

describe('paging', () => {
  let ids: string[];
  beforeAll(async () => {
    await server.database.sql.query('DELETE FROM customers');
    // 130 customers with a form field each, in one statement.
    const { rows } = await server.database.sql.query<{ id: number }>(`
      WITH made AS (
        INSERT INTO customers (first_name, last_name, email, password_hash)
        SELECT 'P' || n, 'Doe', 'page.' || n || '@example.com', 'not-a-real-hash' FROM generate_series(0, 129) AS n
        RETURNING id),
      fields AS (INSERT INTO customer_form_fields (customer_id, name, value) SELECT id, 'newsletter_topics', '["offers"]' FROM made)
      SELECT id FROM made ORDER BY id`);
    ids = rows.map((row) => String(row.id));
    expect(ids).toHaveLength(130);
  });

  it('returns 20 by default, in id order, with hasNextPage', async () => {
    const first = await page({});
    expect(first.edges.map((edge) => edge.node.id)).toEqual(ids.slice(0, 20));
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false, startCursor: first.edges[0]!.cursor, endCursor: first.edges[19]!.cursor });
  });

  it('walks every customer exactly once with after: endCursor', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const current: Page = await page({ first: 7, after });
      seen.push(...current.edges.map((edge) => edge.node.id));
      if (!current.pageInfo.hasNextPage) break;
      expect(current.pageInfo.hasPreviousPage).toBe(after !== null);
      after = current.pageInfo.endCursor;
    }
    expect(seen).toEqual(ids);
  });

  it('caps first at 100', async () => {
    const capped = await page({ first: 1000 });
    expect(capped.edges).toHaveLength(100);
    expect(capped.pageInfo.hasNextPage).toBe(true);
  });

  it('first: 0 is an empty page; a negative first or a foreign cursor is a GraphQL error', async () => {
    expect((await page({ first: 0 })).edges).toEqual([]);
    const negative = await server.graphql(CUSTOMERS, { first: -1 });
    expect(negative.status).toBe(400);
    expect(negative.body.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    const foreign = await server.graphql(CUSTOMERS, { after: 'bm90LWEtY3Vyc29y' });
    expect(foreign.status).toBe(400);
    expect(foreign.body.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
  });

  it('a cursor stays valid when customers before it are deleted or new ones are added', async () => {
    const first = await page({ first: 5 });
    await server.database.sql.query('DELETE FROM customers WHERE id = $1', [Number(ids[2])]);
    const next = await page({ first: 5, after: first.pageInfo.endCursor });
    expect(next.edges.map((edge) => edge.node.id)).toEqual(ids.slice(5, 10));
  });

  it('loads form fields of every node', async () => {
    const current = await page({ first: 3 });
    for (const edge of current.edges) expect(edge.node).toMatchObject({ formFields: [{ name: 'newsletter_topics' }] });
  });
});

describe('filters', () => {
  let groupId: number;
  let janeSmith: string;
  let johnSmithers: string;
  let mariaO: string;
  let percent: string;
  beforeAll(async () => {
    await server.database.sql.query('DELETE FROM customers');
    groupId = 4242;
    janeSmith = (await insertCustomer(server, { first_name: 'Jane', last_name: 'Smith', email: 'Jane.Smith@Example.com', customer_group_id: groupId })).id;
    johnSmithers = (await insertCustomer(server, { first_name: 'John', last_name: 'Smithers', email: 'john@example.com', customer_group_id: null })).id;
    mariaO = (await insertCustomer(server, { first_name: 'María', last_name: "O'Brien", email: 'maria@example.com', customer_group_id: groupId })).id;
    percent = (await insertCustomer(server, { first_name: '50%_Off', last_name: 'Shop', email: 'shop@example.com' })).id;
  });

  it('email: the whole address, without regard to case', async () => {
    expect(await allIds({ email: 'jane.smith@example.com' })).toEqual([janeSmith]);
    expect(await allIds({ email: 'JANE.SMITH@EXAMPLE.COM' })).toEqual([janeSmith]);
    expect(await allIds({ email: 'jane.smith' })).toEqual([]);
  });

  it('name with 3 or more letters or digits in a row: anywhere in the first or last name, without regard to case', async () => {
    expect(await allIds({ name: 'smith' })).toEqual([janeSmith, johnSmithers]);
    expect(await allIds({ name: 'MITH' })).toEqual([janeSmith, johnSmithers]);
    expect(await allIds({ name: 'JOHN' })).toEqual([johnSmithers]);
    expect(await allIds({ name: 'ohn' })).toEqual([johnSmithers]);
    expect(await allIds({ name: 'marí' })).toEqual([mariaO]);
    expect(await allIds({ name: "o'bri" })).toEqual([mariaO]);
    expect(await allIds({ name: 'RIEN' })).toEqual([mariaO]);
  });

  it('name with fewer letters or digits in a row: a first or last name that starts with it', async () => {
    expect(await allIds({ name: 'JO' })).toEqual([johnSmithers]);
    expect(await allIds({ name: 'j' })).toEqual([janeSmith, johnSmithers]);
    expect(await allIds({ name: 's' })).toEqual([janeSmith, johnSmithers, percent]);
    expect(await allIds({ name: 'Ma' })).toEqual([mariaO]);
    expect(await allIds({ name: "o'b" })).toEqual([mariaO]);
    expect(await allIds({ name: ' O\' ' })).toEqual([mariaO]);
    // inside a name, not at its start
    expect(await allIds({ name: 'mi' })).toEqual([]);
    expect(await allIds({ name: 'ía' })).toEqual([]);
    expect(await allIds({ name: 'J.' })).toEqual([]);
  });

  it('name: % and _ are the characters themselves, not wildcards', async () => {
    expect(await allIds({ name: '50%' })).toEqual([percent]);
    expect(await allIds({ name: '0%_Off' })).toEqual([percent]);
    expect(await allIds({ name: '5_%' })).toEqual([]);
    expect(await allIds({ name: 'J_hn' })).toEqual([]);
    expect(await allIds({ name: 'Smi_h' })).toEqual([]);
  });

  it('name without a letter or digit is a 400 BAD_USER_INPUT: no index could find it', async () => {
    for (const name of ['%', '_', '---', ' . ', "'%_'"]) {
      const response = await server.graphql(CUSTOMERS, { first: 1, filter: { name } });
      expect(response.status, name).toBe(400);
      expect(response.body.errors).toEqual([
        expect.objectContaining({ message: 'filter.name needs a letter or a digit', extensions: { code: 'BAD_USER_INPUT' } }),
      ]);
    }
  });

  it('customerGroupId', async () => {
    expect(await allIds({ customerGroupId: groupId })).toEqual([janeSmith, mariaO]);
  });

  it('dateModified: a range with both ends included', async () => {
    await server.database.sql.query(`UPDATE customers SET date_modified = '2026-01-01T00:00:00Z' WHERE id = $1`, [Number(janeSmith)]);
    await server.database.sql.query(`UPDATE customers SET date_modified = '2026-02-01T00:00:00Z' WHERE id = $1`, [Number(johnSmithers)]);
    await server.database.sql.query(`UPDATE customers SET date_modified = '2026-03-01T00:00:00Z' WHERE id IN ($1, $2)`, [Number(mariaO), Number(percent)]);
    expect(await allIds({ dateModified: { from: '2026-01-01T00:00:00Z', to: '2026-02-01T00:00:00Z' } })).toEqual([janeSmith, johnSmithers]);
    expect(await allIds({ dateModified: { from: '2026-01-15T00:00:00Z' } })).toEqual([johnSmithers, mariaO, percent]);
    expect(await allIds({ dateModified: { to: '2026-01-31T23:59:59Z' } })).toEqual([janeSmith]);
  });

  it('refuses text no customer can hold with a 400 BAD_USER_INPUT: NUL, half a surrogate pair, longer than the field', async () => {
    const refused: Array<Record<string, unknown>> = [
      { name: 'Ja\u0000ne' },
      { email: 'jane\u0000@example.com' },
      { name: 'Jane \uD800' },
      { email: '\uDC00@example.com' },
      { name: 'n'.repeat(101) },
      { email: `${'e'.repeat(250)}@x.com` },
      { name: 'n'.repeat(101), email: 'a\u0000@b.c' },
    ];
    for (const filter of refused) {
      const response = await server.graphql(CUSTOMERS, { first: 1, filter });
      expect(response.status, JSON.stringify(filter)).toBe(400);
      expect(response.body.data ?? null).toBeNull();
      expect(response.body.errors, JSON.stringify(filter)).toEqual([
        expect.objectContaining({ message: expect.stringMatching(/^filter\.(name|email) /), extensions: { code: 'BAD_USER_INPUT' } }),
      ]);
      expect(response.text).not.toContain('n'.repeat(101));
    }
    // as long as the fields may be (after trimming), and a whole surrogate pair, are fine
    expect(await allIds({ name: ` ${'n'.repeat(100)} ` })).toEqual([]);
    expect(await allIds({ email: `${'e'.repeat(249)}@x.com` })).toEqual([]);
    expect(await allIds({ name: 'Jane \u{1F600}' })).toEqual([]);
  });

  it('combines conditions, and pages through the filtered list', async () => {
    expect(await allIds({ name: 'smith', customerGroupId: groupId })).toEqual([janeSmith]);
    const first = await page({ first: 1, filter: { customerGroupId: groupId } });
    expect(first.edges.map((edge) => edge.node.id)).toEqual([janeSmith]);
    expect(first.pageInfo.hasNextPage).toBe(true);
    const second = await page({ first: 1, after: first.pageInfo.endCursor, filter: { customerGroupId: groupId } });
    expect(second.edges.map((edge) => edge.node.id)).toEqual([mariaO]);
    expect(second.pageInfo.hasNextPage).toBe(false);
  });
});

describe('name search through the trigram indexes', () => {
  /** The statements the server sends while `work` runs, as its pool hands them to PostgreSQL. */
  async function statementsSent(work: () => Promise<unknown>): Promise<Array<{ text: string; values: unknown[] }>> {
    const pool = databasePool(server.database.db);
    const query = pool.query;
    const sent: Array<{ text: string; values: unknown[] }> = [];
    pool.query = ((config: { text?: string; values?: unknown[] }, ...rest: unknown[]) => {
      if (typeof config === 'object' && config?.text) sent.push({ text: config.text, values: config.values ?? [] });
      return (query as (...args: unknown[]) => unknown).call(pool, config, ...rest);
    }) as typeof pool.query;
    try {
      await work();
    } finally {
      pool.query = query;
    }
    return sent;
  }

  /** The plan of a statement when scans of the whole table are off: only an index on the names can serve it. */
  async function planWithoutFullScans({ text, values }: { text: string; values: unknown[] }): Promise<string> {
    const client = await server.database.sql.connect();
    try {
      await client.query('BEGIN');
      await client.query('SET LOCAL enable_seqscan = off');
      // The primary key in id order, filtered row by row, reads every customer just the same.
      await client.query('SET LOCAL enable_indexscan = off');
      const { rows } = await client.query(`EXPLAIN ${text}`, values);
      return rows.map((row) => row['QUERY PLAN']).join('\n');
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  }

  // The trigram indexes are what keeps a search from reading every customer, and nothing else
  // fails when a change to the statement (its casts, lower(), a collation) stops them serving it.
  for (const [how, name] of [['anywhere in a name', 'smith'], ['at the start of a name', 'Sm']] as const) {
    it(`uses both, in the statement the API sends: ${how}`, async () => {
      const sent = await statementsSent(() => allIds({ name }));
      const search = sent.filter((statement) => /ILIKE/.test(statement.text));
      expect(search).toHaveLength(1);
      const plan = await planWithoutFullScans(search[0]!);
      expect(plan).toContain('BitmapOr');
      expect(plan).toMatch(/Bitmap Index Scan on customers_first_name_trgm_idx/);
      expect(plan).toMatch(/Bitmap Index Scan on customers_last_name_trgm_idx/);
      expect(plan).not.toMatch(/Seq Scan|Disabled: true/);
    });
  }
});

describe('scopes', () => {
  it('needs customers:read: a read token lists, no token is 401', async () => {
    await expect(page({ first: 1 }, server.tokens.read)).resolves.toBeDefined();
    const anonymous = await server.graphql(CUSTOMERS, { first: 1 }, { token: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  });
});
