import { describe, expect, it } from 'vitest';
import type { ConcurUser } from '../../../src/shared/concur/index.ts';
import { activeChangeHoldReason, DEFAULT_GUARDS } from '../../../src/shared/guards/limits.ts';
import { decideIdentity, staleReason } from '../../../src/shared/identity/decide.ts';
import type { NormalizedRow } from '../../../src/shared/mapping/types.ts';
import { parseAsOf } from '../../../src/shared/mapping/validate.ts';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const T = Date.parse('2026-11-20T00:00:00Z');
const HOUR = 3600 * 1000;

function user(active: boolean, department = 'Engineering'): ConcurUser {
  return {
    id: 'u1',
    userName: 'a@example.com',
    active,
    name: { givenName: 'G', familyName: 'F' },
    emails: [{ value: 'a@example.com', type: 'work' }],
    [ENT]: { employeeNumber: 'E1', department },
  } as unknown as ConcurUser;
}

function row(extra: Partial<NormalizedRow> = {}): NormalizedRow {
  return {
    rowNumber: 1,
    userName: 'a@example.com',
    employeeNumber: 'E1',
    givenName: 'G',
    familyName: 'F',
    email: 'a@example.com',
    ...extra,
  };
}

describe('as-of decision table', () => {
  it.each([
    // row as-of, last applied, stale?
    [T - HOUR, T, true],
    [T, T, false],
    [T + HOUR, T, false],
    [undefined, T, false],
    [T, undefined, false],
    [undefined, undefined, false],
  ])('row as of %s, last applied %s: stale %s', (rowAsOf, last, stale) => {
    expect(staleReason(rowAsOf, last) !== undefined).toBe(stale);
  });

  it('an older row for a present person is stale whatever it would change; nothing is written', () => {
    const older = row({ asOf: T - HOUR, active: true });
    const d = decideIdentity(older, user(false), undefined, T);
    expect(d.kind).toBe('stale');
    expect(d.kind === 'stale' && d.reason).toMatch(
      /row as of 2026-11-19T23:00:00.000Z, last applied as of 2026-11-20T00:00:00.000Z/,
    );
    // Even when it would change nothing: it is still not the person's data any more.
    expect(decideIdentity(row({ asOf: T - HOUR }), user(true), undefined, T).kind).toBe('stale');
  });

  it('a newer or equal row is decided as before; an absent person is created whatever the as-of', () => {
    expect(decideIdentity(row({ asOf: T, department: 'Finance' }), user(true), undefined, T)).toMatchObject({
      kind: 'patch',
      action: 'update',
    });
    expect(decideIdentity(row({ asOf: T - HOUR }), undefined, undefined, T).kind).toBe('create');
    expect(decideIdentity(row({ asOf: T - HOUR, active: false }), undefined, undefined, T).kind).toBe('skip');
  });

  it('marks re-activations (active=true for an inactive person), not deactivations nor an empty active cell', () => {
    expect(decideIdentity(row({ active: true }), user(false))).toMatchObject({ kind: 'patch', reactivating: true });
    const deactivating = decideIdentity(row({ active: false }), user(true));
    expect(deactivating).toMatchObject({ kind: 'patch', action: 'deactivate' });
    expect(deactivating.kind === 'patch' && deactivating.reactivating).toBeFalsy();
    const untouched = decideIdentity(row({ department: 'Finance' }), user(false));
    expect(untouched.kind === 'patch' && untouched.reactivating).toBeFalsy();
  });
});

describe('the deactivation guard counts re-activations', () => {
  const limits = { ...DEFAULT_GUARDS, maxDeactivations: 5, maxDeactivationPercent: 20, minRows: 50 };
  it('judges deactivations plus re-activations against both limits', () => {
    expect(activeChangeHoldReason(10, 2, 3, limits)).toBeUndefined();
    expect(activeChangeHoldReason(10, 0, 6, limits)).toMatch(
      /6 rows re-activate and 0 deactivate .* MAX_DEACTIVATIONS=5/,
    );
    expect(activeChangeHoldReason(10, 3, 3, limits)).toMatch(/\(6 in all\)/);
    expect(activeChangeHoldReason(100, 0, 5, { ...limits, maxDeactivations: 500 })).toBeUndefined();
    expect(activeChangeHoldReason(100, 10, 11, { ...limits, maxDeactivations: 500 })).toMatch(
      /21 of 100 rows, 21%\), more than MAX_DEACTIVATION_PERCENT=20%/,
    );
  });
});

describe('asOf cells', () => {
  it.each([
    ['2026-11-20', '2026-11-20T00:00:00.000Z'],
    ['2026-11-20T17:30Z', '2026-11-20T17:30:00.000Z'],
    ['2026-11-20T17:30:05+01:00', '2026-11-20T16:30:05.000Z'],
    ['2026-11-20 17:30:05.123-0500', '2026-11-20T22:30:05.000Z'],
    ['2026-11-20T17:30:05', '2026-11-20T17:30:05.000Z'],
  ])('%s is %s', (cell, expected) => {
    const r = parseAsOf(cell);
    expect('value' in r && new Date(r.value).toISOString()).toBe(expected);
  });

  it.each(['20.11.2026', '2026-02-30', '2026-11-20T25:00Z', 'yesterday', '2026-11-20T10:61'])(
    '%s is refused',
    (cell) => {
      expect(parseAsOf(cell)).toHaveProperty('reason');
    },
  );
});
