/** The default password policy, rule by rule: what passwordWeaknesses accepts and what it says. */
import { dictionary } from '@zxcvbn-ts/language-common';
import { describe, expect, it } from 'vitest';
import { passwordWeaknesses, PASSWORD_POLICY } from '../../src/domain/passwords.ts';

describe('the default policy', () => {
  it('is 8 to 128 characters with a letter and a digit, not a common password', () => {
    expect(PASSWORD_POLICY).toMatchObject({ minLength: 8, maxLength: 128, requiresLetter: true, requiresDigit: true, rejectsCommonPasswords: true });
    expect(PASSWORD_POLICY.commonPasswordCount).toBeGreaterThan(30_000);
    expect(Object.isFrozen(PASSWORD_POLICY)).toBe(true);
  });

  it('accepts a password at the bounds with a letter and a digit', () => {
    expect(passwordWeaknesses('kq3vzmxw')).toEqual([]);
    expect(passwordWeaknesses(`a1${'q'.repeat(126)}`)).toEqual([]);
    // Letters of any alphabet count; length is in characters, not UTF-16 units.
    expect(passwordWeaknesses('пароль77')).toEqual([]);
    expect(passwordWeaknesses('😀😀😀😀😀😀a1')).toEqual([]);
  });

  it('names every rule a password breaks, and never the password itself', () => {
    expect(passwordWeaknesses('abc')).toEqual(['have at least 8 characters', 'contain a digit (0-9)']);
    expect(passwordWeaknesses('12345678901')).toEqual(['contain a letter']);
    expect(passwordWeaknesses('abcdefghij')).toEqual(['contain a digit (0-9)']);
    expect(passwordWeaknesses(`a1${'q'.repeat(127)}`)).toEqual(['have at most 128 characters']);
    expect(passwordWeaknesses('😀😀😀a1')).toEqual(['have at least 8 characters']);
    expect(passwordWeaknesses('')).toEqual(['have at least 8 characters', 'contain a letter', 'contain a digit (0-9)']);
    for (const password of ['abc', 'password1', 'Tr0ub4dor&3x'.repeat(12)]) {
      for (const reason of passwordWeaknesses(password)) expect(reason).not.toContain(password);
    }
  });

  it('refuses every common password that meets the other rules, in any case', () => {
    const eligible = dictionary['passwords-common'].filter((word) => [...word].length >= 8 && [...word].length <= 128 && /\p{L}/u.test(word) && /[0-9]/.test(word));
    expect(eligible.length).toBeGreaterThan(1000);
    for (const word of eligible) {
      expect(passwordWeaknesses(word)).toEqual(['not be a well-known common password']);
      expect(passwordWeaknesses(word.toUpperCase())).toEqual(['not be a well-known common password']);
    }
    for (const word of ['password1', 'PassWord1', 'Trustno1', 'QWERTY123']) expect(passwordWeaknesses(word), word).toEqual(['not be a well-known common password']);
  });

  it('a stricter policy is applied as given', () => {
    const strict = { ...PASSWORD_POLICY, minLength: 12, rejectsCommonPasswords: false };
    expect(passwordWeaknesses('kq3vzmxw', strict)).toEqual(['have at least 12 characters']);
    expect(passwordWeaknesses('password1234', strict)).toEqual([]);
  });
});
