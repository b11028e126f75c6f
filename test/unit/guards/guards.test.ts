import { describe, expect, it } from 'vitest';
import { checkManifest, isManifestFile, manifestPathFor, parseManifest } from '../../../src/producers/manifest.ts';
import { planReportRecord } from '../../../src/producers/plan-report.ts';
import {
  brakeTrips,
  conflictHoldReason,
  deactivationHoldReason,
  DEFAULT_GUARDS,
  guardsFromConfig,
} from '../../../src/shared/guards/limits.ts';
import { STOPPED_STATUSES } from '../../../src/shared/ledger/states.ts';
import { loadConfig } from '../../../src/shared/config.ts';
import { REPORT_COLUMNS } from '../../../src/shared/ledger/report.ts';

const limits = {
  ...DEFAULT_GUARDS,
  maxDeactivations: 100,
  maxDeactivationPercent: 20,
  maxFailurePercent: 50,
  maxConflicts: 20,
  maxConflictPercent: 5,
  minRows: 50,
};

describe('deactivation threshold', () => {
  it('holds above the count or the percentage, and names the rule', () => {
    expect(deactivationHoldReason(10_000, 100, limits)).toBeUndefined();
    expect(deactivationHoldReason(10_000, 101, limits)).toMatch(
      /^101 rows deactivate people, more than MAX_DEACTIVATIONS=100/,
    );
    expect(deactivationHoldReason(100, 20, limits)).toBeUndefined();
    expect(deactivationHoldReason(100, 21, limits)).toMatch(/^21 of 100 rows \(21%\) .* MAX_DEACTIVATION_PERCENT=20%/);
  });

  it('leaves the percentage to drops of GUARD_MIN_ROWS rows or more (a small daily delta is not held)', () => {
    expect(deactivationHoldReason(49, 40, limits)).toBeUndefined();
    expect(deactivationHoldReason(50, 11, limits)).toMatch(/11 of 50 rows \(22%\)/);
    expect(
      deactivationHoldReason(1000, 999, { ...limits, maxDeactivations: 5000, maxDeactivationPercent: 100 }),
    ).toBeUndefined();
  });
});

describe('conflict guard', () => {
  it('stops above MAX_CONFLICTS or MAX_CONFLICT_PERCENT (drops of GUARD_MIN_ROWS rows or more)', () => {
    expect(conflictHoldReason(10_000, 20, limits)).toBeUndefined();
    expect(conflictHoldReason(10_000, 21, limits)).toMatch(/^21 rows conflict .* MAX_CONFLICTS=20/);
    expect(conflictHoldReason(100, 5, limits)).toBeUndefined();
    expect(conflictHoldReason(100, 6, limits)).toMatch(/^6 of 100 rows \(6%\) .* MAX_CONFLICT_PERCENT=5%/);
    expect(conflictHoldReason(49, 19, limits)).toBeUndefined();
  });
});

describe('failure brake', () => {
  it('trips only after the minimum rows and above the percentage', () => {
    expect(brakeTrips(49, 49, limits)).toBe(false);
    expect(brakeTrips(50, 25, limits)).toBe(false);
    expect(brakeTrips(50, 26, limits)).toBe(true);
    expect(brakeTrips(1000, 1000, { ...limits, maxFailurePercent: 100 })).toBe(false);
  });

  it('stops workers for every status that waits for an operator', () => {
    expect([...STOPPED_STATUSES].sort()).toEqual(['cancelled', 'held', 'paused', 'planned', 'rejected']);
  });

  it('reads its limits from the env schema, whose defaults are DEFAULT_GUARDS', () => {
    expect(guardsFromConfig(loadConfig({}))).toEqual(DEFAULT_GUARDS);
    expect(guardsFromConfig(loadConfig({ MAX_FAILURE_PERCENT: '10', GUARD_MIN_ROWS: '5' }))).toMatchObject({
      maxFailurePercent: 10,
      minRows: 5,
    });
    expect(() => loadConfig({ MAX_DEACTIVATION_PERCENT: '101' })).toThrow(/MAX_DEACTIVATION_PERCENT/);
  });
});

