/**
 * The one password module: argon2id hashing with explicit parameters and random passwords.
 * @node-rs/argon2 hashes on libuv's thread pool, off the event loop.
 */
import { randomBytes } from 'node:crypto';
import { hash, verify, type Options } from '@node-rs/argon2';

/** OWASP's argon2id minimum: 19 MiB, 2 iterations, 1 lane. */
export const ARGON2_PARAMETERS: Options = {
  // Algorithm.Argon2id: the package declares its enum `const`, which isolated modules cannot read.
  algorithm: 2,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
};

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_PARAMETERS);
}

export function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  return verify(passwordHash, password);
}

/** A strong random password for customers created without one; it is hashed and never shown. */
export function generatePassword(): string {
  return `${randomBytes(24).toString('base64url')}9a`;
}
