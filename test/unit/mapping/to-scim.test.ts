import { describe, expect, it } from 'vitest';
import {
  SPEND_APPROVER_URN,
  SPEND_ROLE_URN,
  SPEND_USER_URN,
  TRAVEL_USER_URN,
  hasExtensionData,
  identityDiff,
  referencedEmployeeNumbers,
  toCreateBody,
  toExtensionPayload,
  toPatchOperations,
  type TemplateRow,
} from '../../../src/shared/mapping/index.ts';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const COMPANY = 'aa076ada-80a9-4f57-8e98-9300b1c3171d';

const FULL: TemplateRow = {
  rowNumber: 1,
  userName: 'ada@example.com',
  givenName: 'Ada',
  familyName: 'Lovelace',
  middleName: 'King',
  email: 'ada@example.com',
  employeeNumber: '1001',
  active: true,
  externalId: 'ext-1',
  title: 'Analyst',
  timezone: 'Europe/London',
  preferredLanguage: 'en-GB',
  costCenter: 'CC1',
  department: 'Research',
  division: 'Engines',
  startDate: '2020-01-15',
  terminationDate: '2030-01-01',
  managerEmployeeNumber: '2002',
};

/** What Concur would hold after creating FULL (with its own formats and extra fields). */
function asConcur(row: TemplateRow, managerUuid = 'm-uuid'): Record<string, unknown> {
  return {
    id: 'u-uuid',
    userName: row.userName.toUpperCase(),
    active: row.active,
    displayName: 'Ada Lovelace',
    name: {
      givenName: row.givenName,
      familyName: row.familyName,
      middleName: row.middleName,
      formatted: 'Lovelace, Ada',
    },
    emails: [
      { value: 'home@example.com', type: 'home' },
      { value: row.email.toUpperCase(), type: 'work', notifications: false },
    ],
    externalId: row.externalId,
    title: row.title,
    timezone: row.timezone,
    preferredLanguage: row.preferredLanguage?.toLowerCase(),
    [ENT]: {
      companyId: COMPANY,
      employeeNumber: row.employeeNumber,
      costCenter: row.costCenter,
      department: row.department,
      division: row.division,
      startDate: `${row.startDate}T00:00:00.000`,
      terminationDate: `${row.terminationDate}T00:00:00.000`,
      manager: { value: managerUuid, employeeNumber: '2002', displayName: 'Boss' },
    },
    meta: { version: 3 },
  };
}

describe('toCreateBody', () => {
  it('builds the Identity v4.1 body with core and enterprise fields', () => {
    expect(toCreateBody(FULL, { companyId: COMPANY, managerUuid: 'm-uuid' })).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENT],
      userName: 'ada@example.com',
      active: true,
      name: { givenName: 'Ada', familyName: 'Lovelace', middleName: 'King' },
      emails: [{ value: 'ada@example.com', type: 'work' }],
      externalId: 'ext-1',
      title: 'Analyst',
      timezone: 'Europe/London',
      preferredLanguage: 'en-GB',
      [ENT]: {
        companyId: COMPANY,
        employeeNumber: '1001',
        costCenter: 'CC1',
        department: 'Research',
        division: 'Engines',
        startDate: '2020-01-15T00:00:00Z',
        terminationDate: '2030-01-01T00:00:00Z',
        manager: { value: 'm-uuid' },
      },
    });
  });

  it('sends only what the row has; active defaults to true; no manager without a uuid', () => {
    const minimal: TemplateRow = {
      rowNumber: 2,
      userName: 'b@x.com',
      givenName: 'B',
      familyName: 'C',
      email: 'b@x.com',
      employeeNumber: '2',
      managerEmployeeNumber: '9',
    };
    expect(toCreateBody(minimal, { companyId: COMPANY })).toEqual({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENT],
      userName: 'b@x.com',
      active: true,
      name: { givenName: 'B', familyName: 'C' },
      emails: [{ value: 'b@x.com', type: 'work' }],
      [ENT]: { companyId: COMPANY, employeeNumber: '2' },
    });
    expect(toCreateBody({ ...minimal, active: false }, { companyId: COMPANY }).active).toBe(false);
  });
});

