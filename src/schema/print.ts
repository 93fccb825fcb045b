import { fileURLToPath } from 'node:url';
import { printSchema } from 'graphql';
import { schema } from './index.ts';

export const SCHEMA_FILE = fileURLToPath(new URL('../../schema.graphql', import.meta.url));

/** The checked-in SDL; a test compares it with this so it never goes stale. */
export function printSchemaFile(): string {
  return `${printSchema(schema)}\n`;
}
