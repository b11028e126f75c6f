import { describe, expect, it } from 'vitest';
import {
  compileMapping,
  prepareRow,
  type FieldError,
  type NormalizeResult,
  type RawRecord,
} from '../../../src/shared/mapping/index.ts';
import { readAll, fixture } from '../sources/read-all.ts';

const mapper = compileMapping();
const BASE: RawRecord = {
  userName: 'ada@example.com',
  givenName: 'Ada',
  familyName: 'Lovelace',
  email: 'ada@example.com',
  employeeNumber: '1001',
};

function run(extra: RawRecord, row = 7): NormalizeResult {
  return prepareRow(row, { ...BASE, ...extra }, mapper);
}

function ok(extra: RawRecord) {
  const r = run(extra);
  if (!r.ok) throw new Error(`expected a valid row, got ${JSON.stringify(r.errors)}`);
  return r.row;
}

function reasons(extra: RawRecord): Array<[string, string]> {
  const r = run(extra);
  if (r.ok) throw new Error('expected field errors');
  return r.errors.map((e: FieldError) => [e.column, e.reason]);
}

describe('normalizeRow: identity', () => {
  it('builds a typed row; empty cells are absent; strings trimmed and NFC', () => {
    expect(ok({ givenName: ' Rene\u0301e ', middleName: '', active: 'Yes', title: 'Analyst' })).toEqual({
      rowNumber: 7,
      userName: 'ada@example.com',
      givenName: 'Renée',
      familyName: 'Lovelace',
      email: 'ada@example.com',
      employeeNumber: '1001',
      active: true,
      title: 'Analyst',
    });
  });

  it('requires userName, givenName, familyName, email and employeeNumber', () => {
    const r = prepareRow(3, {}, mapper);
    expect(r).toEqual({
      ok: false,
      errors: ['userName', 'givenName', 'familyName', 'email', 'employeeNumber'].map((column) => ({
        row: 3,
        column,
        reason: 'is required',
      })),
    });
    expect(reasons({ givenName: '   ' })).toEqual([['givenName', 'is required']]);
  });

  it.each([
    ['bad(name)@example.com', "contains '(', which Concur does not allow in a userName"],
    ['pipe|x@example.com', "contains '|', which Concur does not allow in a userName"],
    ...'%[]#!*&()~\'{^}\\/?><,;:"+='
      .split('')
      .map((c) => [`a${c}b@example.com`, `contains '${c}', which Concur does not allow in a userName`]),
    ['a b@example.com', 'contains whitespace'],
    ['nodomain', 'must have the form user@domain (exactly one @ with text on both sides)'],
    ['a@b@c.com', 'must have the form user@domain (exactly one @ with text on both sides)'],
    ['@example.com', 'must have the form user@domain (exactly one @ with text on both sides)'],
    [`${'u'.repeat(120)}@example.com`, 'is 132 characters long; the limit is 128'],
  ])('userName %j: %s', (userName, reason) => {
    expect(reasons({ userName })).toEqual([['userName', reason]]);
  });

  it('accepts userNames with dots, dashes, underscores and non-ASCII letters', () => {
    expect(ok({ userName: 'john.doe-1_x@sso.example.co.uk' }).userName).toBe('john.doe-1_x@sso.example.co.uk');
    expect(ok({ userName: 'josé@example.com' }).userName).toBe('josé@example.com');
  });

  it('checks email shape and length (a 300-character email is refused)', () => {
    expect(reasons({ email: 'not-an-email' })).toEqual([
      ['email', 'is not an email address of the form name@example.com (ASCII only)'],
    ]);
    expect(reasons({ email: 'a@localhost' })).toEqual([
      ['email', 'is not an email address of the form name@example.com (ASCII only)'],
    ]);
    expect(reasons({ email: `${'a'.repeat(60)}.${'b'.repeat(227)}@example.com` })).toEqual([
      ['email', 'is 300 characters long; the limit is 255'],
    ]);
    expect(reasons({ email: `${'a'.repeat(65)}@example.com` })).toEqual([
      ['email', 'has a part before @ longer than 64 characters'],
    ]);
    expect(ok({ email: "o'brien+tag@mail.example.com" }).email).toBe("o'brien+tag@mail.example.com");
  });

  it.each([
    ['givenName', 32],
    ['familyName', 32],
    ['middleName', 60],
    ['title', 255],
    ['employeeNumber', 48],
    ['costCenter', 25],
    ['division', 48],
    ['externalId', 255],
  ])('%s is limited to %i characters', (column, limit) => {
    expect(ok({ [column]: 'x'.repeat(limit) })).toHaveProperty(column, 'x'.repeat(limit));
    expect(reasons({ [column]: 'x'.repeat(limit + 1) })).toEqual([
      [column, `is ${limit + 1} characters long; the limit is ${limit}`],
    ]);
  });

  it('counts length in UTF-16 code units: an emoji is 2, a combining mark 1', () => {
    expect(ok({ givenName: `${'a'.repeat(30)}😀` }).givenName).toHaveLength(32);
    expect(reasons({ givenName: `${'a'.repeat(31)}😀` })).toEqual([
      ['givenName', 'is 33 characters long; the limit is 32'],
    ]);
    // NFC first: e + U+0301 becomes é, one unit.
    expect(ok({ givenName: `${'a'.repeat(31)}e\u0301` }).givenName).toHaveLength(32);
    // No precomposed form: the combining mark stays and counts.
    expect(reasons({ givenName: `${'a'.repeat(31)}q\u0301` })).toEqual([
      ['givenName', 'is 33 characters long; the limit is 32'],
    ]);
  });

  it('allows Unicode names with combining marks, CJK and emoji', () => {
    expect(ok({ givenName: 'Zoë 😀', familyName: '山田' })).toMatchObject({ givenName: 'Zoë 😀', familyName: '山田' });
  });

  it.each([
    ['a\tb', 'contains a control character (tab, line break or other)'],
    ['a\nb', 'contains a control character (tab, line break or other)'],
    ['a\u0085b', 'contains a control character (tab, line break or other)'],
    ['a\ud800b', 'contains a broken Unicode character (lone surrogate)'],
    ['a\u202eb', 'contains a bidirectional override character'],
  ])('refuses %j in names', (givenName, reason) => {
    expect(reasons({ givenName })).toEqual([['givenName', reason]]);
  });

  it.each(['givenName', 'familyName', 'middleName', 'title', 'department', 'division'])(
    'refuses formula starts in %s',
    (column) => {
      for (const start of ['=', '+', '-', '@']) {
        expect(reasons({ [column]: `${start}SUM(A1)` })).toEqual([
          [
            column,
            `starts with '${start}', which spreadsheets run as a formula (formula injection); remove the leading character`,
          ],
        ]);
      }
      expect(ok({ [column]: 'Smith-Jones' })).toHaveProperty(column, 'Smith-Jones');
    },
  );

  it('allows a leading minus in codes', () => {
    expect(ok({ costCenter: '-100' }).costCenter).toBe('-100');
  });

  it.each([
    ['true', true],
    ['FALSE', false],
    ['y', true],
    ['N', false],
    ['1', true],
    ['0', false],
    ['yes', true],
    ['no', false],
  ])('active %j → %s', (active, value) => {
    expect(ok({ active }).active).toBe(value);
  });

  it('active: JSON booleans, empty, and other words', () => {
    expect(ok({ active: false }).active).toBe(false);
    expect(ok({ active: '' })).not.toHaveProperty('active');
    expect(reasons({ active: 'maybe' })).toEqual([
      ['active', "'maybe' is not a boolean (true/false, yes/no, y/n, 1/0)"],
    ]);
  });

  it.each([
    ['2020-01-15', undefined],
    ['1900-01-01', undefined],
    ['2079-06-06', undefined],
    ['2024-02-29', undefined],
    ['2079-06-07', "'2079-06-07' is outside Concur's range 1900-01-01..2079-06-06"],
    ['1899-12-31', "'1899-12-31' is outside Concur's range 1900-01-01..2079-06-06"],
    ['2023-02-29', "'2023-02-29' is not a real calendar date"],
    ['2020-13-01', "'2020-13-01' is not a real calendar date"],
    ['15.01.2020', "'15.01.2020' is not a date in the form YYYY-MM-DD"],
    ['2020-01-15T00:00:00Z', "'2020-01-15T00:00:00Z' is not a date in the form YYYY-MM-DD"],
  ])('startDate/terminationDate %s', (date, reason) => {
    if (reason === undefined) {
      expect(ok({ startDate: date, terminationDate: date })).toMatchObject({ startDate: date, terminationDate: date });
    } else {
      expect(reasons({ startDate: date, terminationDate: date })).toEqual([
        ['startDate', reason],
        ['terminationDate', reason],
      ]);
    }
  });

  it('timezone and preferredLanguage', () => {
    expect(ok({ timezone: 'america/new_york', preferredLanguage: 'fr_ca' })).toMatchObject({
      timezone: 'America/New_York',
      preferredLanguage: 'fr-CA',
    });
    expect(ok({ timezone: 'Asia/Calcutta' }).timezone).toBe('Asia/Calcutta');
    expect(reasons({ timezone: 'Mars/Olympus', preferredLanguage: 'english' })).toEqual([
      ['timezone', "'Mars/Olympus' is not a known IANA time zone"],
      ['preferredLanguage', "'english' is not a locale of the form en-US"],
    ]);
    expect(reasons({ timezone: '+01:00' })).toEqual([
      ['timezone', "'+01:00' is not an IANA time zone name such as America/New_York"],
    ]);
  });

  it('managerEmployeeNumber: length and not self', () => {
    expect(ok({ managerEmployeeNumber: '2002' }).managerEmployeeNumber).toBe('2002');
    expect(reasons({ managerEmployeeNumber: '1001' })).toEqual([
      ['managerEmployeeNumber', "is the row's own employeeNumber"],
    ]);
    expect(reasons({ managerEmployeeNumber: 'x'.repeat(49) })).toEqual([
      ['managerEmployeeNumber', 'is 49 characters long; the limit is 48'],
    ]);
  });

  it('lists every problem of a row at once', () => {
    expect(reasons({ userName: 'a,b', email: 'x', startDate: '2020-02-30', familyName: '' })).toEqual([
      ['userName', "contains ',', which Concur does not allow in a userName"],
      ['familyName', 'is required'],
      ['email', 'is not an email address of the form name@example.com (ASCII only)'],
      ['startDate', "'2020-02-30' is not a real calendar date"],
    ]);
  });

  it('refuses a list where one value belongs', () => {
    expect(reasons({ givenName: ['A', 'B'] })).toEqual([['givenName', 'expected a single value, got a list']]);
  });
});

