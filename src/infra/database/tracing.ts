/**
 * A span for each database statement, whichever path sends it: node-postgres' `Client` is patched
 * by @opentelemetry/instrumentation-pg, so Prisma's statements (through its pg adapter) and ours
 * (sql.ts, the token lookup, rate-limit counters) get one `pg.query` span each. Its patch is
 * applied to the `pg` module this process imported, not through a require hook, so it works in the
 * esbuild bundle too. Prisma's own spans (@prisma/instrumentation) name the operation around its
 * statements. Statements outside a traced request (change feed, webhook queue) get no span.
 *
 * Only loaded when tracing is on (src/tracing.ts).
 */
import type { TracerProvider } from '@opentelemetry/api';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { PrismaInstrumentation } from '@prisma/instrumentation';
import pg from 'pg';

/** Starts the spans; the function returned stops them. */
export function traceStatements(provider: TracerProvider): () => void {
  const statements = new PgInstrumentation({ enabled: false, requireParentSpan: true });
  statements.setTracerProvider(provider);
  const client = statements.getModuleDefinitions().find((definition) => definition.name === 'pg');
  if (!client?.patch || !client.unpatch) throw new Error('@opentelemetry/instrumentation-pg no longer patches the pg module');
  client.patch(pg);

  // The statement itself is pg's span: Prisma's copy of it would only double it.
  const prisma = new PrismaInstrumentation({ enabled: false, ignoreSpanTypes: ['prisma:client:db_query'] });
  prisma.setTracerProvider(provider);
  prisma.enable();

  return () => {
    prisma.disable();
    client.unpatch!(pg);
  };
}
