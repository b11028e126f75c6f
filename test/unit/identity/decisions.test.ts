import { describe, expect, it } from 'vitest';
import type { ConcurUser } from '../../../src/shared/concur/index.ts';
import { ProvError } from '../../../src/shared/errors.ts';
import { findExisting } from '../../../src/shared/identity/decide.ts';
import type { LookupResult } from '../../../src/shared/identity/lookup.ts';
import type { NormalizedRow } from '../../../src/shared/mapping/types.ts';
import {
  chunkGoesOn,
  decideWrite,
  failsRow,
  identityEndState,
  reference,
  waitForManager,
  waitsForManagerLink,
  type Reference,
  type WaitAnswer,
  type WriteStep,
} from '../../../src/workers/identity/decisions.ts';

/*
 * The identity stage's per-row decisions, table by table (docs/architecture.md#identity-decisions):
 * each row of a table is the facts the processor gathered and what it must do next.
 */

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

function person(n: number, extra: Partial<NormalizedRow> = {}): NormalizedRow {
  return {
    rowNumber: n,
    userName: `p${n}@example.com`,
    employeeNumber: `E${n}`,
    givenName: 'Given',
    familyName: `Family${n}`,
    email: `p${n}@example.com`,
    active: true,
    ...extra,
  };
}

/** The Concur user a row describes exactly (what Concur holds after the row was written). */
function userOf(row: NormalizedRow, id = `u${row.rowNumber}`, extra: Record<string, unknown> = {}): ConcurUser {
  return {
    id,
    userName: row.userName,
    active: row.active ?? true,
    name: { givenName: row.givenName, familyName: row.familyName },
    emails: [{ value: row.email, type: 'work' }],
    [ENT]: { employeeNumber: row.employeeNumber },
    ...extra,
  } as ConcurUser;
}

function lookup(...users: ConcurUser[]): LookupResult {
  const result: LookupResult = { byUserName: new Map(), byEmployeeNumber: new Map() };
  for (const u of users) {
    result.byUserName.set(String(u.userName).toLowerCase(), u);
    const n = (u[ENT] as { employeeNumber?: string }).employeeNumber;
    if (n) result.byEmployeeNumber.set(n, u);
  }
  return result;
}

const spend = { spend: { country: 'US', reimbursementCurrency: 'USD' } } as Partial<NormalizedRow>;

/** A step as a short word: what the tables compare. */
function said(step: WriteStep): string {
  switch (step.kind) {
    case 'patch':
      return `patch ${step.action} ${step.decision.changes.map((c) => c.path).join(',')}`;
    case 'keep':
      return `keep ${step.action}${step.left ? ' left' : ''}`;
    case 'fail':
      return `fail ${step.error.code}`;
    default:
      return step.kind;
  }
}

describe('the write a row asks for', () => {
  const p1 = person(1);
  const cases: { name: string; row: NormalizedRow; concur: ConcurUser | undefined; manager?: string; step: string }[] =
    [
      { name: 'create: nobody in Concur', row: p1, concur: undefined, step: 'create' },
      { name: 'unchanged: Concur holds the row', row: p1, concur: userOf(p1), step: 'keep unchanged' },
      {
        name: 'patch: only what differs',
        row: person(1, { familyName: 'Married' }),
        concur: userOf(p1),
        step: 'patch update name.familyName',
      },
      {
        name: 'patch: the manager link, known now',
        row: person(1, { managerEmployeeNumber: 'E9' }),
        concur: userOf(p1),
        manager: 'u9',
        step: 'patch update urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value',
      },
      {
        name: 'deactivate: an active person whose row says inactive',
        row: person(1, { active: false }),
        concur: userOf(p1),
        step: 'patch deactivate active',
      },
      {
        name: 'unchanged: already inactive',
        row: person(1, { active: false }),
        concur: userOf(person(1, { active: false })),
        step: 'keep unchanged',
      },
      { name: 'skip: nobody to deactivate', row: person(1, { active: false }), concur: undefined, step: 'skip' },
      {
        name: 'fail: nobody in Concur and the row cannot create them',
        row: person(1, { givenName: undefined }) as NormalizedRow,
        concur: undefined,
        step: 'fail PROV_ERR_NOT_FOUND',
      },
      {
        name: 'leave: the file says WARN for existing people',
        row: person(1, { whenExists: 'warn', familyName: 'Other' }),
        concur: userOf(p1),
        step: 'keep unchanged left',
      },
    ];
  it.each(cases)('$name', ({ row, concur, manager, step }) => {
    expect(said(decideWrite(row, concur, manager))).toBe(step);
  });
});

