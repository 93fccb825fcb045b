import { readFileSync } from 'node:fs';
import { parse } from 'graphql';
import { describe, expect, it } from 'vitest';
import { printSchemaFile, printSubgraphFile, SCHEMA_FILE, SUBGRAPH_FILE } from '../../src/schema/print.ts';

describe('schema.graphql', () => {
  it('is the schema the server builds (run `npm run schema:print` after changing it)', () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(printSchemaFile());
  });

  it('stays clean for clients: nothing of Federation in it', () => {
    expect(printSchemaFile()).not.toMatch(/_service|_entities|_Any|_Entity|@key|@link/);
  });
});

describe('subgraph.graphql', () => {
  it('is what `_service { sdl }` answers (run `npm run schema:print` after changing the schema)', () => {
    expect(readFileSync(SUBGRAPH_FILE, 'utf8')).toBe(printSubgraphFile());
  });

  it('links Federation v2 and makes Customer an entity keyed by id', () => {
    const sdl = printSubgraphFile();
    expect(sdl).toMatch(/^extend schema\s+@link\(url: "https:\/\/specs\.apollo\.dev\/federation\/v2\.\d+", import: \["@key"\]\)/);
    const customer = parse(sdl).definitions.find((definition) => 'name' in definition && definition.name?.value === 'Customer');
    expect(customer && 'directives' in customer && customer.directives?.map((directive) => directive.name.value)).toEqual(['key']);
  });
});
