/** The PasswordPolicy type and the `passwordPolicy` query: the rules the server enforces, from the object it enforces them with. */
import { PASSWORD_POLICY, type PasswordPolicy } from '../../domain/passwords.ts';
import { builder } from '../builder.ts';

const PasswordPolicyType = builder.objectRef<Readonly<PasswordPolicy>>('PasswordPolicy').implement({
  description: 'The rules a new password must meet; a password breaking any of them is refused with PASSWORD_TOO_WEAK.',
  fields: (t) => ({
    minLength: t.exposeInt('minLength', { description: 'The fewest characters (Unicode code points) a password may have.' }),
    maxLength: t.exposeInt('maxLength', { description: 'The most characters (Unicode code points) a password may have.' }),
    requiresLetter: t.exposeBoolean('requiresLetter', { description: 'Whether a password needs at least one letter (of any alphabet).' }),
    requiresDigit: t.exposeBoolean('requiresDigit', { description: 'Whether a password needs at least one digit, 0 to 9.' }),
    rejectsCommonPasswords: t.exposeBoolean('rejectsCommonPasswords', {
      description: 'Whether well-known common passwords are refused, compared without regard to case.',
    }),
    commonPasswordCount: t.exposeInt('commonPasswordCount', { description: 'How many common passwords are refused.' }),
  }),
});

builder.queryField('passwordPolicy', (t) =>
  t.field({
    type: PasswordPolicyType,
    description: 'The password rules, for forms that check a password before sending it. Needs no token.',
    resolve: () => PASSWORD_POLICY,
  }),
);
