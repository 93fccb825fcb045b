/**
 * The rules of webhook delivery that need no database or network: what is sent, when a failed
 * attempt is tried again, and what an answer means. Standard Webhooks (standardwebhooks.com)
 * fixes the headers and the signature; the body and the schedule are this service's.
 */
import type { CustomerChange } from '../generated/prisma/client.ts';
import type { FieldChange } from './customer-history.ts';
import { eventTypeOf } from './customer-events.ts';

/** Seconds after each failed attempt before the next: about 52 hours in all, then FAILED. */
export const DEFAULT_RETRY_SCHEDULE_SECONDS: readonly number[] = [5, 300, 1_800, 7_200, 18_000, 36_000, 36_000, 86_400];

/** Each wait is this much longer or shorter at random, so retries of many events spread out. */
export const RETRY_JITTER = 0.1;

/** "5,300,1800": seconds, each positive; the error says what is wrong. */
export function parseRetrySchedule(text: string): number[] {
  const parts = text.split(',').map((part) => part.trim());
  const seconds = parts.map(Number);
  if (parts.length === 0 || parts.length > 50 || seconds.some((value, index) => parts[index] === '' || !Number.isFinite(value) || value <= 0 || value > 30 * 86_400)) {
    throw new Error('a comma-separated list of 1 to 50 waits in seconds, each above 0 and at most 30 days, e.g. "5,300,1800"');
  }
  return seconds;
}

export type AttemptOutcome =
  | { kind: 'delivered' }
  /** Tried again after `delayMs`. */
  | { kind: 'retry'; delayMs: number }
  /** No attempt left: FAILED. */
  | { kind: 'failed' }
  /** 410 Gone: the receiver asks to be sent nothing more; the endpoint is disabled. */
  | { kind: 'gone' };

/**
 * What to do after attempt number `attempt` (from 1) answered `status` (null: no answer: a
 * timeout, a refused connection, a forbidden address). `random` is in [0, 1).
 */
export function outcomeOf(status: number | null, attempt: number, schedule: readonly number[], random: number = Math.random()): AttemptOutcome {
  if (status !== null && status >= 200 && status < 300) return { kind: 'delivered' };
  if (status === 410) return { kind: 'gone' };
  const wait = schedule[attempt - 1];
  if (wait === undefined) return { kind: 'failed' };
  return { kind: 'retry', delayMs: Math.round(wait * 1_000 * (1 + RETRY_JITTER * (2 * random - 1))) };
}

/** The JSON body of an event's delivery: the same bytes on every attempt and redelivery. */
export function deliveryBody(event: Pick<CustomerChange, 'id' | 'customerId' | 'version' | 'at' | 'actor' | 'changes'>): string {
  const at = new Date(event.at).toISOString();
  return JSON.stringify({
    type: eventTypeOf(event.version),
    timestamp: at,
    data: {
      eventId: String(event.id),
      customerId: String(event.customerId),
      version: event.version,
      actor: event.actor,
      at,
      changes: (event.changes as unknown as FieldChange[]).map(({ field, from, to }) => ({ field, from, to })),
    },
  });
}
