import { describe, expect, it } from 'vitest';
import type { ConcurUser } from '../../../src/shared/concur/index.ts';
import { matchPerson, type MatchKey, type PersonMatch } from '../../../src/shared/identity/decide.ts';
import type { LookupResult } from '../../../src/shared/identity/lookup.ts';
import type { NormalizedRow } from '../../../src/shared/mapping/types.ts';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

function user(id: string, userName: string, employeeNumber: string | undefined, active = true): ConcurUser {
  return { id, userName, active, [ENT]: employeeNumber === undefined ? {} : { employeeNumber } } as ConcurUser;
}

/** What a look-up returns; each person is indexed as a separate object per key, like two searches would. */
function people(...users: ConcurUser[]): LookupResult {
  const result: LookupResult = { byUserName: new Map(), byEmployeeNumber: new Map() };
  for (const u of users) {
    result.byUserName.set(String(u.userName).toLowerCase(), { ...u });
    const n = (u[ENT] as { employeeNumber?: string }).employeeNumber;
    if (n) result.byEmployeeNumber.set(n, { ...u });
  }
  return result;
}

function row(userName: string, employeeNumber: string, extra: Partial<NormalizedRow> = {}): NormalizedRow {
  return { rowNumber: 1, userName, employeeNumber, givenName: 'G', familyName: 'F', email: 'x@example.com', ...extra };
}

const kind = (m: PersonMatch) => (m.kind === 'match' ? `match ${m.user.id}` : m.kind === 'new' ? 'new' : m.error.code);

describe('matching policy (MATCH_ON=employeeNumber)', () => {
  const former = user('u-old', 'jsmith@example.com', 'OLD-1001', false);

  it('matches by employeeNumber, creates when nobody has either key', () => {
    const known = user('u1', 'a@example.com', 'E1');
    expect(kind(matchPerson(row('A@example.com', 'E1'), people(known)))).toBe('match u1');
    expect(kind(matchPerson(row('new@example.com', 'E9'), people(known)))).toBe('new');
  });

  it('a recycled login is a conflict naming both people, not an update of the former employee', () => {
    const m = matchPerson(row('jsmith@example.com', 'NEW-2002'), people(former));
    expect(m.kind).toBe('conflict');
    if (m.kind !== 'conflict') return;
    expect(m.error.code).toBe('PROV_ERR_IDENTITY_CONFLICT');
    expect(m.error.message).toContain('u-old (employeeNumber OLD-1001, inactive)');
    expect(m.error.message).toContain('no Concur person has employeeNumber NEW-2002');
    expect(m.error.message).not.toContain('jsmith');
    expect(m.error.details.people).toEqual([{ id: 'u-old', employeeNumber: 'OLD-1001', active: false }]);
  });

  it('two people swapping logins: both rows conflict, each naming the other person', () => {
    const a = user('ua', 'a@example.com', 'E1');
    const b = user('ub', 'b@example.com', 'E2');
    const found = people(a, b);
    const first = matchPerson(row('b@example.com', 'E1'), found);
    const second = matchPerson(row('a@example.com', 'E2'), found);
    expect([kind(first), kind(second)]).toEqual(['PROV_ERR_IDENTITY_CONFLICT', 'PROV_ERR_IDENTITY_CONFLICT']);
    if (first.kind === 'conflict') {
      expect(first.error.message).toMatch(/belongs to Concur user ub .* but the row is Concur user ua/);
      expect((first.error.details.people as { id: string }[]).map((p) => p.id)).toEqual(['ua', 'ub']);
    }
  });

  it('a login change needs previousUserName; with it the person is matched (also after the change)', () => {
    const p = user('u1', 'old@example.com', 'E1');
    expect(kind(matchPerson(row('new@example.com', 'E1'), people(p)))).toBe('PROV_ERR_IDENTITY_CONFLICT');
    const explicit = row('new@example.com', 'E1', { previousUserName: 'OLD@example.com' });
    expect(kind(matchPerson(explicit, people(p)))).toBe('match u1');
    const done = user('u1', 'new@example.com', 'E1');
    expect(kind(matchPerson(explicit, people(done)))).toBe('match u1');
  });

  it('a rehire keeps the old profile only through previousEmployeeNumber', () => {
    const explicit = row('jsmith@example.com', 'NEW-2002', { previousEmployeeNumber: 'OLD-1001' });
    expect(kind(matchPerson(explicit, people(former)))).toBe('match u-old');
    // Re-run after the change: the new number finds the same person.
    expect(kind(matchPerson(explicit, people(user('u-old', 'jsmith@example.com', 'NEW-2002'))))).toBe('match u-old');
  });

  it('an explicit change is refused when the new key is another person, and fails when nobody has the old one', () => {
    const a = user('ua', 'a@example.com', 'E1');
    const b = user('ub', 'b@example.com', 'E2');
    const taken = matchPerson(row('a@example.com', 'E2', { previousEmployeeNumber: 'E1' }), people(a, b));
    expect(kind(taken)).toBe('PROV_ERR_IDENTITY_CONFLICT');
    const nobody = matchPerson(row('z@example.com', 'E8', { previousEmployeeNumber: 'E7' }), people(a));
    expect(kind(nobody)).toBe('PROV_ERR_IDENTITY_CONFLICT');
    if (nobody.kind === 'conflict') expect(nobody.error.message).toContain('no Concur person has it');
    const nobodyByLogin = matchPerson(row('z@example.com', 'E8', { previousUserName: 'y@example.com' }), people(a));
    expect(kind(nobodyByLogin)).toBe('PROV_ERR_IDENTITY_CONFLICT');
  });

  it('a previousUserName that belongs to someone else than the matched person is a conflict', () => {
    const a = user('ua', 'a@example.com', 'E1');
    const b = user('ub', 'b@example.com', 'E2');
    expect(kind(matchPerson(row('c@example.com', 'E1', { previousUserName: 'b@example.com' }), people(a, b)))).toBe(
      'PROV_ERR_IDENTITY_CONFLICT',
    );
  });
});

describe('matching policy (MATCH_ON=userName)', () => {
  const on: MatchKey = 'userName';

  it('matches by login; a different employeeNumber is a conflict unless previousEmployeeNumber says so', () => {
    const p = user('u1', 'a@example.com', 'E1');
    expect(kind(matchPerson(row('a@example.com', 'E1'), people(p), on))).toBe('match u1');
    expect(kind(matchPerson(row('a@example.com', 'E5'), people(p), on))).toBe('PROV_ERR_IDENTITY_CONFLICT');
    expect(kind(matchPerson(row('a@example.com', 'E5', { previousEmployeeNumber: 'E1' }), people(p), on))).toBe(
      'match u1',
    );
  });

  it('a person without an employeeNumber gets one (nothing to protect), a number held by another login conflicts', () => {
    expect(kind(matchPerson(row('a@example.com', 'E1'), people(user('u1', 'a@example.com', undefined)), on))).toBe(
      'match u1',
    );
    const m = matchPerson(row('new@example.com', 'E1'), people(user('u1', 'a@example.com', 'E1')), on);
    expect(kind(m)).toBe('PROV_ERR_IDENTITY_CONFLICT');
    if (m.kind === 'conflict') expect(m.error.message).toContain('previousUserName');
  });
});
