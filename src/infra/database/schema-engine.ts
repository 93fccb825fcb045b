/**
 * Prisma's schema engine (the part of `prisma migrate` that diffs schemas and writes migration
 * SQL), run from the `@prisma/schema-engine-wasm` build. The Prisma CLI needs a native engine
 * binary that cannot be downloaded on every machine we run on; the WebAssembly build is the same
 * engine and needs nothing but Node.
 *
 * Three things keep it from working out of the box, handled below:
 * - the package's entry point imports its `.wasm` as an ES module, which Node refuses, so we
 *   instantiate the WebAssembly ourselves against the package's JS glue;
 * - the engine always talks to a real database through a Prisma driver adapter (it runs a
 *   version query even for a pure file-to-file diff), so every call takes a connection string;
 * - `@prisma/adapter-pg` cannot hand PostgreSQL's internal `"char"` type (OID 18, used by
 *   `pg_constraint.contype` and friends) to the engine, which breaks every look at a live schema.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PrismaPg } from '@prisma/adapter-pg';
import {
  bindMigrationAwareSqlAdapterFactory,
  ColumnTypeEnum,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
  type SqlQueryable,
  type SqlResultSet,
} from '@prisma/driver-adapter-utils';
import * as glue from '@prisma/schema-engine-wasm/schema_engine_bg';
import type { DiffParams, SchemaContainer, SchemaEngine } from '@prisma/schema-engine-wasm/schema_engine_bg';
import pg from 'pg';

export interface DriftReport {
  /** True when the database differs from the schema. */
  drift: boolean;
  /** The SQL that would bring the database to the schema; only comments when there is no drift. */
  script: string;
}

export class SchemaEngineError extends Error {
  override name = 'SchemaEngineError';
}

/**
 * Compares the live database behind `connectionString` with the schema file. Run it on a database
 * that the existing migrations were applied to, and `script` is the next migration.
 * Prisma's own `_prisma_migrations` table is not reported as drift.
 */
export async function diffDatabaseToSchema(connectionString: string, schemaPath: string): Promise<DriftReport> {
  const schema = await readSchema(schemaPath);
  const result = await withEngine(connectionString, schema, (engine) =>
    engine.diff({
      // The datasource is the adapter's database: the connection string given here.
      from: { tag: 'schemaDatasource', files: [schema], configDir: path.dirname(schema.path) },
      to: { tag: 'schemaDatamodel', files: [schema] },
      script: true,
      // With exitCode the engine reports 2 for a non-empty diff, rather than us parsing SQL.
      exitCode: true,
      filters: NO_FILTERS,
    }),
  );
  return { drift: result.exitCode === DIFF_NOT_EMPTY, script: result.stdout ?? '' };
}

const NO_FILTERS: DiffParams['filters'] = { externalTables: [], externalEnums: [] };
const DIFF_NOT_EMPTY = 2;

async function readSchema(schemaPath: string): Promise<SchemaContainer> {
  const absolute = path.resolve(schemaPath);
  return { path: absolute, content: await readFile(absolute, 'utf8') };
}

/**
 * Runs `work` on a fresh engine connected through a pool this function owns, and always ends
 * that pool: the engine never closes its adapter, and an open pool would keep Node running.
 */
async function withEngine<T>(
  connectionString: string,
  schema: SchemaContainer,
  work: (engine: SchemaEngine) => Promise<T>,
): Promise<T> {
  const wasm = loadWasm();
  const pool = new pg.Pool({
    connectionString,
    Client: CharAsTextClient,
    application_name: 'customer-gateway-schema-engine',
  });
  // An idle client losing its connection must not crash the process with an unhandled 'error'.
  pool.on('error', () => {});
  let engine: SchemaEngine | undefined;
  try {
    engine = await wasm.SchemaEngine.new(
      { datamodels: [[schema.path, schema.content]] },
      () => {}, // the engine's JSON log lines; nothing in them we need
      bindMigrationAwareSqlAdapterFactory(adapterFactory(pool)),
    );
    return await work(engine);
  } catch (error) {
    throw engineError(error);
  } finally {
    engine?.free();
    await pool.end();
  }
}

/**
 * The driver adapter the engine gets: adapter-pg on our pool, with `"char"` columns reported
 * as what they are, and no shadow database. adapter-pg would create and drop one on the same
 * server; nothing here needs it, so asking for one is a bug we want to hear about.
 */
