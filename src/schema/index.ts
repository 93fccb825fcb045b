/** Imports every type's module, then builds the schema. */
import { lexicographicSortSchema } from 'graphql';
import { builder } from './builder.ts';
import './scalars.ts';
import './types/customer.ts';

export const schema = lexicographicSortSchema(builder.toSchema());
