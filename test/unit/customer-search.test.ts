/** How `customers(filter: { name })` reads the text: anywhere in a name, at its start, or refused. */
import { describe, expect, it } from 'vitest';
import { CustomerFilterError, customerWhere, nameMatch } from '../../src/domain/customer-search.ts';

describe('name search', () => {
  it('looks anywhere in a name for text with 3 letters or digits in a row', () => {
    for (const name of ['smi', 'Smith', "O'Bri", 'Mary Ann', 'Last4242', '007', 'José', '王小明', '50%_Off']) {
      expect(nameMatch(name), name).toBe('contains');
    }
  });

  it('looks at the start of a name for shorter text, however long it is', () => {
    for (const name of ['L', 'Li', 'Wu', 'J.', "o'b", 'a b', 'a..', '50%', 'de la', '李娜']) {
      expect(nameMatch(name), name).toBe('startsWith');
    }
  });

  it('refuses text without a letter or digit', () => {
    for (const name of ['%', '_', '---', '. .', "'%_'"]) {
      expect(nameMatch(name), name).toBeNull();
      expect(() => customerWhere({ name }), name).toThrow(new CustomerFilterError('filter.name needs a letter or a digit'));
    }
  });

  it('compares with ILIKE on either name, % _ and \\ taken as themselves', () => {
    const either = (condition: object) => ({ AND: [{ OR: [{ firstName: condition }, { lastName: condition }] }] });
    expect(customerWhere({ name: ' 50%_Off ' })).toEqual(either({ contains: '50\\%\\_Off', mode: 'insensitive' }));
    expect(customerWhere({ name: 'a\\b' })).toEqual(either({ startsWith: 'a\\\\b', mode: 'insensitive' }));
  });

  it('reports every field it cannot compare at once', () => {
    expect(() => customerWhere({ name: '%%', email: 'a\u0000@b.c' })).toThrow(
      new CustomerFilterError('filter.email contains characters that cannot be stored; filter.name needs a letter or a digit'),
    );
  });
});
