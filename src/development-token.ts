/**
 * The development token `npm start` prints: created once and kept. The database keeps only its
 * hash, so the secret itself is kept in a 0600 file in the data folder and reused while it
 * still authenticates (it stops when revoked, or when the database was reset).
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { authenticate, createToken } from './domain/tokens.ts';
import type { Database } from './infra/database/prisma.ts';

export const DEVELOPMENT_TOKEN_NAME = 'development';

export function developmentTokenFile(dataDir: string): string {
  return path.join(dataDir, 'dev-token');
}

export async function ensureDevelopmentToken(db: Database, dataDir: string): Promise<{ secret: string; created: boolean }> {
  const file = developmentTokenFile(dataDir);
  const kept = await readFile(file, 'utf8').then(
    (text) => text.trim(),
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    },
  );
  if (kept) {
    const principal = await authenticate(db, kept);
    if (principal?.scopes.has('customers:write')) return { secret: kept, created: false };
  }
  // Names are unique and a revoked token keeps its name: take the first free one.
  const taken = new Set(
    (await db.apiToken.findMany({ where: { name: { startsWith: DEVELOPMENT_TOKEN_NAME } }, select: { name: true } })).map((t) => t.name),
  );
  let name = DEVELOPMENT_TOKEN_NAME;
  for (let n = 2; taken.has(name); n++) name = `${DEVELOPMENT_TOKEN_NAME}-${n}`;
  const { secret } = await createToken(db, name, ['customers:write']);
  await mkdir(dataDir, { recursive: true });
  const partial = `${file}.${process.pid}.tmp`;
  await writeFile(partial, `${secret}\n`, { mode: 0o600 });
  await chmod(partial, 0o600);
  await rename(partial, file);
  return { secret, created: true };
}
