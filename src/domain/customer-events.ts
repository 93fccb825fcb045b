/** The change events a customer's history makes: one per committed write, typed by its version. */

export const EVENT_TYPES = ['customer.created', 'customer.updated'] as const;

export type EventType = (typeof EVENT_TYPES)[number];

/** Version 1 is the creation; every later version an update. */
export function eventTypeOf(version: number): EventType {
  return version === 1 ? 'customer.created' : 'customer.updated';
}
