/**
 * GraphQL Code Generator, as a team consuming this API would set it up: typed documents
 * (client-preset) for the example operations, checked against `schema.graphql`, plus the
 * `possibleTypes` that Apollo Client's cache needs to read union members through the `Error`
 * interface. `npm run codegen` writes them to `examples/generated/` (git-ignored).
 */
import type { CodegenConfig } from '@graphql-codegen/cli';

/** The configuration for a schema file and an output folder (the test points both elsewhere). */
export function clientCodegenConfig(options: { schema: string; output: string }): CodegenConfig {
  const output = options.output.endsWith('/') ? options.output : `${options.output}/`;
  return {
    schema: options.schema,
    documents: ['examples/operations/*.graphql'],
    // A document the schema does not support is an error, not a warning.
    ignoreNoDocuments: false,
    errorsOnly: true,
    silent: true,
    generates: {
      [output]: {
        preset: 'client',
        presetConfig: { fragmentMasking: false },
        config: {
          // How each custom scalar travels as JSON. `strictScalars`: a new scalar in the schema
          // fails generation until it is mapped here, instead of quietly becoming `any`.
          strictScalars: true,
          scalars: {
            DateTime: 'string',
            // Sent as a number or a string such as "12.5"; always returned as a string ("12.5000").
            Decimal: { input: 'string | number', output: 'string' },
            EmailAddress: 'string',
            IP: 'string',
            JSON: 'unknown',
            URL: 'string',
          },
          enumType: 'string-literal',
          useTypeImports: true,
          nonOptionalTypename: true,
        },
      },
      [`${output}possible-types.ts`]: {
        plugins: ['fragment-matcher'],
        config: { apolloClientVersion: 3, useExplicitTyping: true },
      },
    },
  };
}

export default clientCodegenConfig({ schema: 'schema.graphql', output: 'examples/generated/' });
