/** Customer.history, as API.md's "Batch updates and history" states it, over HTTP and real PostgreSQL. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/domain/paging.ts';
import { createToken } from '../../src/domain/tokens.ts';
import { createCustomer, customerRow, insertCustomer, uniqueEmail, updateCustomer } from '../support/customers.ts';
import { statementsFor } from '../support/statements.ts';
import { startTestServer, type TestServer } from '../support/server.ts';

const HISTORY = /* GraphQL */ `
  query ($id: ID!, $first: Int, $after: String) {
    customer(id: $id) {
      history(first: $first, after: $after) {
        edges { cursor node { id at actor version changes { field from to } } }
        pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      }
    }
  }
`;

interface Entry {
  id: string;
  at: string;
  actor: string;
  version: number;
  changes: Array<{ field: string; from: unknown; to: unknown }>;
}
interface Page {
  edges: Array<{ cursor: string; node: Entry }>;
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(() => server.close());

async function history(id: string, variables: { first?: number; after?: string } = {}, token?: string): Promise<Page> {
  const response = await server.graphql<{ customer: { history: Page } }>(HISTORY, { id, ...variables }, token ? { token } : {});
  if (response.status !== 200 || response.body.errors) throw new Error(`${response.status}: ${response.text}`);
  return response.body.data!.customer.history;
}

/** Back-fills `count` history rows for a customer with plain SQL (versions 2 to count + 1). */
async function fillHistory(id: string, count: number) {
  await server.database.sql.query(
    `INSERT INTO customer_changes (customer_id, version, actor, at, changes)
     SELECT $1, v, 'filler', now() - make_interval(secs => 1000 - v), jsonb_build_array(jsonb_build_object('field', 'notes', 'from', 'n' || (v - 1), 'to', 'n' || v))
       FROM generate_series(2, $2 + 1) AS v`,
    [Number(id), count],
  );
  await server.database.sql.query('UPDATE customers SET version = $2 WHERE id = $1', [Number(id), count + 1]);
}

describe('history lists every write, newest first', () => {
  it('a created customer, then three updates: versions 4, 3, 2, 1 with their changes and times', async () => {
    const email = uniqueEmail('history');
    const created = await createCustomer(server, { firstName: 'Ada', lastName: 'Lovelace', email, storeCredit: '5' });
    const id = created.customer!.id as string;
    await updateCustomer(server, id, { firstName: 'Augusta' });
    await updateCustomer(server, id, { storeCredit: '7.25', company: 'Analytical' });
    await updateCustomer(server, id, { company: null });

    const page = await history(id);
    const nodes = page.edges.map((edge) => edge.node);
    expect(nodes.map((node) => node.version)).toEqual([4, 3, 2, 1]);
    expect(nodes.map((node) => node.changes)).toEqual([
      [{ field: 'company', from: 'Analytical', to: null }],
      [
        { field: 'company', from: null, to: 'Analytical' },
        { field: 'storeCredit', from: '5.0000', to: '7.2500' },
      ],
      [{ field: 'firstName', from: 'Ada', to: 'Augusta' }],
      [
        { field: 'firstName', from: null, to: 'Ada' },
        { field: 'lastName', from: null, to: 'Lovelace' },
        { field: 'email', from: null, to: email },
        { field: 'storeCredit', from: null, to: '5.0000' },
      ],
    ]);
    const times = nodes.map((node) => Date.parse(node.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(nodes.at(-1)!.at).toBe(created.customer!.dateCreated);
    expect(new Set(nodes.map((node) => node.id)).size).toBe(4);
    expect(page.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: false });
  });

  it('createCustomer records version 1', async () => {
    const created = await createCustomer(server, { firstName: 'One', lastName: 'Entry', email: uniqueEmail('v1') });
    const page = await history(created.customer!.id);
    expect(page.edges).toHaveLength(1);
    expect(page.edges[0]!.node.version).toBe(1);
  });

  it('an update that changes nothing adds no entry', async () => {
    const { id } = await insertCustomer(server, { first_name: 'Still' });
    await updateCustomer(server, id, { firstName: 'Still' });
    expect((await history(id)).edges).toEqual([]);
  });
});

describe('actor is the name of the token that wrote', () => {
  it('two tokens, two names', async () => {
    const { id } = await insertCustomer(server);
    const alice = await createToken(server.database.db, `alice-${Date.now()}`, ['customers:write']);
    const bob = await createToken(server.database.db, `bob-${Date.now()}`, ['customers:write']);
    await updateCustomer(server, id, { phone: '1' }, { token: alice.secret });
    await updateCustomer(server, id, { phone: '2' }, { token: bob.secret });
    const nodes = (await history(id)).edges.map((edge) => edge.node);
    expect(nodes.map((node) => node.actor)).toEqual([bob.record.name, alice.record.name]);
  });
});

describe('a password change is field "password" with from and to null; no password or hash anywhere in history', () => {
  it('on update and on creation', async () => {
    const password = 'Velvet-Compass-5521';
    const created = await createCustomer(server, {
      firstName: 'Pass',
      lastName: 'Word',
      email: uniqueEmail('pw-history'),
      authentication: { password, passwordConfirmation: password },
    });
    const id = created.customer!.id;
    const next = 'Velvet-Compass-5522';
    await updateCustomer(server, id, { authentication: { password: next, passwordConfirmation: next } });
    const response = await server.graphql(HISTORY, { id });
    const nodes = (response.body.data!.customer.history as Page).edges.map((edge) => edge.node);
    expect(nodes[0]!.changes).toEqual([{ field: 'password', from: null, to: null }]);
    expect(nodes[1]!.changes).toContainEqual({ field: 'password', from: null, to: null });
    const hash = (await customerRow(server, id))!.password_hash as string;
    expect(hash).toMatch(/^\$argon2id\$/);
    for (const secret of [password, next, hash, '$argon2', 'Velvet']) expect(response.text).not.toContain(secret);
    const { rows } = await server.database.sql.query('SELECT changes::text AS changes FROM customer_changes WHERE customer_id = $1', [Number(id)]);
    for (const row of rows) expect(row.changes).not.toMatch(/Velvet|argon2/);
  });
});

describe('history is a Relay connection: first (20 by default, at most 100) and after', () => {
  it('pages of 2 walk the whole history newest first, without gaps or repeats', async () => {
    const { id } = await insertCustomer(server);
    await fillHistory(id, 5);
    const versions: number[] = [];
    let after: string | undefined;
    const pages: Page[] = [];
    for (;;) {
      const page = await history(id, { first: 2, ...(after && { after }) });
      pages.push(page);
      versions.push(...page.edges.map((edge) => edge.node.version));
      expect(page.pageInfo.startCursor).toBe(page.edges[0]?.cursor ?? null);
      expect(page.pageInfo.endCursor).toBe(page.edges.at(-1)?.cursor ?? null);
      expect(page.pageInfo.hasPreviousPage).toBe(after !== undefined);
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor!;
    }
    expect(versions).toEqual([6, 5, 4, 3, 2]);
    expect(pages.map((page) => page.edges.length)).toEqual([2, 2, 1]);
  });

  it('20 entries when first is left out, never more than 100', async () => {
    const { id } = await insertCustomer(server);
    await fillHistory(id, 105);
    const byDefault = await history(id);
    expect(byDefault.edges).toHaveLength(20);
    expect(byDefault.edges[0]!.node.version).toBe(106);
    expect(byDefault.pageInfo.hasNextPage).toBe(true);
    const capped = await history(id, { first: 1000 });
    expect(capped.edges).toHaveLength(100);
    expect(capped.pageInfo.hasNextPage).toBe(true);
    const rest = await history(id, { first: 1000, after: capped.pageInfo.endCursor! });
    expect(rest.edges.map((edge) => edge.node.version)).toEqual([6, 5, 4, 3, 2]);
    expect(rest.pageInfo.hasNextPage).toBe(false);
    expect((await history(id, { first: 0 })).edges).toEqual([]);
  });

  it('a negative first or a cursor this API did not give out is a BAD_USER_INPUT error', async () => {
    const { id } = await insertCustomer(server);
    for (const variables of [{ first: -1 }, { after: 'not-a-cursor' }, { after: Buffer.from('customer:1').toString('base64url') }]) {
      const response = await server.graphql(HISTORY, { id, ...variables });
      expect(response.body.errors?.[0]?.extensions?.code, JSON.stringify(variables)).toBe('BAD_USER_INPUT');
    }
  });
});

describe('the history of a page of customers is read in one statement, not one per customer', () => {
  const GROUP = 7_001;
  const PAGE = /* GraphQL */ `
    query ($first: Int, $after: String, $filter: CustomerFilter, $history: Int) {
      customers(first: $first, after: $after, filter: $filter) {
        edges { node { id version history(first: $history) {
          edges { cursor node { id at actor version changes { field from to } } }
          pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        } } }
      }
    }
  `;
  let ids: string[];
  beforeAll(async () => {
    ids = [];
    // 20 customers with 0 to 25 entries each
    for (let index = 0; index < 20; index++) {
      const { id } = await insertCustomer(server, { customer_group_id: GROUP });
      if (index % 4 !== 0) await fillHistory(id, (index * 7) % 26);
      ids.push(id);
    }
  });

  it('a page of 20 customers with their history costs no more statements than a page of 2', async () => {
    const page = (first: number) => server.graphql(PAGE, { first, filter: { customerGroupId: GROUP } }, { token: server.tokens.read });
    await page(1); // the token's first use: its lookup and its last-use mark
    const two = await statementsFor(server, () => page(2));
    const twenty = await statementsFor(server, () => page(20));
    expect(twenty).toBeLessThanOrEqual(3);
    expect(twenty).toBeLessThanOrEqual(two);
  });

  it('returns for each customer of the page what customer(id) returns, whatever the page arguments', async () => {
    const read = async (variables: Record<string, unknown>) => {
      const response = await server.graphql<{ customers: { edges: Array<{ node: { id: string; version: number; history: Page } }> } }>(
        PAGE,
        { first: 20, filter: { customerGroupId: GROUP }, ...variables },
      );
      if (response.body.errors) throw new Error(response.text);
      return response.body.data!.customers.edges.map((edge) => edge.node);
    };
    for (const size of [undefined, 1, 5, 30]) {
      const nodes = await read({ history: size });
      expect(nodes.map((node) => node.id)).toEqual(ids);
      for (const node of nodes) {
        expect(node.history).toEqual(await history(node.id, size === undefined ? {} : { first: size }));
        const versions = node.history.edges.map((edge) => edge.node.version);
        const expected = Array.from({ length: node.version }, (_, i) => node.version - i)
          .filter((version) => version > 1)
          .slice(0, size ?? 20);
        expect(versions).toEqual(expected);
      }
    }
    // a second page of customers, starting after the fifth
    const rest = await read({ after: encodeCursor('customer', Number(ids[4])), history: 3 });
    expect(rest.map((node) => node.id)).toEqual(ids.slice(5));
  });

  it('pages each customer\'s history from its own cursor, and aliases with different pages in one query', async () => {
    const target = ids[5]!;
    const first = await history(target, { first: 4 });
    const response = await server.graphql(
      /* GraphQL */ `
        query ($filter: CustomerFilter, $after: String) {
          customers(first: 20, filter: $filter) {
            edges { node { id small: history(first: 2) { edges { node { version } } } large: history(first: 50) { edges { node { version } } } } }
          }
          customer(id: "${target}") { history(first: 4, after: $after) { edges { node { version } } } }
        }
      `,
      { filter: { customerGroupId: GROUP }, after: first.pageInfo.endCursor },
    );
    expect(response.body.errors).toBeUndefined();
    for (const { node } of response.body.data!.customers.edges) {
      const all = (await history(node.id, { first: 50 })).edges.map((edge) => ({ node: { version: edge.node.version } }));
      expect(node.large.edges).toEqual(all);
      expect(node.small.edges).toEqual(all.slice(0, 2));
    }
    const versions = first.edges.map((edge) => edge.node.version);
    expect(response.body.data!.customer.history.edges.map((edge: { node: { version: number } }) => edge.node.version)).toEqual(
      versions.map((version) => version - 4),
    );
  });
});

describe('history needs customers:read', () => {
  it('a read token reads it; no token is UNAUTHENTICATED', async () => {
    const { id } = await insertCustomer(server);
    await updateCustomer(server, id, { notes: 'read me' });
    expect((await history(id, {}, server.tokens.read)).edges).toHaveLength(1);
    const anonymous = await server.graphql(HISTORY, { id }, { token: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('a write\'s payload can select the history the write just recorded', async () => {
    const { id } = await insertCustomer(server);
    const response = await server.graphql(
      `mutation ($id: ID!) { updateCustomer(id: $id, input: { notes: "fresh" }) { customer { version history(first: 1) { edges { node { version changes { field to } } } } } } }`,
      { id },
    );
    expect(response.body.data).toEqual({
      updateCustomer: { customer: { version: 2, history: { edges: [{ node: { version: 2, changes: [{ field: 'notes', to: 'fresh' }] } }] } } },
    });
  });
});