describe('after a create met a uniqueness 409 (the person exists: most likely our lost create)', () => {
  const p1 = person(1);
  const cases: { name: string; found: ConcurUser; step: string }[] = [
    { name: 'as the row says: counted as the create it was', found: userOf(p1), step: 'keep create' },
    {
      name: 'differs: updated, never created twice',
      found: userOf(person(1, { familyName: 'Old' })),
      step: 'patch update name.familyName',
    },
  ];
  it.each(cases)('$name', ({ found, step }) => {
    expect(said(decideWrite(p1, found, undefined, true))).toBe(step);
  });
});

describe('the as-of of the last drop applied to the person (docs/safety.md#an-older-drop-never-undoes-a-newer-one)', () => {
  const T = Date.parse('2026-11-20T00:00:00Z');
  const inactive = userOf(person(1, { active: false }));
  const cases: { name: string; row: NormalizedRow; last: number | undefined; step: string; stale?: boolean }[] = [
    {
      name: 'an older row re-activating a person writes nothing',
      row: person(1, { active: true, asOf: T - 1 }),
      last: T,
      step: 'skip',
      stale: true,
    },
    {
      name: 'the same as-of is not older: re-activated',
      row: person(1, { active: true, asOf: T }),
      last: T,
      step: 'patch update active',
    },
    {
      name: 'a newer row: re-activated',
      row: person(1, { active: true, asOf: T + 1 }),
      last: T,
      step: 'patch update active',
    },
    {
      name: 'no recorded as-of: re-activated',
      row: person(1, { active: true, asOf: T }),
      last: undefined,
      step: 'patch update active',
    },
  ];
  it.each(cases)('$name', ({ row, last, step, stale }) => {
    const s = decideWrite(row, inactive, undefined, false, last);
    expect(said(s)).toBe(step);
    expect(s.kind === 'skip' && s.stale === true).toBe(stale === true);
    if (s.kind === 'patch') expect(s.decision.reactivating).toBe(true);
  });
});

describe('whether a pending row waits for its manager', () => {
  const withManager = person(1, { managerEmployeeNumber: 'E2' });
  const cases: {
    name: string;
    row: NormalizedRow;
    state?: 'pending' | 'manager_wait';
    concur: LookupResult;
    managerRow: number | undefined;
    wait: ReturnType<typeof waitForManager>;
  }[] = [
    {
      name: 'waits: the manager is a later row of the drop, not in Concur yet (absent: created when released)',
      row: withManager,
      concur: lookup(),
      managerRow: 2,
      wait: { wait: true, managerRow: 2, absent: true },
    },
    {
      name: 'waits, and remembers the person exists (updated when released)',
      row: withManager,
      concur: lookup(userOf(person(1))),
      managerRow: 2,
      wait: { wait: true, managerRow: 2, absent: false },
    },
    {
      name: 'no wait: the manager is in Concur (linked in the same write)',
      row: withManager,
      concur: lookup(userOf(person(2))),
      managerRow: 2,
      wait: { wait: false },
    },
    {
      name: 'no wait: the manager is nowhere in the drop',
      row: withManager,
      concur: lookup(),
      managerRow: undefined,
      wait: { wait: false },
    },
    {
      name: 'no wait: the row is its own manager',
      row: person(1, { managerEmployeeNumber: 'E1' }),
      concur: lookup(),
      managerRow: 1,
      wait: { wait: false },
    },
    { name: 'no wait: no manager', row: person(1), concur: lookup(), managerRow: undefined, wait: { wait: false } },
    {
      name: 'no wait: a conflict fails now, before anything is written',
      row: withManager,
      concur: lookup(userOf(person(7, { userName: 'p1@example.com' }))),
      managerRow: 2,
      wait: { wait: false },
    },
    {
      name: 'no wait: a row already waiting is not deferred again',
      row: withManager,
      state: 'manager_wait',
      concur: lookup(),
      managerRow: 2,
      wait: { wait: false },
    },
  ];
  it.each(cases)('$name', ({ row, state, concur, managerRow, wait }) => {
    expect(waitForManager({ state: state ?? 'pending', row, rowNumber: 1, people: concur, managerRow })).toEqual(wait);
  });
});