function adapterFactory(pool: pg.Pool): SqlMigrationAwareDriverAdapterFactory {
  // With an external pool, adapter-pg's dispose() leaves the pool alone: withEngine ends it.
  const inner = new PrismaPg(pool);
  return {
    provider: inner.provider,
    adapterName: inner.adapterName,
    connect: async () => reportCharColumns(await inner.connect()),
    connectToShadowDb: () =>
      Promise.reject(new SchemaEngineError('the schema engine asked for a shadow database, which this module never provides')),
  };
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL's "char" type
//
// adapter-pg maps a column's type OID to an engine column type and throws for OID 18 ("char"),
// whatever pg's type parsers return for the value. The engine in turn reads `contype`,
// `relkind` etc. as single characters and panics when handed text. So the pg client below
// relabels "char" columns as text (adapter-pg then accepts the value, a one-letter string) and
// remembers which ones they were, keyed by the result's rows array, which adapter-pg passes
// through untouched; the adapter wrapper then tells the engine they are characters.

const PG_CHAR_OID = 18;
const PG_TEXT_OID = 25;
const charColumnsByRows = new WeakMap<unknown[], number[]>();

function relabelCharColumns(result: unknown): void {
  // A multi-statement query yields one result per statement.
  for (const each of Array.isArray(result) ? result : [result]) {
    const { fields, rows } = (each ?? {}) as Partial<pg.QueryResult>;
    if (!fields || !rows) continue;
    const charColumns: number[] = [];
    fields.forEach((field, index) => {
      if (field.dataTypeID === PG_CHAR_OID) {
        field.dataTypeID = PG_TEXT_OID;
        charColumns.push(index);
      }
    });
    if (charColumns.length > 0) charColumnsByRows.set(rows, charColumns);
  }
}

type QueryCallback = (error: Error | null, result: unknown) => void;

/** A pg client whose results have their "char" columns relabelled; see above. */
class CharAsTextClient extends pg.Client {
  // pg.Client#query is heavily overloaded; we only intercept results and pass arguments through.
  override query(...args: any[]): any {
    const [config] = args;
    // Streams (cursors, COPY) produce no result object here.
    if (typeof config?.submit === 'function') return super.query(config);
    const last = args[args.length - 1];
    if (typeof last === 'function') {
      const callback = last as QueryCallback;
      const relabelling: QueryCallback = (error, result) => {
        if (!error) relabelCharColumns(result);
        callback(error, result);
      };
      return super.query(...(args.slice(0, -1) as [any, any]), relabelling);
    }
    return (super.query(...(args as [any, any])) as Promise<unknown>).then((result) => {
      relabelCharColumns(result);
      return result;
    });
  }
}

function withCharColumns(result: SqlResultSet): SqlResultSet {
  const charColumns = charColumnsByRows.get(result.rows);
  if (!charColumns) return result;
  const columnTypes = [...result.columnTypes];
  for (const index of charColumns) columnTypes[index] = ColumnTypeEnum.Character;
  return { ...result, columnTypes };
}

function fixQueryRaw<Q extends SqlQueryable>(queryable: Q): Q {
  const queryRaw = queryable.queryRaw.bind(queryable);
  queryable.queryRaw = async (query) => withCharColumns(await queryRaw(query));
  return queryable;
}

function reportCharColumns(adapter: SqlDriverAdapter): SqlDriverAdapter {
  fixQueryRaw(adapter);
  const startTransaction = adapter.startTransaction.bind(adapter);
  adapter.startTransaction = async (isolationLevel) => fixQueryRaw(await startTransaction(isolationLevel));
  return adapter;
}

// ---------------------------------------------------------------------------------------------
// Loading the WebAssembly

interface PanicRegistry {
  set_message(message: string): void;
}

declare global {
  // The wasm-bindgen glue reports a Rust panic here just before the WebAssembly traps.
  var PRISMA_WASM_PANIC_REGISTRY: PanicRegistry | undefined;
}

/**
 * The part of the WebAssembly global we use. @types/node does not declare it (only lib.dom does,
 * which this file should not depend on), so it is named here.
 */
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, object>) => { exports: Record<string, unknown> };
}

let loaded: typeof glue | undefined;
let lastPanic: string | undefined;

/**
 * Instantiates the engine once per process. The glue keeps the instance in module state (and
 * caches views of its memory), so it cannot be swapped for a fresh one later; after a panic the
 * instance may be broken, and we refuse to use it again rather than return wrong SQL.
 */
function loadWasm(): typeof glue {
  if (lastPanic !== undefined) {
    throw new SchemaEngineError(`the schema engine panicked earlier in this process: ${lastPanic}`);
  }
  if (loaded) return loaded;
  // Prisma Client's own WebAssembly may have installed a registry already; both only record.
  globalThis.PRISMA_WASM_PANIC_REGISTRY ??= {
    set_message: (message) => {
      lastPanic = message;
      // The trap that follows can surface as an unhandled rejection without this text.
      process.stderr.write(`prisma schema engine panic: ${message}\n`);
    },
  };
  // The `.wasm` is not in the package's exports; it sits beside the glue, which is.
  const gluePath = createRequire(import.meta.url).resolve('@prisma/schema-engine-wasm/schema_engine_bg');
  const bytes = readFileSync(path.join(path.dirname(gluePath), 'schema_engine_bg.wasm'));
  const { Module, Instance } = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;
  const instance = new Instance(new Module(bytes), { './schema_engine_bg.js': glue });
  glue.__wbg_set_wasm(instance.exports);
  (instance.exports as { __wbindgen_start: () => void }).__wbindgen_start();
  loaded = glue;
  return loaded;
}

function engineError(error: unknown): Error {
  if (error instanceof SchemaEngineError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const panic = lastPanic === undefined ? '' : ` (engine panic: ${lastPanic})`;
  return new SchemaEngineError(`schema engine: ${message}${panic}`, { cause: error });
}
