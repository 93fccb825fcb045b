/**
 * The change events that webhooks and the live feed send. An event is a row of the customer's
 * history (customer_changes); its type follows from the version that write produced.
 */

export const EVENT_TYPES = ['customer.created', 'customer.updated'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The type of the event whose write produced `version`: the creation is version 1. */
export function eventTypeOf(version: number): EventType {
  return version === 1 ? 'customer.created' : 'customer.updated';
}
