/** Imports every type's module, then builds the schema the server serves. */
import { subgraphSchema } from './federation.ts';
import './scalars.ts';
import './types/errors.ts';
import './types/customer-inputs.ts';
import './types/customer-change.ts';
import './types/customer-events.ts';
import './types/customer-change-event.ts';
import './types/customer.ts';
import './types/customer-queries.ts';
import './types/customer-mutations.ts';
import './types/password-policy.ts';
import './types/webhook-endpoint.ts';
import './types/webhook-endpoint-queries.ts';
import './types/webhook-endpoint-mutations.ts';

/** The client-facing types, and Federation's `_service` and `_entities` (federation.ts). */
export const schema = subgraphSchema();
