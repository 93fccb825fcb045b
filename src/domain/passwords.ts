/**
 * The one password module: the policy a new password must meet, argon2id hashing with explicit
 * parameters, and random passwords. Nothing here ever puts a password or a hash in a message.
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { hash, verify, type Options } from '@node-rs/argon2';
import { dictionary } from '@zxcvbn-ts/language-common';
import pLimit from 'p-limit';
import { Overloaded } from './errors.ts';

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

/**
 * How much argon2 work may wait: in all, and per owner (an API token). Past either, a request is
 * refused at once as Overloaded (503 with Retry-After) instead of queueing behind work that
 * cannot finish soon; a token cannot fill the queue for everyone else.
 */
export interface HashingLimits {
  maxQueued: number;
  maxPerOwner: number;
}

export const DEFAULT_HASHING_LIMITS: Readonly<HashingLimits> = Object.freeze({ maxQueued: 64, maxPerOwner: 20 });
let limits: HashingLimits = { ...DEFAULT_HASHING_LIMITS };
const inFlightByOwner = new Map<string, number>();
let runs = 0;

export function setHashingLimits(next: Partial<HashingLimits>): void {
  limits = { ...limits, ...next };
}

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

/** How many hashes and verifications this process has computed (tests count what a request cost). */
export function argon2Runs(): number {
  return runs;
}

/**
 * Queues `count` pieces of argon2 work for `owner`, all or none: a batch's passwords are refused
 * together rather than half hashed.
 */
function schedule<T>(owner: string | undefined, work: Array<() => Promise<T>>): Promise<T[]> {
  const held = owner === undefined ? 0 : (inFlightByOwner.get(owner) ?? 0);
  const waitingAfter = hashing.pendingCount + Math.max(0, work.length - Math.max(0, HASH_CONCURRENCY - hashing.activeCount));
  if (waitingAfter > limits.maxQueued || held + work.length > limits.maxPerOwner) {
    return Promise.reject(new Overloaded('Too many password changes are waiting to be hashed; retry shortly', 1_000));
  }
  if (owner !== undefined) inFlightByOwner.set(owner, held + work.length);
  return Promise.all(
    work.map((task) =>
      hashing(() => {
        runs += 1;
        return task();
      }).finally(() => {
        if (owner === undefined) return;
        const left = (inFlightByOwner.get(owner) ?? 1) - 1;
        if (left > 0) inFlightByOwner.set(owner, left);
        else inFlightByOwner.delete(owner);
      }),
    ),
  );
}

export async function hashPassword(password: string, owner?: string): Promise<string> {
  return (await schedule(owner, [() => hash(password, ARGON2_PARAMETERS)]))[0]!;
}

/** Hashes several passwords for one owner, all admitted to the queue or none. */
export function hashPasswords(passwords: readonly string[], owner?: string): Promise<string[]> {
  return passwords.length === 0 ? Promise.resolve([]) : schedule(owner, passwords.map((password) => () => hash(password, ARGON2_PARAMETERS)));
}

export async function verifyPassword(passwordHash: string, password: string, owner?: string): Promise<boolean> {
  return (await schedule(owner, [() => verify(passwordHash, password)]))[0]!;
}

/** A strong random password (192 random bits) for customers created without one; never shown. */
export function generatePassword(): string {
  // The trailing letter and digit satisfy any policy that insists on both.
  return `${randomBytes(24).toString('base64url')}9a`;
}
