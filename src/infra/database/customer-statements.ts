/**
 * Customer writes as single statements, built once from the domain's field table. Each does its
 * reads, checks and writes in one round trip, and one statement is atomic by itself, so a write
 * without an idempotency key needs no transaction (BEGIN and COMMIT were two more round trips).
 *
 * - update: 1 to 10 customers. Locks the rows in id order (concurrent batches queue instead of
 *   deadlocking), compares expected versions, checks new emails (citext, so without regard to
 *   case), diffs, writes the rows and their history entries with the database's clock. Email
 *   uniqueness is checked at the end of the statement (a DEFERRABLE constraint), so customers
 *   may swap addresses within one batch.
 * - create: checks the email, inserts the customer and its version-1 history entry.
 *
 * With `checkOnly` either reports what the database knows (not found, version, email) and
 * writes nothing: a request with invalid input still gets every error at once.
 */
import { Prisma, type Customer } from '../../generated/prisma/client.ts';
import type { Database } from './prisma.ts';
import { runStatement, type Statement } from './sql.ts';
import type { Transaction } from './transaction.ts';

/** A writable column, as the domain's field table describes it. */
export interface ColumnSpec {
  /** The API's name of the field, used in the JSON of values and in history. */
  field: string;
  column: string;
  /** What a JSON value is cast to. */
  sqlType: string;
  /** History shows the value as text (money as 4-place text; email as written, not citext). */
  historyAsText: boolean;
  /** Stored by a creation that leaves the field out. */
  createDefault: string | boolean | undefined;
}

/** A customer as the API reads it: never the password hash. */
export type StoredCustomer = Omit<Customer, 'passwordHash'>;

export interface UpdateItem {
  id: number;
  /** The fields to set, by API name: a key with null clears, a missing key keeps. */
  values: Record<string, unknown>;
  expectedVersion: number | null;
  passwordHash: string | null;
}

export interface UpdateOutcome {
  /** Null: no customer has this id. */
  customer: StoredCustomer | null;
  versionConflict: boolean;
  emailTaken: boolean;
  /** The version before this statement. */
  currentVersion: number | null;
}

export interface CreateOutcome {
  /** Null when nothing was written (email taken, or check only). */
  customer: StoredCustomer | null;
  emailTaken: boolean;
}

/** Read-only columns every statement returns beside the writable ones. */
const READ_ONLY = [
  ['id', 'id'],
  ['accepts_product_review_abandoned_cart_emails', 'acceptsProductReviewAbandonedCartEmails'],
  ['version', 'version'],
  ['date_created', 'dateCreated'],
  ['date_modified', 'dateModified'],
] as const;

const PASSWORD_CHANGE = `'{"field":"password","from":null,"to":null}'::jsonb`;

export interface CustomerStatements {
  /** One customer by id, or null: one prepared statement, the row mapped as the writes map theirs. */
  read(client: Database | Transaction, id: number): Promise<StoredCustomer | null>;
  update(client: Database | Transaction, items: readonly UpdateItem[], actor: string, checkOnly: boolean): Promise<UpdateOutcome[]>;
  create(
    client: Database | Transaction,
    create: { values: Record<string, unknown>; passwordHash: string; passwordChosen: boolean; actor: string; checkOnly: boolean },
  ): Promise<CreateOutcome>;
}

