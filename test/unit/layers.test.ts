/**
 * The layers' arrows point one way: http/ and schema/ -> domain/ -> infra/. The domain and the
 * schema never hold a pg pool: the database is reached through src/infra/database/ only.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../../src');

function sources(folder: string): string[] {
  return readdirSync(path.join(SRC, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => path.join(folder, file));
}

/** What a file imports, resolved to paths below src/ (packages as they are named). */
function importsOf(file: string): string[] {
  const text = readFileSync(path.join(SRC, file), 'utf8');
  return [...text.matchAll(/^(?:import|export)[^'"]*?from '([^']+)'|^import '([^']+)'/gm)].map(([, from, bare]) => {
    const target = (from ?? bare)!;
    return target.startsWith('.') ? path.relative(SRC, path.resolve(path.dirname(path.join(SRC, file)), target)) : target;
  });
}

const LAYERS = ['domain', 'schema', 'http', 'infra'] as const;
const MAY_IMPORT: Record<(typeof LAYERS)[number], readonly string[]> = {
  infra: ['infra', 'generated'],
  domain: ['domain', 'infra', 'generated'],
  // The Prisma client and where a request reads (Pothos' prisma plugin reads through them, as the
  // resolvers' context), and the one module of GraphQL errors, so each code is made in one place.
  schema: ['schema', 'domain', 'generated', 'infra/database/prisma.ts', 'infra/database/read-replicas.ts', 'http/graphql-errors.ts'],
  http: ['http', 'domain', 'infra'],
};

describe('layers', () => {
  for (const layer of LAYERS) {
    it(`${layer}/ imports only from ${MAY_IMPORT[layer].join(', ')}`, () => {
      const wrong = sources(layer).flatMap((file) =>
        importsOf(file)
          .filter((target) => !target.includes('node_modules') && /^(domain|schema|http|infra|generated|server|main|config)/.test(target))
          .filter((target) => !MAY_IMPORT[layer].some((allowed) => target === allowed || target.startsWith(`${allowed}/`)))
          .map((target) => `${file} -> ${target}`),
      );
      expect(wrong).toEqual([]);
    });
  }

  it('http/graphql-errors.ts, which the schema imports, imports neither the schema nor other http modules', () => {
    expect(importsOf('http/graphql-errors.ts').filter((target) => /^(schema|http)\//.test(target))).toEqual([]);
  });

  it('domain/ and schema/ never import pg nor reach the pool', () => {
    const wrong = [...sources('domain'), ...sources('schema')].filter(
      (file) => importsOf(file).includes('pg') || readFileSync(path.join(SRC, file), 'utf8').includes('databasePool'),
    );
    expect(wrong).toEqual([]);
  });
});
