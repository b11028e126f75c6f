import { describe, expect, it } from 'vitest';
import { FilterError, matchesFilter, parseFilter } from '../../../src/simulator/identity/filter.ts';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

const alice = {
  id: '2819c223-7f76-453a-919d-413861904646',
  userName: 'Alice@Example.com',
  active: true,
  name: { givenName: 'Alice', familyName: 'Smith' },
  nickName: 'Al',
  emails: [
    { value: 'alice@sap.com', type: 'work' },
    { value: 'alice@home.org', type: 'home' },
  ],
  entitlements: ['Invoice', 'Expense'],
  meta: { created: '2024-03-01T10:00:00.000Z', lastModified: '2024-03-02T10:00:00.000Z' },
  [ENT]: {
    employeeNumber: 'E100',
    costCenter: 'CC1',
    startDate: '2021-11-17T00:00:00.000',
    manager: { value: 'm-1', employeeNumber: 'E1' },
  },
};
const bob = {
  id: '9c0b1e2a-0000-4000-8000-000000000001',
  userName: 'bob@example.com',
  active: false,
  name: { givenName: 'Bob', familyName: 'Jones' },
  emails: [{ value: 'bob@other.com', type: 'work' }],
  meta: { created: '2025-01-01T00:00:00.000Z' },
  [ENT]: { employeeNumber: 'E200', startDate: '2023-01-01T00:00:00.000' },
};
const users = [alice, bob];
const names = (filter: string): string[] => {
  const f = parseFilter(filter);
  return users.filter((u) => matchesFilter(f, u)).map((u) => u.name.givenName);
};

describe('SCIM filter: operators', () => {
  it.each([
    ['userName eq "alice@example.com"', ['Alice']],
    ['userName EQ "ALICE@EXAMPLE.COM"', ['Alice']],
    ['userName ne "alice@example.com"', ['Bob']],
    ['userName co "EXAMPLE"', ['Alice', 'Bob']],
    ['userName sw "al"', ['Alice']],
    ['userName ew ".COM"', ['Alice', 'Bob']],
    ['nickName pr', ['Alice']],
    ['active eq true', ['Alice']],
    ['active eq false', ['Bob']],
    ['meta.created gt "2024-12-31T00:00:00Z"', ['Bob']],
    ['meta.created ge "2024-03-01T10:00:00.000Z"', ['Alice', 'Bob']],
    ['meta.created lt "2024-03-01T10:00:00.001Z"', ['Alice']],
    ['meta.created le "2024-03-01T10:00:00Z"', ['Alice']],
    [`${ENT}:startDate gt "2022-01-01"`, ['Bob']],
    [`${ENT}:employeeNumber eq "e100"`, ['Alice']],
    [`${ENT}:manager.value eq "m-1"`, ['Alice']],
    [`${ENT}:costCenter pr`, ['Alice']],
    ['employeeNumber eq "E200"', ['Bob']],
    ['emails.value ew "sap.com"', ['Alice']],
    ['entitlements eq "invoice"', ['Alice']],
    [`id eq ${alice.id}`, ['Alice']],
    ['nickName eq null', ['Bob']],
    ['nickName ne "Al"', ['Bob']],
  ])('%s', (filter, expected) => {
    expect(names(filter)).toEqual(expected);
  });
});

describe('SCIM filter: logic, grouping and complex attributes', () => {
  it.each([
    ['active eq true and emails.value ew "sap.com"', ['Alice']],
    ['userName sw "bob" or userName sw "alice"', ['Alice', 'Bob']],
    ['not (active eq true)', ['Bob']],
    ['not active eq true', ['Bob']],
    ['userName sw "x" or userName sw "b" and active eq false', ['Bob']],
    ['(userName sw "a" or userName sw "b") and active eq false', ['Bob']],
    ['userName sw "a" or (userName sw "b" and active eq true)', ['Alice']],
    ['emails[type eq "WORK" and value ew "sap.com"]', ['Alice']],
    ['emails[type eq "home"]', ['Alice']],
    ['emails[type eq "work"] and not (name.familyName eq "smith")', ['Bob']],
    ['emails[value co "other" or value co "sap"]', ['Alice', 'Bob']],
    // Without brackets each condition may be met by a different email.
    ['emails.type eq "home" and emails.value ew "sap.com"', ['Alice']],
    ['emails[type eq "home" and value ew "sap.com"]', []],
  ])('%s', (filter, expected) => {
    expect(names(filter)).toEqual(expected);
  });
});

describe('SCIM filter: invalid filters', () => {
  it.each([
    [''],
    ['userName'],
    ['userName eq'],
    ['userName xx "a"'],
    ['userName eq "a" and'],
    ['(userName eq "a"'],
    ['userName eq "a")'],
    ['userName eq unquoted'],
    ['displayName eq "x"'],
    ['urn:foo:bar eq "x"'],
    [':test eq "x"'],
    ['active gt true'],
    ['userName co 5'],
    ['emails[not (type eq "work")]'],
    ['emails[type ne "work"]'],
    ['emails[value sw "C" and value ew "S"]'],
    ['emails[(type eq "work" or type eq "home")]'],
    ['emails[type eq "work"'],
    ['userName eq "unterminated'],
  ])('%s', (filter) => {
    expect(() => parseFilter(filter)).toThrow(FilterError);
  });

  it('parses the documented example', () => {
    const f = parseFilter('active eq true and emails.value ew "sap.com"');
    expect(f.kind).toBe('and');
  });
});