export function customerStatements(columns: readonly ColumnSpec[]): CustomerStatements {
  const returned = [...READ_ONLY, ...columns.map((c) => [c.column, c.field] as const)];
  const shown = (c: ColumnSpec, expression: string) => (c.historyAsText ? `(${expression})::text` : expression);
  const changeOf = (c: ColumnSpec, from: string, to: string) =>
    `CASE WHEN ${shown(c, from)} IS DISTINCT FROM ${shown(c, to)} THEN jsonb_build_object('field', '${c.field}', 'from', to_jsonb(${shown(c, from)}), 'to', to_jsonb(${shown(c, to)})) END`;
  const changes = (from: (c: ColumnSpec) => string, password: string) =>
    `jsonb_path_query_array(jsonb_build_array(
      ${columns.map((c) => changeOf(c, from(c), `next_${c.column}`)).join(',\n      ')},
      CASE WHEN ${password} THEN ${PASSWORD_CHANGE} END
    ), '$[*] ? (@ != null)')`;
  const nextValue = (c: ColumnSpec, otherwise: string) =>
    `CASE WHEN v ? '${c.field}' THEN (v->>'${c.field}')::${c.sqlType} ELSE ${otherwise} END AS next_${c.column}`;

  /**
   * One text per batch size, so the planner knows how many rows it works on. Per item i (from 0):
   * $(4i+1) id, $(4i+2) the named fields as JSON, $(4i+3) expected version, $(4i+4) new password
   * hash; then the actor and "check only".
   */
  const updates = new Map<number, Statement>();
  const updateStatement = (n: number): Statement => {
    const cached = updates.get(n);
    if (cached) return cached;
    const p = (item: number, field: number) => `$${4 * item + field}`;
    const actor = `$${4 * n + 1}`;
    const checkOnly = `$${4 * n + 2}::boolean`;
    const rows = Array.from({ length: n }, (_, i) => `(${i}, ${p(i, 1)}::integer, ${p(i, 2)}::jsonb, ${p(i, 3)}::integer, ${p(i, 4)}::text)`);
    const ids = Array.from({ length: n }, (_, i) => `${p(i, 1)}::integer`);
    const statement = {
      name: `customer-update-${n}`,
      text: `
WITH items (ord, id, v, expected, password_hash) AS (VALUES ${rows.join(', ')}),
current_row AS (SELECT c.* FROM customers c WHERE c.id IN (${ids.join(', ')}) ORDER BY c.id FOR UPDATE),
checked AS (
  SELECT n.*,
    n.email::text IS DISTINCT FROM n.next_email::text AS email_moves,
    n.expected IS NOT NULL AND n.version <> n.expected AS version_conflict,
    ${changes((c) => `n.${c.column}`, 'n.new_password_hash IS NOT NULL')} AS changes
  FROM (
    SELECT i.ord, i.expected, i.password_hash AS new_password_hash, c.*,
      ${columns.map((c) => nextValue(c, `c.${c.column}`)).join(',\n      ')}
    FROM items i JOIN current_row c ON c.id = i.id
  ) n
),
claimed AS (
  -- An address is free when no customer outside the batch holds it, no customer of the batch
  -- keeps it, and no earlier item of the batch claims it.
  SELECT k.*, k.email_moves AND (
    EXISTS (SELECT 1 FROM customers o WHERE o.email = k.next_email AND o.id NOT IN (${ids.join(', ')}))
    OR EXISTS (SELECT 1 FROM checked b WHERE b.id <> k.id AND b.next_email = k.next_email AND (NOT b.email_moves OR b.ord < k.ord))
  ) AS email_taken
  FROM checked k
),
written AS (
  UPDATE customers c SET
    ${columns.map((c) => `${c.column} = k.next_${c.column}`).join(',\n    ')},
    password_hash = COALESCE(k.new_password_hash, c.password_hash),
    version = c.version + 1,
    date_modified = now()
  FROM claimed k
  WHERE c.id = k.id AND jsonb_array_length(k.changes) > 0 AND NOT ${checkOnly}
    -- all or nothing: every item found, none refused
    AND (SELECT count(*) FROM claimed) = ${n}
    AND NOT EXISTS (SELECT 1 FROM claimed WHERE version_conflict OR email_taken)
  RETURNING c.*
),
recorded AS (
  INSERT INTO customer_changes (customer_id, version, actor, at, changes)
  SELECT w.id, w.version, ${actor}, w.date_modified, k.changes FROM written w JOIN claimed k ON k.id = w.id
)
SELECT k.id IS NOT NULL AS found, k.version_conflict, k.email_taken, k.version AS current_version,
  ${returned.map(([column, alias]) => `CASE WHEN w.id IS NULL THEN k.${column} ELSE w.${column} END AS "${alias}"`).join(',\n  ')}
FROM items i LEFT JOIN claimed k ON k.id = i.id LEFT JOIN written w ON w.id = i.id
ORDER BY i.ord`,
    };
    updates.set(n, statement);
    return statement;
  };

  // $1 values, $2 password hash, $3 whether the client chose the password, $4 actor, $5 check only.
  const create = {
    name: 'customer-create',
    text: `
WITH next_row AS (
  SELECT ${columns.map((c) => nextValue(c, 'NULL')).join(',\n    ')}
  FROM (SELECT $1::jsonb AS v) input
),
checked AS (
  SELECT n.*,
    EXISTS (SELECT 1 FROM customers o WHERE o.email = n.next_email) AS email_taken,
    ${changes((c) => `NULL::${c.sqlType}`, '$3::boolean')} AS changes
  FROM next_row n
),
written AS (
  INSERT INTO customers (${columns.map((c) => c.column).join(', ')}, password_hash)
  SELECT ${columns
    .map((c) => (c.createDefault === undefined ? `next_${c.column}` : `COALESCE(next_${c.column}, ${sqlLiteral(c.createDefault)}::${c.sqlType})`))
    .join(', ')}, $2
  FROM checked WHERE NOT email_taken AND NOT $5::boolean
  RETURNING *
),
recorded AS (
  INSERT INTO customer_changes (customer_id, version, actor, at, changes)
  SELECT w.id, w.version, $4, w.date_created, k.changes FROM written w, checked k
)
SELECT k.email_taken, ${returned.map(([column, alias]) => `w.${column} AS "${alias}"`).join(', ')}
FROM checked k LEFT JOIN written w ON true`,
  };

  const decimals = columns.filter((c) => c.sqlType.startsWith('numeric')).map((c) => c.field);
  // Raw rows differ by path (node-postgres gives numeric as text, Prisma as its Decimal): one shape out.
  const customerOf = (row: Record<string, unknown>): StoredCustomer | null => {
    if (row.id === null || row.id === undefined) return null;
    const customer: Record<string, unknown> = {};
    for (const [, alias] of returned) customer[alias] = row[alias];
    for (const field of decimals) customer[field] = new Prisma.Decimal(String(row[field]));
    for (const field of ['dateCreated', 'dateModified']) customer[field] = new Date(row[field] as Date | string);
    return customer as StoredCustomer;
  };

  // Every column but the password hash: a profile read is one index lookup, planned once per connection.
  const read = {
    name: 'customer-read',
    text: `SELECT ${returned.map(([column, alias]) => `${column} AS "${alias}"`).join(', ')} FROM customers WHERE id = $1`,
  };

  return {
    async read(client, id) {
      const [row] = await runStatement<Record<string, unknown>>(client, read, [id]);
      return row ? customerOf(row) : null;
    },
    async update(client, items, actor, checkOnly) {
      if (items.length === 0) return [];
      const values = items.flatMap((item) => [item.id, JSON.stringify(item.values), item.expectedVersion, item.passwordHash]);
      const rows = await runStatement<Record<string, unknown>>(client, updateStatement(items.length), [...values, actor, checkOnly]);
      return rows.map((row) => ({
        customer: row.found ? customerOf(row) : null,
        versionConflict: row.version_conflict === true,
        emailTaken: row.email_taken === true,
        currentVersion: row.current_version === null ? null : Number(row.current_version),
      }));
    },
    async create(client, { values, passwordHash, passwordChosen, actor, checkOnly }) {
      const [row] = await runStatement<Record<string, unknown>>(client, create, [JSON.stringify(values), passwordHash, passwordChosen, actor, checkOnly]);
      if (!row) throw new Error('the create statement returned no row');
      return { customer: customerOf(row), emailTaken: row.email_taken === true };
    },
  };
}

function sqlLiteral(value: string | boolean): string {
  return typeof value === 'boolean' ? String(value) : `'${value.replace(/'/g, "''")}'`;
}