describe('a reference (manager, approver) from what is known', () => {
  const cases: {
    name: string;
    concur: LookupResult;
    targetRow: number | undefined;
    answer?: WaitAnswer;
    ref: Reference;
  }[] = [
    { name: 'in Concur', concur: lookup(userOf(person(2))), targetRow: 2, ref: { kind: 'found', uuid: 'u2' } },
    {
      name: 'a row of the drop with its uuid',
      concur: lookup(),
      targetRow: 2,
      answer: { uuid: 'u2' },
      ref: { kind: 'found', uuid: 'u2' },
    },
    {
      name: 'a row of the drop still being written',
      concur: lookup(),
      targetRow: 2,
      answer: { waiting: true },
      ref: { kind: 'waiting' },
    },
    {
      name: 'a row of the drop that ended without one',
      concur: lookup(),
      targetRow: 2,
      answer: { ended: true },
      ref: { kind: 'missing' },
    },
    { name: 'nowhere', concur: lookup(), targetRow: undefined, ref: { kind: 'missing' } },
    { name: 'the row itself', concur: lookup(), targetRow: 1, ref: { kind: 'missing' } },
  ];
  it.each(cases)('$name', ({ concur, targetRow, answer, ref }) => {
    expect(
      reference({ employeeNumber: 'E2', people: concur, rowNumber: 1, targetRow, ...(answer ? { answer } : {}) }),
    ).toEqual(ref);
  });

  it('no employee number: no reference', () => {
    expect(reference({ employeeNumber: undefined, people: lookup(), rowNumber: 1, targetRow: undefined })).toEqual({
      kind: 'none',
    });
  });
});

describe('where a written row goes', () => {
  const cases: { name: string; row: NormalizedRow; action: string; left?: boolean; state: string }[] = [
    { name: 'created, nothing for the extension stage', row: person(1), action: 'create', state: 'done' },
    { name: 'nothing written, nothing to send', row: person(1), action: 'unchanged', state: 'unchanged' },
    {
      name: 'extension data waits for the extension stage',
      row: person(1, spend),
      action: 'unchanged',
      state: 'identity_done',
    },
    {
      name: 'profile left alone and no rights to send',
      row: person(1, spend),
      action: 'unchanged',
      left: true,
      state: 'unchanged',
    },
  ];
  it.each(cases)('$name', ({ row, action, left, state }) => {
    expect(identityEndState({ row, action, profileLeft: left === true })).toBe(state);
  });

  it('a row written while its manager is still being written waits for the link; a left profile does not', () => {
    expect(waitsForManagerLink({ kind: 'waiting' }, false)).toBe(true);
    expect(waitsForManagerLink({ kind: 'waiting' }, true)).toBe(false);
    expect(waitsForManagerLink({ kind: 'found', uuid: 'u2' }, false)).toBe(false);
    expect(waitsForManagerLink({ kind: 'missing' }, false)).toBe(false);
  });
});

