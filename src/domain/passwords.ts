/**
 * The one password module: the policy a new password must meet, argon2id hashing with explicit
 * parameters, and random passwords. Nothing here ever puts a password or a hash in a message.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { hash, verify, type Options } from '@node-rs/argon2';
import { dictionary } from '@zxcvbn-ts/language-common';
import pLimit from 'p-limit';

/** OWASP's argon2id minimum: 19 MiB, 2 iterations, 1 lane. */
export const ARGON2_PARAMETERS: Options = {
  // Algorithm.Argon2id: the package declares its enum `const`, which isolated modules cannot read.
  algorithm: 2,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
};

/**
 * @node-rs/argon2 hashes on libuv's thread pool, off the event loop. Each hash holds a core and
 * 19 MiB for tens of milliseconds, so a burst of password writes waits its turn here instead of
 * starving the pool (which file and DNS work share) and the memory. libuv's pool has 4 threads.
 */
export const HASH_CONCURRENCY = Math.max(1, Math.min(os.availableParallelism(), 4));
const hashing = pLimit(HASH_CONCURRENCY);

/** The rules a new password must meet; the `passwordPolicy` query shows this very object. */
export interface PasswordPolicy {
  /** In characters (Unicode code points). */
  minLength: number;
  maxLength: number;
  requiresLetter: boolean;
  requiresDigit: boolean;
  /** Refuses passwords on a list of well-known ones, without regard to case. */
  rejectsCommonPasswords: boolean;
  /** How many passwords that list holds. */
  commonPasswordCount: number;
}

const COMMON_PASSWORDS: ReadonlySet<string> = new Set(dictionary['passwords-common'].map((word) => word.toLowerCase()));

export const PASSWORD_POLICY: Readonly<PasswordPolicy> = Object.freeze({
  // BigCommerce asks for 7 characters with a letter and a digit; ours is one longer.
  minLength: 8,
  // Bounds the work one request can ask of argon2 as well.
  maxLength: 128,
  requiresLetter: true,
  requiresDigit: true,
  rejectsCommonPasswords: true,
  commonPasswordCount: COMMON_PASSWORDS.size,
});

const LETTER = /\p{L}/u;
const DIGIT = /[0-9]/;

/** What a refused password must do, in words for people ("have at least 8 characters"); empty when it is acceptable. */
export function passwordWeaknesses(password: string, policy: Readonly<PasswordPolicy> = PASSWORD_POLICY): string[] {
  const length = [...password].length;
  const reasons: string[] = [];
  if (length < policy.minLength) reasons.push(`have at least ${policy.minLength} characters`);
  if (length > policy.maxLength) reasons.push(`have at most ${policy.maxLength} characters`);
  if (policy.requiresLetter && !LETTER.test(password)) reasons.push('contain a letter');
  if (policy.requiresDigit && !DIGIT.test(password)) reasons.push('contain a digit (0-9)');
  if (reasons.length === 0 && policy.rejectsCommonPasswords && COMMON_PASSWORDS.has(password.toLowerCase())) {
    reasons.push('not be a well-known common password');
  }
  return reasons;
}

/** Hashes being computed and hashes waiting for a turn (for metrics and tests). */
export function hashingLoad(): { running: number; waiting: number } {
  return { running: hashing.activeCount, waiting: hashing.pendingCount };
}

export function hashPassword(password: string): Promise<string> {
  return hashing(() => hash(password, ARGON2_PARAMETERS));
}

export function verifyPassword(passwordHash: string, password: string): Promise<boolean> {
  return hashing(() => verify(passwordHash, password));
}

/** A strong random password (192 random bits) for customers created without one; never shown. */
export function generatePassword(): string {
  // The trailing letter and digit satisfy any policy that insists on both.
  return `${randomBytes(24).toString('base64url')}9a`;
}
