/**
 * An update of one customer as a single SQL statement: lock the row, compare the expected
 * version, check the new email, diff the fields, write the row and its history entry, all in one
 * round trip. A single statement is atomic by itself, so the common update needs no explicit
 * transaction (BEGIN and COMMIT were two more round trips), and nothing happens between the
 * read and the write. Inside a caller's transaction (a batch, an idempotency record) it runs the
 * same way.
 *
 * The statement text is built once from the field table below; every value is a bound parameter.
 */
import { databasePool, type Database } from '../infra/database/prisma.ts';
import { isTransaction, type Transaction } from '../infra/database/transaction.ts';
import type { CustomerView } from './customer-snapshot.ts';
import type { CustomerField, CustomerValues } from './customer-input.ts';
import type { FieldChange } from './customer-history.ts';

interface Column {
  field: CustomerField;
  column: string;
  /** How a value from the input's JSON becomes the column's type. */
  cast: string;
  /** How the column becomes a history value (money as 4-place text, as the API shows it). */
  history?: (expression: string) => string;
}

const COLUMNS: readonly Column[] = [
  { field: 'firstName', column: 'first_name', cast: 'text' },
  { field: 'lastName', column: 'last_name', cast: 'text' },
  // As text: a change of case is a change, though citext would call the two equal.
  { field: 'email', column: 'email', cast: 'citext', history: (e) => `${e}::text` },
  { field: 'company', column: 'company', cast: 'text' },
  { field: 'phone', column: 'phone', cast: 'text' },
  { field: 'notes', column: 'notes', cast: 'text' },
  { field: 'storeCredit', column: 'store_credit', cast: 'numeric(20,4)', history: (e) => `${e}::text` },
  { field: 'registrationIpAddress', column: 'registration_ip_address', cast: 'text' },
  { field: 'customerGroupId', column: 'customer_group_id', cast: 'integer' },
  { field: 'taxExemptCategory', column: 'tax_exempt_category', cast: 'text' },
  { field: 'resetPassOnLogin', column: 'reset_pass_on_login', cast: 'boolean' },
];

/**
 * The columns a client can read, after the write (or as they were, when nothing changed). The
 * password hash is not among them: it never leaves the database on this path.
 */
const CUSTOMER_COLUMNS: ReadonlyArray<[keyof CustomerView, string]> = [
  ['id', 'id'],
  ...COLUMNS.map((c): [keyof CustomerView, string] => [c.field, c.column]),
  ['acceptsProductReviewAbandonedCartEmails', 'accepts_product_review_abandoned_cart_emails'],
  ['version', 'version'],
  ['dateCreated', 'date_created'],
  ['dateModified', 'date_modified'],
];

const PASSWORD_CHANGE_JSON = `'{"field":"password","from":null,"to":null}'::jsonb`;

/*
 * $1 id, $2 the named fields as JSON ({"company": null} clears, a missing key keeps), $3 the
 * expected version or null, $4 a new password hash or null, $5 the actor, $6 true to check
 * only (the input has errors: report what the database knows, write nothing).
 */
const STATEMENT = `
WITH input AS (SELECT $2::jsonb AS v),
current_row AS (SELECT c.* FROM customers c WHERE c.id = $1 FOR UPDATE),
next_row AS (
  SELECT current_row.*,
    ${COLUMNS.map((c) => `CASE WHEN v ? '${c.field}' THEN (v->>'${c.field}')::${c.cast} ELSE current_row.${c.column} END AS next_${c.column}`).join(',\n    ')}
  FROM current_row, input
),
diff AS (
  SELECT next_row.*,
    jsonb_path_query_array(jsonb_build_array(
      ${COLUMNS.map((c) => {
        const value = c.history ?? ((e: string) => e);
        return `CASE WHEN ${value(c.column)} IS DISTINCT FROM ${value(`next_${c.column}`)} THEN jsonb_build_object('field', '${c.field}', 'from', to_jsonb(${value(c.column)}), 'to', to_jsonb(${value(`next_${c.column}`)})) END`;
      }).join(',\n      ')},
      CASE WHEN $4::text IS NOT NULL THEN ${PASSWORD_CHANGE_JSON} END
    ), '$[*] ? (@ != null)') AS changes,
    email::text IS DISTINCT FROM next_email::text AND EXISTS (
      SELECT 1 FROM customers other WHERE other.email = next_row.next_email AND other.id <> next_row.id
    ) AS email_taken,
    $3::integer IS NOT NULL AND version <> $3::integer AS version_conflict
  FROM next_row
),
written AS (
  UPDATE customers c SET
    ${COLUMNS.map((c) => `${c.column} = d.next_${c.column}`).join(',\n    ')},
    password_hash = COALESCE($4::text, c.password_hash),
    version = c.version + 1,
    date_modified = now()
  FROM diff d
  WHERE c.id = d.id AND NOT $6::boolean AND NOT d.email_taken AND NOT d.version_conflict AND jsonb_array_length(d.changes) > 0
  RETURNING c.*
),
recorded AS (
  INSERT INTO customer_changes (customer_id, version, actor, at, changes)
  SELECT written.id, written.version, $5, written.date_modified, d.changes FROM written, diff d
)
SELECT d.email_taken, d.version_conflict, d.version AS current_version, d.changes, written.id IS NOT NULL AS wrote,
  ${CUSTOMER_COLUMNS.map(([, column]) => `CASE WHEN written.id IS NULL THEN d.${column} ELSE written.${column} END AS ${column}`).join(',\n  ')}
FROM diff d LEFT JOIN written ON true`;

export interface UpdateOutcome {
  /** Null: no customer has this id. */
  customer: CustomerView | null;
  emailTaken: boolean;
  versionConflict: boolean;
  currentVersion: number | null;
  /** What changed (empty for a no-op), in API terms. */
  changes: FieldChange[];
  wrote: boolean;
}

type Row = Record<string, unknown> & {
  email_taken: boolean;
  version_conflict: boolean;
  current_version: number;
  changes: FieldChange[];
  wrote: boolean;
};

export async function runUpdateStatement(
  client: Database | Transaction,
  update: { id: number; values: CustomerValues; expectedVersion: number | null; passwordHash: string | undefined; actor: string; checkOnly: boolean },
): Promise<UpdateOutcome> {
  const values = [
    update.id,
    JSON.stringify(update.values),
    update.expectedVersion,
    update.passwordHash ?? null,
    update.actor,
    update.checkOnly,
  ];
  // In a caller's transaction it must run on that transaction's connection. On its own it runs
  // as a named prepared statement on the pool: PostgreSQL then plans it once per connection
  // instead of on every request, which was most of its cost (Prisma's raw queries are unnamed).
  const rows = isTransaction(client)
    ? await client.$queryRawUnsafe<Row[]>(STATEMENT, ...values)
    : (await databasePool(client).query<Row>({ name: 'customer-update', text: STATEMENT, values })).rows;
  const row = rows[0];
  if (!row) return { customer: null, emailTaken: false, versionConflict: false, currentVersion: null, changes: [], wrote: false };
  const customer = Object.fromEntries(CUSTOMER_COLUMNS.map(([field, column]) => [field, row[column]])) as unknown as CustomerView;
  return {
    customer,
    emailTaken: row.email_taken,
    versionConflict: row.version_conflict,
    currentVersion: row.current_version,
    changes: row.changes,
    wrote: row.wrote,
  };
}
