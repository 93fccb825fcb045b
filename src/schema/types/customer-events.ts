/** CustomerEventType: the kinds of change event, named for GraphQL after the domain's (customer.created: CUSTOMER_CREATED). */
import { EVENT_TYPES, type EventType } from '../../domain/customer-events.ts';
import { builder } from '../builder.ts';

const DESCRIPTIONS = {
  'customer.created': 'A customer was created: the write that made version 1 (`customer.created` in webhook bodies).',
  'customer.updated': 'A customer was changed: every write after its creation (`customer.updated` in webhook bodies).',
} satisfies Record<EventType, string>;

export const CustomerEventType = builder.enumType('CustomerEventType', {
  description: 'The kinds of change event. An event is one committed write to a customer: its history entry.',
  values: Object.fromEntries(
    EVENT_TYPES.map((type) => [type.replace('.', '_').toUpperCase(), { value: type, description: DESCRIPTIONS[type] }]),
  ) as Record<string, { value: EventType; description: string }>,
});
