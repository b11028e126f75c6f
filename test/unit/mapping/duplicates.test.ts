import { describe, expect, it } from 'vitest';
import { DuplicateTracker } from '../../../src/shared/mapping/index.ts';

describe('DuplicateTracker', () => {
  it('marks later rows that reuse a userName (any case) or employeeNumber, naming the first row', () => {
    const t = new DuplicateTracker();
    expect(t.check(1, 'Ada@Example.com', '1001')).toEqual([]);
    expect(t.check(2, 'bob@example.com', '1002')).toEqual([]);
    expect(t.check(3, 'ada@example.com', '1003')).toEqual([{ row: 3, column: 'userName', reason: 'duplicate userName: row 1 has the same userName' }]);
    expect(t.check(4, 'cy@example.com', '1002')).toEqual([{ row: 4, column: 'employeeNumber', reason: 'duplicate employeeNumber: row 2 has the same employeeNumber' }]);
    expect(t.check(5, ' BOB@example.com ', '1001')).toEqual([
      { row: 5, column: 'userName', reason: 'duplicate userName: row 2 has the same userName' },
      { row: 5, column: 'employeeNumber', reason: 'duplicate employeeNumber: row 1 has the same employeeNumber' },
    ]);
    expect(t.firstRowOfUserName('ADA@EXAMPLE.COM')).toBe(1);
    expect(t.firstRowOfEmployeeNumber('1002')).toBe(2);
    expect(t.size).toEqual({ userNames: 3, employeeNumbers: 3 });
  });

  it('employee numbers compare exactly (case matters), empty values are not tracked', () => {
    const t = new DuplicateTracker();
    expect(t.check(1, undefined, 'A1')).toEqual([]);
    expect(t.check(2, '', 'a1')).toEqual([]);
    expect(t.check(3, '  ', undefined)).toEqual([]);
    expect(t.size).toEqual({ userNames: 0, employeeNumbers: 2 });
  });

  it('re-checking the same row (a replay) is not a duplicate of itself', () => {
    const t = new DuplicateTracker();
    t.check(7, 'a@x.com', '7');
    expect(t.check(7, 'a@x.com', '7')).toEqual([]);
  });

  it('handles many rows', () => {
    const t = new DuplicateTracker();
    let dups = 0;
    for (let i = 1; i <= 100_000; i++) dups += t.check(i, `u${i % 50_000}@x.com`, String(i)).length;
    expect(dups).toBe(50_000);
  });
});

describe('prepareRow with a tracker', () => {
  it('adds duplicate errors to otherwise valid rows, using mapped values', async () => {
    const { compileMapping, parseMappingFile, prepareRow } = await import('../../../src/shared/mapping/index.ts');
    const mapper = compileMapping(parseMappingFile({ columns: { Mail: { to: ['userName', 'email'], transforms: ['lower'] }, Id: 'employeeNumber' } }));
    const t = new DuplicateTracker();
    const rec = (mail: string, id: string) => ({ Mail: mail, Id: id, givenName: 'A', familyName: 'B' });
    expect(prepareRow(1, rec('A@x.com', '1'), mapper, t).ok).toBe(true);
    expect(prepareRow(2, { ...rec('b@x.com', '2'), givenName: '' }, mapper, t)).toEqual({
      ok: false,
      errors: [{ row: 2, column: 'givenName', reason: 'is required' }],
    });
    expect(prepareRow(3, rec('a@X.com', '2'), mapper, t)).toEqual({
      ok: false,
      errors: [
        { row: 3, column: 'userName', reason: 'duplicate userName: row 1 has the same userName' },
        { row: 3, column: 'employeeNumber', reason: 'duplicate employeeNumber: row 2 has the same employeeNumber' },
      ],
    });
  });
});
