/**
 * One mutation root field per operation. Aliases would otherwise let one request run the same
 * write many times (each a batch of passwords to hash), counted as one request by the rate limit.
 * More is refused before anything runs: 400 BAD_REQUEST.
 */
import { Kind, type ASTVisitor, type FragmentDefinitionNode, type SelectionSetNode, type ValidationContext } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { badRequest } from './graphql-errors.ts';

/** The fields a selection set asks for at its own level, through fragments; `__typename` is free. */
function rootFields(selectionSet: SelectionSetNode, fragments: (name: string) => FragmentDefinitionNode | null | undefined, seen = new Set<string>()): number {
  let count = 0;
  for (const selection of selectionSet.selections) {
    if (selection.kind === Kind.FIELD) count += selection.name.value === '__typename' ? 0 : 1;
    else if (selection.kind === Kind.INLINE_FRAGMENT) count += rootFields(selection.selectionSet, fragments, seen);
    else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      const fragment = fragments(selection.name.value);
      if (fragment) count += rootFields(fragment.selectionSet, fragments, seen);
    }
  }
  return count;
}

export function singleMutationFieldRule(context: ValidationContext): ASTVisitor {
  return {
    OperationDefinition(node) {
      if (node.operation !== 'mutation') return;
      if (rootFields(node.selectionSet, (name) => context.getFragment(name)) > 1) {
        context.reportError(badRequest('An operation may run one mutation field; send each write as its own operation.'));
      }
    },
  };
}

export function useSingleMutationField(): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(singleMutationFieldRule);
    },
  };
}