describe('a cycle of managers (1 manages 2, 2 manages 1)', () => {
  // The decisions the processor makes, row by row, with the ledger's answers in between.
  const r1 = person(1, { managerEmployeeNumber: 'E2' });
  const r2 = person(2, { managerEmployeeNumber: 'E1' });
  const nobody = lookup();

  it('ends with one create each and one manager link, nobody waiting forever', () => {
    // Row 1 waits for row 2 (the ledger accepts: no cycle yet).
    expect(waitForManager({ state: 'pending', row: r1, rowNumber: 1, people: nobody, managerRow: 2 }).wait).toBe(true);
    // Row 2 would wait for row 1: the ledger refuses (the wait would close the cycle), so row 2
    // is written now, without its manager, and waits for the link.
    expect(waitForManager({ state: 'pending', row: r2, rowNumber: 2, people: nobody, managerRow: 1 }).wait).toBe(true);
    const m2 = reference({
      employeeNumber: 'E1',
      people: nobody,
      rowNumber: 2,
      targetRow: 1,
      answer: { waiting: true },
    });
    expect(said(decideWrite(r2, undefined, undefined))).toBe('create');
    expect(waitsForManagerLink(m2, false)).toBe(true);
    // Row 2's uuid releases row 1: created with its manager in the same write.
    const m1 = reference({ employeeNumber: 'E2', people: nobody, rowNumber: 1, targetRow: 2, answer: { uuid: 'u2' } });
    expect(m1).toEqual({ kind: 'found', uuid: 'u2' });
    expect(said(decideWrite(r1, undefined, 'u2'))).toBe('create');
    expect(waitsForManagerLink(m1, false)).toBe(false);
    expect(identityEndState({ row: r1, action: 'create', profileLeft: false })).toBe('done');
    // Row 1's uuid releases row 2: the link (one PATCH), then done.
    expect(
      reference({ employeeNumber: 'E1', people: nobody, rowNumber: 2, targetRow: 1, answer: { uuid: 'u1' } }),
    ).toEqual({
      kind: 'found',
      uuid: 'u1',
    });
    expect(identityEndState({ row: r2, action: 'create', profileLeft: false })).toBe('done');
  });
});

describe('a failed call: the row fails, or the job is retried', () => {
  const concur = (kind: string, statusCode?: number) =>
    new ProvError('PROV_ERR_INVALID', `concur ${kind}`, { details: { kind, ...(statusCode ? { statusCode } : {}) } });
  const cases: { name: string; err: unknown; lastAttempt: boolean; row: boolean }[] = [
    { name: 'Concur refused the row (400)', err: concur('invalid', 400), lastAttempt: false, row: true },
    {
      name: 'a conflict of keys',
      err: new ProvError('PROV_ERR_IDENTITY_CONFLICT', 'two people'),
      lastAttempt: false,
      row: true,
    },
    { name: 'a 409 the row cannot resolve', err: concur('conflict', 409), lastAttempt: false, row: true },
    { name: 'a 5xx with attempts left', err: concur('retryable', 503), lastAttempt: false, row: false },
    { name: 'a 5xx on the last attempt', err: concur('retryable', 503), lastAttempt: true, row: true },
    { name: 'no answer at all, even on the last attempt', err: concur('retryable'), lastAttempt: true, row: false },
    { name: 'token trouble', err: concur('auth', 401), lastAttempt: true, row: false },
    { name: 'Redis trouble', err: new ProvError('PROV_ERR_REDIS', 'gone'), lastAttempt: true, row: false },
    { name: 'a bug', err: new TypeError('x is undefined'), lastAttempt: true, row: false },
  ];
  it.each(cases)('$name', ({ err, lastAttempt, row }) => {
    expect(failsRow(err, lastAttempt)).toBe(row);
  });

  it('a conflict found by matching fails the row', () => {
    const holder = userOf(person(7, { userName: 'p1@example.com' }));
    let thrown: unknown;
    try {
      findExisting(person(1), lookup(holder));
    } catch (err) {
      thrown = err;
    }
    expect(failsRow(thrown, false)).toBe(true);
  });
});

describe('the brake mid-chunk', () => {
  const cases: { status: string | undefined; goesOn: boolean }[] = [
    { status: 'running', goesOn: true },
    { status: undefined, goesOn: true },
    { status: 'paused', goesOn: false },
    { status: 'held', goesOn: false },
    { status: 'planned', goesOn: false },
    { status: 'cancelled', goesOn: false },
    { status: 'rejected', goesOn: false },
  ];
  it.each(cases)('drop $status: the chunk goes on = $goesOn', ({ status, goesOn }) => {
    expect(chunkGoesOn(status)).toBe(goesOn);
  });

  it('the rows after the failure that paused the drop are left for approve', () => {
    // The processor's loop: a failed row, then the drop status the brake leaves.
    const statusAfter = ['running', 'running', 'paused', 'paused'];
    const handled: number[] = [];
    for (const [i, status] of statusAfter.entries()) {
      handled.push(i + 1);
      if (!chunkGoesOn(status)) break;
    }
    expect(handled).toEqual([1, 2, 3]);
  });
});