describe('manifest', () => {
  const sha = 'AB'.repeat(32);

  it('lives beside the drop file', () => {
    expect(manifestPathFor('/in/hr.csv')).toBe('/in/hr.csv.manifest.json');
    expect(isManifestFile('hr.csv.manifest.json')).toBe(true);
    expect(isManifestFile('hr.json')).toBe(false);
  });

  it('takes rows, sha256, asOf or several (lower-cased), and refuses an empty or malformed one', () => {
    expect(parseManifest({ rows: 3, sha256: sha, generator: 'hris' }, 'm')).toEqual({
      rows: 3,
      sha256: sha.toLowerCase(),
    });
    expect(() => parseManifest({}, 'm.json')).toThrow(/m\.json: invalid manifest: .*"rows", "sha256" or "asOf"/);
    expect(parseManifest({ asOf: '2026-11-20T06:00:00Z' }, 'm')).toEqual({ asOf: Date.parse('2026-11-20T06:00:00Z') });
    expect(() => parseManifest({ asOf: 'last tuesday' }, 'm')).toThrow(/asOf: .* is not an ISO 8601 date/);
    expect(() => parseManifest({ rows: -1 }, 'm')).toThrow(/rows/);
    expect(() => parseManifest({ sha256: 'abc' }, 'm')).toThrow(/sha256: must be 64 hex characters/);
  });

  it('names the expected and actual values on a mismatch', () => {
    const m = parseManifest({ rows: 100, sha256: sha }, 'm');
    expect(() => checkManifest('hr.csv', m, { sha256: sha.toLowerCase(), rows: 100 })).not.toThrow();
    expect(() => checkManifest('hr.csv', m, { sha256: 'cd'.repeat(32) })).toThrow(
      `hr.csv: checksum mismatch: the manifest expects sha256 ${sha.toLowerCase()}, the file has ${'cd'.repeat(32)}`,
    );
    expect(() => checkManifest('hr.csv', m, { rows: 60 })).toThrow(/expects 100 rows, the file has 60 \(truncated\?\)/);
    expect(() => checkManifest('hr.csv', m, { rows: 101 })).toThrow(
      /expects 100 rows, the file has 101; nothing was sent/,
    );
    expect(() => checkManifest('hr.csv', undefined, { rows: 1 })).not.toThrow();
  });
});

describe('plan report', () => {
  it('has the run report columns and says old → new, extensions and warnings in the message', () => {
    const rec = planReportRecord({
      row: 7,
      action: 'update',
      userName: 'a@example.com',
      employeeNumber: 'E7',
      uuid: 'u-7',
      changes: [
        { field: 'department', old: 'Sales', new: 'Finance' },
        { field: 'title', old: undefined, new: 'Lead' },
      ],
      extensions: ['spend.country'],
      warnings: ['manager E9 not found in Concur or this drop; written without a manager'],
    });
    expect(Object.keys(rec)).toEqual([...REPORT_COLUMNS]);
    expect(rec).toMatchObject({ row: '7', state: 'planned', action: 'update', uuid: 'u-7' });
    expect(rec.message).toBe(
      'department: Sales → Finance; title: (none) → Lead | extensions will be sent: spend.country | manager E9 not found in Concur or this drop; written without a manager',
    );
    expect(
      planReportRecord({
        row: 2,
        action: 'invalid',
        error: 'x row 2: email: bad',
        code: 'PROV_ERR_INPUT',
        column: 'email',
      }),
    ).toMatchObject({
      state: 'invalid',
      errorCode: 'PROV_ERR_INPUT',
      message: 'x row 2: email: bad',
      schemaPath: 'email',
    });
  });
});