describe('normalizeRow: explicit key changes (docs/matching.md)', () => {
  it('keeps previousEmployeeNumber and previousUserName when they differ from the row', () => {
    expect(ok({ previousEmployeeNumber: ' OLD-1 ', previousUserName: 'Old.Ada@example.com' })).toMatchObject({
      employeeNumber: '1001',
      previousEmployeeNumber: 'OLD-1',
      previousUserName: 'Old.Ada@example.com',
    });
  });

  it('drops a previous value equal to the current one (no change), whatever its case', () => {
    const r = ok({ previousEmployeeNumber: '1001', previousUserName: 'ADA@example.com' });
    expect(r.previousEmployeeNumber).toBeUndefined();
    expect(r.previousUserName).toBeUndefined();
  });

  it('checks them like the keys they replace', () => {
    expect(reasons({ previousEmployeeNumber: 'x'.repeat(49), previousUserName: 'no-at-sign' })).toEqual([
      ['previousEmployeeNumber', 'is 49 characters long; the limit is 48'],
      ['previousUserName', 'must have the form user@domain (exactly one @ with text on both sides)'],
    ]);
  });
});

describe('normalizeRow: spend and travel', () => {
  const SPEND = { 'spend.country': 'us', 'spend.reimbursementCurrency': 'usd', 'spend.locale': 'en_us' };

  it('builds spend data with canonical codes, roles and custom data', () => {
    expect(
      ok({
        ...SPEND,
        'spend.ledgerCode': 'DEFAULT',
        'spend.stateProvince': 'US-WA',
        'spend.cashAdvanceAccountCode': '1234',
        'spend.roles': 'exp_user; EXP_APPROVER;;EXP_USER',
        'spend.reportApproverEmployeeNumber': '2002',
        'spend.customData.custom1': 'North',
        'spend.customData.orgUnit6': 'R&D',
      }).spend,
    ).toEqual({
      country: 'US',
      reimbursementCurrency: 'USD',
      locale: 'en-US',
      ledgerCode: 'DEFAULT',
      stateProvince: 'WA',
      cashAdvanceAccountCode: '1234',
      roles: ['EXP_USER', 'EXP_APPROVER'],
      reportApproverEmployeeNumber: '2002',
      customData: { custom1: 'North', orgUnit6: 'R&D' },
    });
  });

  it('a row without spend or travel cells has neither', () => {
    const row = ok({});
    expect(row).not.toHaveProperty('spend');
    expect(row).not.toHaveProperty('travel');
  });

  it('accepts every published role code, the entitlement-driven ones included', () => {
    const codes = ['SHD_BUDGET_VIEWER', 'INV_AP_USER', 'EXP_ATTENDEE_ADMIN', 'REPORTING_CONFIG_ADMIN', 'INV_PMT_USER'];
    expect(ok({ 'spend.roles': codes.join(';') }).spend?.roles).toEqual(codes);
    // Codes a real Concur refuses, though the simulator once accepted them.
    for (const invented of ['TRV_USER', 'EXP_ADMIN', 'INV_USER', 'CA_ADMIN', 'EXP_AUDITOR', 'SHD_BUDGET_MANAGER'])
      expect(reasons({ 'spend.roles': invented })[0]?.[1]).toContain(`'${invented}' is not a Concur Spend role code`);
  });

  it('roles and approver alone need no spend user fields', () => {
    expect(ok({ 'spend.roles': ['EXP_USER'], 'spend.reportApproverEmployeeNumber': '2' }).spend).toEqual({
      roles: ['EXP_USER'],
      reportApproverEmployeeNumber: '2',
    });
  });

  it('requires country, currency and locale once any spend user field is set', () => {
    expect(reasons({ 'spend.ledgerCode': 'DEFAULT' })).toEqual(
      ['spend.country', 'spend.reimbursementCurrency', 'spend.locale'].map((c) => [
        c,
        'is required when any other spend user field (spend.country ... spend.customData.*) is set',
      ]),
    );
    expect(reasons({ 'spend.customData.custom3': 'x', 'spend.country': 'US', 'spend.locale': 'en-US' })).toEqual([
      [
        'spend.reimbursementCurrency',
        'is required when any other spend user field (spend.country ... spend.customData.*) is set',
      ],
    ]);
  });

  it.each([
    ['spend.country', 'XX', "'XX' is not an assigned ISO 3166-1 alpha-2 country code"],
    ['spend.country', 'USA', "'USA' is not a 2-letter ISO 3166 country code"],
    ['spend.country', 'UK', "'UK' is not an assigned ISO 3166-1 alpha-2 country code"],
    ['spend.reimbursementCurrency', 'ABC', "'ABC' is not a current ISO 4217 currency code"],
    ['spend.reimbursementCurrency', 'US$', "'US$' is not a 3-letter ISO 4217 currency code"],
    ['spend.locale', 'english', "'english' is not a locale of the form en-US"],
    ['spend.stateProvince', 'WAS', "'WAS' is not a subdivision code of at most 2 letters or digits"],
    ['spend.ledgerCode', 'L'.repeat(21), 'is 21 characters long; the limit is 20'],
    ['spend.cashAdvanceAccountCode', 'C'.repeat(21), 'is 21 characters long; the limit is 20'],
    ['spend.customData.custom22', 'v'.repeat(49), 'is 49 characters long; the limit is 48'],
    ['spend.roles', 'EXP USER', "'EXP USER' is not a role code (letters, digits and _ only, e.g. EXP_APPROVER)"],
    [
      'spend.roles',
      'EXP_USER;TRV_USER',
      "'TRV_USER' is not a Concur Spend role code (the codes are listed in docs/concur-api.md#spend-role-codes)",
    ],
    [
      'spend.roles',
      'exp_config_admin;EXP_CONFIG_ADMIN_RO',
      'a user cannot hold both EXP_CONFIG_ADMIN and EXP_CONFIG_ADMIN_RO (Concur refuses the pair)',
    ],
    ['spend.reportApproverEmployeeNumber', '1001', "is the row's own employeeNumber"],
  ])('%s %j', (column, value, reason) => {
    expect(reasons({ ...SPEND, [column]: value })).toEqual([[column, reason]]);
  });

  it('builds travel data: id or name rule class, integer groups, manager', () => {
    expect(
      ok({ 'travel.ruleClass': '624905', 'travel.groups': '1;2; 2', 'travel.managerEmployeeNumber': '3' }).travel,
    ).toEqual({
      ruleClass: { id: 624905 },
      groups: [1, 2],
      managerEmployeeNumber: '3',
    });
    expect(ok({ 'travel.ruleClass': 'Standard Travel', 'travel.groups': ['7'] }).travel).toEqual({
      ruleClass: { name: 'Standard Travel' },
      groups: [7],
    });
  });

  it.each([
    [
      { 'travel.groups': '1' },
      'travel.ruleClass',
      'is required when any other travel field is set (Concur needs exactly one rule class per travel user)',
    ],
    [{ 'travel.ruleClass': '1', 'travel.groups': '1;x' }, 'travel.groups', "'x' is not a positive integer id"],
    [{ 'travel.ruleClass': '1', 'travel.groups': '0' }, 'travel.groups', "'0' is not a positive integer id"],
    [{ 'travel.ruleClass': '99999999999' }, 'travel.ruleClass', "'99999999999' is not a positive integer id"],
    [
      { 'travel.ruleClass': '1', 'travel.managerEmployeeNumber': '1001' },
      'travel.managerEmployeeNumber',
      "is the row's own employeeNumber",
    ],
  ])('travel %j', (extra, column, reason) => {
    expect(reasons(extra)).toEqual([[column, reason]]);
  });
});

describe('the hostile-values fixture', () => {
  it('each row gets the right verdict', async () => {
    const { items } = await readAll(fixture('hostile-values.csv'));
    const verdicts = items.map((item) => {
      if (item.kind !== 'row') return item.problem;
      const r = prepareRow(item.rowNumber, item.record, mapper);
      return r.ok ? 'ok' : r.errors.map((e) => `${e.column}: ${e.reason.split(' (')[0]!.split(',')[0]}`).join(' | ');
    });
    expect(verdicts).toEqual([
      "givenName: starts with '='",
      "familyName: starts with '+'",
      "userName: contains '('",
      "userName: contains '|'",
      "startDate: '2079-06-07' is outside Concur's range 1900-01-01..2079-06-06",
      "startDate: '1899-12-31' is outside Concur's range 1900-01-01..2079-06-06",
      'ok',
      'ok',
      'ok',
      'ok',
      'email: is 300 characters long; the limit is 255',
    ]);
  });
});