describe('identityDiff', () => {
  it('finds nothing when Concur already matches (case and date formats aside)', () => {
    expect(identityDiff(asConcur(FULL), FULL, { managerUuid: 'M-UUID' })).toEqual([]);
  });

  it('lists each changed field with Concur paths, old and new values', () => {
    const desired: TemplateRow = {
      ...FULL,
      givenName: 'Augusta',
      email: 'augusta@example.com',
      active: false,
      department: 'Analytics',
      terminationDate: '2024-12-31',
      title: 'Countess',
    };
    const changes = identityDiff(asConcur(FULL), desired, { managerUuid: 'new-boss' });
    expect(changes).toEqual([
      { op: 'replace', path: 'active', old: true, new: false },
      { op: 'replace', path: 'name.givenName', old: 'Ada', new: 'Augusta' },
      { op: 'replace', path: 'emails[type eq "work"].value', old: 'ADA@EXAMPLE.COM', new: 'augusta@example.com' },
      { op: 'replace', path: 'title', old: 'Analyst', new: 'Countess' },
      { op: 'replace', path: `${ENT}:department`, old: 'Research', new: 'Analytics' },
      { op: 'replace', path: `${ENT}:terminationDate`, old: '2030-01-01T00:00:00.000', new: '2024-12-31T00:00:00Z' },
      { op: 'replace', path: `${ENT}:manager.value`, old: 'm-uuid', new: 'new-boss' },
    ]);
    expect(toPatchOperations(changes)[0]).toEqual({ op: 'replace', path: 'active', value: false });
  });

  it('never diffs fields the row leaves empty, and skips the manager without a uuid', () => {
    const sparse: TemplateRow = {
      rowNumber: 1,
      userName: 'ada@example.com',
      givenName: 'Ada',
      familyName: 'Lovelace',
      email: 'ada@example.com',
      employeeNumber: '1001',
      managerEmployeeNumber: '2',
    };
    expect(identityDiff(asConcur(FULL), sparse)).toEqual([]);
  });

  it('adds fields Concur lacks, and a work email when there is none', () => {
    const existing = {
      id: 'u',
      userName: 'ada@example.com',
      name: { givenName: 'Ada', familyName: 'Lovelace' },
      emails: [{ type: 'home', value: 'h@x.com' }],
      [ENT]: { employeeNumber: '1001' },
    };
    const desired: TemplateRow = {
      rowNumber: 1,
      userName: 'ada@example.com',
      givenName: 'Ada',
      familyName: 'Lovelace',
      email: 'ada@example.com',
      employeeNumber: '1001',
      costCenter: 'CC9',
    };
    expect(identityDiff(existing, desired)).toEqual([
      { op: 'add', path: 'emails', old: undefined, new: [{ value: 'ada@example.com', type: 'work' }] },
      { op: 'replace', path: `${ENT}:costCenter`, old: undefined, new: 'CC9' },
    ]);
  });

  it('survives a malformed existing user', () => {
    const desired: TemplateRow = {
      rowNumber: 1,
      userName: 'a@x.com',
      givenName: 'A',
      familyName: 'B',
      email: 'a@x.com',
      employeeNumber: '1',
    };
    const paths = identityDiff({ name: 'oops', emails: 'nope', [ENT]: 5 }, desired).map((c) => c.path);
    expect(paths).toEqual(['userName', 'name.givenName', 'name.familyName', 'emails', `${ENT}:employeeNumber`]);
  });
});

describe('extension payload and references', () => {
  const row: TemplateRow = {
    rowNumber: 1,
    userName: 'a@x.com',
    givenName: 'A',
    familyName: 'B',
    email: 'a@x.com',
    employeeNumber: '1',
    managerEmployeeNumber: '2',
    spend: {
      country: 'US',
      reimbursementCurrency: 'USD',
      locale: 'en-US',
      stateProvince: 'WA',
      roles: ['EXP_USER', 'EXP_APPROVER'],
      reportApproverEmployeeNumber: '3',
      customData: { custom1: 'x', orgUnit1: 'y' },
    },
    travel: { ruleClass: { id: 624905 }, groups: [143519480], managerEmployeeNumber: '2' },
  };

  it('keys the UPS payload by extension URN in Concur shapes', () => {
    expect(toExtensionPayload(row)).toEqual({
      [SPEND_USER_URN]: {
        country: 'US',
        reimbursementCurrency: 'USD',
        locale: 'en-US',
        stateProvince: 'WA',
        customData: [
          { id: 'custom1', value: 'x' },
          { id: 'orgUnit1', value: 'y' },
        ],
      },
      [SPEND_ROLE_URN]: { roles: [{ roleName: 'EXP_USER' }, { roleName: 'EXP_APPROVER' }] },
      [SPEND_APPROVER_URN]: { report: [{ approver: { employeeNumber: '3' }, primary: true }] },
      [TRAVEL_USER_URN]: { ruleClass: { id: 624905 }, groups: [143519480], manager: { employeeNumber: '2' } },
    });
    expect(hasExtensionData(row)).toBe(true);
  });

  it('sends only the extensions the row has', () => {
    const rolesOnly: TemplateRow = { ...row, spend: { roles: ['EXP_USER'] }, travel: { ruleClass: { name: 'Std' } } };
    expect(toExtensionPayload(rolesOnly)).toEqual({
      [SPEND_ROLE_URN]: { roles: [{ roleName: 'EXP_USER' }] },
      [TRAVEL_USER_URN]: { ruleClass: { name: 'Std' } },
    });
    const none: TemplateRow = {
      rowNumber: 1,
      userName: 'a@x.com',
      givenName: 'A',
      familyName: 'B',
      email: 'a@x.com',
      employeeNumber: '1',
    };
    expect(toExtensionPayload(none)).toBeUndefined();
    expect(hasExtensionData(none)).toBe(false);
  });

  it('lists referenced employee numbers once each', () => {
    expect(referencedEmployeeNumbers(row)).toEqual(['2', '3']);
    expect(
      referencedEmployeeNumbers({ ...row, managerEmployeeNumber: undefined, spend: undefined, travel: undefined }),
    ).toEqual([]);
  });
});
