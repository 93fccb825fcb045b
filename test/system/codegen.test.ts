/**
 * GraphQL Code Generator as client teams run it: `codegen.ts` turns schema.graphql and the
 * example operations into typed documents, and the example client (examples/client, and the web
 * page on top of it) type-checks against them. A schema change that would break such clients
 * must fail here.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { generate } from '@graphql-codegen/cli';
import {
  Kind,
  buildSchema,
  isAbstractType,
  parse,
  print,
  visit,
  type ASTNode,
  type FieldDefinitionNode,
  type NonNullTypeNode,
  type ObjectTypeDefinitionNode,
  type UnionTypeDefinitionNode,
} from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientCodegenConfig } from '../../codegen.ts';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const SCHEMA = await readFile(path.join(ROOT, 'schema.graphql'), 'utf8');
const run = promisify(execFile);

let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(path.join(os.tmpdir(), 'cgw-codegen-'));
});
afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** Runs codegen.ts's configuration on a schema text, writing to a folder of its own. */
async function codegen(name: string, schemaText: string): Promise<string> {
  const schemaFile = path.join(folder, `${name}.graphql`);
  await writeFile(schemaFile, schemaText);
  const output = path.join(folder, name, 'generated');
  await generate({ ...clientCodegenConfig({ schema: schemaFile, output }), cwd: ROOT }, true);
  return output;
}

/**
 * `tsc --noEmit` over the examples (examples/tsconfig.json) with `@generated/*` pointing at the
 * given output; the exit code and the compiler's messages.
 */
async function typeCheckExamples(generated: string): Promise<{ code: number; messages: string }> {
  const tsconfig = path.join(path.dirname(generated), 'tsconfig.json');
  await writeFile(
    tsconfig,
    JSON.stringify({
      extends: path.join(ROOT, 'examples/tsconfig.json'),
      compilerOptions: {
        typeRoots: [path.join(ROOT, 'node_modules/@types')],
        paths: {
          '@generated/*': [`${generated}/*`],
          // The generated files sit outside the project, away from its node_modules.
          '@graphql-typed-document-node/core': [path.join(ROOT, 'node_modules/@graphql-typed-document-node/core')],
        },
      },
      include: [path.join(ROOT, 'examples/client'), path.join(ROOT, 'examples/web')],
    }),
  );
  try {
    const { stdout } = await run(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', tsconfig], { cwd: ROOT });
    return { code: 0, messages: stdout };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failure.code === 'number' ? failure.code : -1, messages: `${failure.stdout ?? ''}${failure.stderr ?? ''}` };
  }
}

/**
 * schema.graphql with one change made to one type, through its syntax tree (so the change lands
 * on the intended type whatever the file's order or descriptions); fails if the type is gone.
 */
function changedSchema(typeName: string, change: (type: ObjectTypeDefinitionNode | UnionTypeDefinitionNode) => ASTNode, addition = ''): string {
  let found = false;
  const document = visit(parse(SCHEMA), {
    enter(node) {
      if ((node.kind === Kind.OBJECT_TYPE_DEFINITION || node.kind === Kind.UNION_TYPE_DEFINITION) && node.name.value === typeName) {
        found = true;
        return change(node);
      }
      return undefined;
    },
  });
  expect(found, `schema.graphql has no type ${typeName}: update this test`).toBe(true);
  return `${print(document)}\n${addition}`;
}

/** The type with one field changed (or removed, when `change` returns null); fails if the field is gone. */
function withField(name: string, change: (field: FieldDefinitionNode) => FieldDefinitionNode | null) {
  return (type: ObjectTypeDefinitionNode | UnionTypeDefinitionNode): ASTNode => {
    const object = type as ObjectTypeDefinitionNode;
    const field = object.fields?.find((candidate) => candidate.name.value === name);
    expect(field, `${object.name.value}.${name} is gone: update this test`).toBeDefined();
    const fields = object.fields!.flatMap((candidate) => (candidate === field ? [change(candidate)].filter((f) => f !== null) : [candidate]));
    return { ...object, fields };
  };
}

describe('codegen.ts on schema.graphql', () => {
  it('generates typed documents for every example operation, and the examples type-check against them', async () => {
    const generated = await codegen('current', SCHEMA);
    const types = await readFile(path.join(generated, 'graphql.ts'), 'utf8');
    for (const document of ['CustomerDocument', 'CustomersDocument', 'UpdateCustomerDocument', 'CreateCustomerDocument', 'CustomerFieldsFragmentDoc']) {
      expect(types).toContain(`export const ${document} `);
    }
    // Decimal is a string on the way out, and a string or a number on the way in.
    expect(types).toMatch(/export type CustomerFieldsFragment = \{[^}]* storeCredit: string,/);
    expect(types).toMatch(/export type UpdateCustomerInput = \{[^}]*\n  storeCredit\?: string \| number \| null \| undefined;/);

    // possibleTypes for Apollo's cache: every union and interface of the schema, with its members.
    const schema = buildSchema(SCHEMA);
    const expected = Object.fromEntries(
      Object.values(schema.getTypeMap())
        .filter(isAbstractType)
        .map((type) => [type.name, schema.getPossibleTypes(type).map((member) => member.name).sort()]),
    );
    const { default: introspection } = await import(path.join(generated, 'possible-types.ts'));
    expect(introspection.possibleTypes).toEqual(expected);

    const check = await typeCheckExamples(generated);
    expect(check.messages).toBe('');
    expect(check.code).toBe(0);
  });
});

describe('a schema change that would break clients fails', () => {
  it('a new kind of error in the UpdateCustomerError union: the exhaustive switch over error kinds no longer compiles', async () => {
    const schema = changedSchema(
      'UpdateCustomerError',
      (union) => ({ ...union, types: [...((union as UnionTypeDefinitionNode).types ?? []), { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: 'QuotaExceededError' } }] }),
      'type QuotaExceededError implements Error { code: ErrorCode! message: String! path: [String!]! }\n',
    );
    const check = await typeCheckExamples(await codegen('new-error-kind', schema));
    expect(check.code).not.toBe(0);
    expect(check.messages).toMatch(/examples\/client\/customer-client\.ts\(\d+,\d+\): error TS2345: Argument of type '.*QuotaExceededError.*' is not assignable to parameter of type 'never'/);
  });

  it('errors becoming nullable: clients that read errors.length no longer compile', async () => {
    const schema = changedSchema(
      'UpdateCustomerPayload',
      withField('errors', (field) => ({ ...field, type: (field.type as NonNullTypeNode).type })),
    );
    expect(schema).toMatch(/errors: \[UpdateCustomerError!\]\n/);
    const check = await typeCheckExamples(await codegen('nullable-errors', schema));
    expect(check.code).not.toBe(0);
    expect(check.messages).toMatch(/examples\/client\/customer-client\.ts\(\d+,\d+\): error TS18047: 'errors' is possibly 'null'/);
  });

  it('a field the example operations select is removed: codegen itself refuses the documents', async () => {
    const schema = changedSchema('Customer', withField('phone', () => null));
    const failure = await codegen('removed-field', schema).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeDefined();
    expect(String((failure as Error).message ?? failure)).toMatch(/Cannot query field "phone" on type "Customer"/);
  });
});
