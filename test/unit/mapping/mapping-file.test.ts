import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openDrop } from '../../../src/producers/sources/index.ts';
import {
  applyTransforms,
  compileMapping,
  loadMappingFile,
  mappingFingerprint,
  parseDate,
  parseMappingFile,
  prepareRow,
  type NormalizeResult,
} from '../../../src/shared/mapping/index.ts';
import { fixture } from '../sources/read-all.ts';

function rejection(input: unknown): {
  code: string;
  message: string;
  details: { issues: Array<{ path: string; message: string }> };
} {
  try {
    parseMappingFile(input, 'm.json');
  } catch (err) {
    return err as never;
  }
  throw new Error('expected the mapping to be rejected');
}

describe('mapping file schema', () => {
  it('accepts the empty mapping and fills defaults', () => {
    expect(parseMappingFile({})).toEqual({
      columns: {},
      transforms: {},
      constants: {},
      defaults: {},
      ignore: [],
      unknownColumns: 'error',
    });
  });

  it('names the path of each mistake', () => {
    const err = rejection({
      columns: { Hire: { to: 'startDate', transforms: [{ date: 'YYYY' }] }, Foo: 'notAColumn' },
      defaults: { nope: 'x' },
      extra: true,
    });
    expect(err.code).toBe('PROV_ERR_INPUT');
    const paths = err.details.issues.map((i) => i.path);
    expect(paths).toContain('columns.Hire.transforms.0.date');
    expect(paths).toContain('columns.Foo');
    expect(paths).toContain('defaults.nope');
    expect(err.message).toMatch(/^m\.json is invalid:/);
    expect(err.message).toContain("'notAColumn' is not a template column");
  });

  it('refuses two mapping keys that differ only in case, and a constant that is also a default', () => {
    const err = rejection({
      columns: { Email: 'email', EMAIL: 'userName' },
      constants: { title: 'x' },
      defaults: { title: 'y' },
    });
    expect(err.details.issues).toEqual(
      expect.arrayContaining([
        { path: 'columns.EMAIL', message: "maps the same column as 'Email' (names match case-insensitively)" },
        { path: 'defaults.title', message: 'is also a constant' },
      ]),
    );
  });

  it('loads from disk and reports bad JSON with the file name', async () => {
    const m = await loadMappingFile(fixture('workday-mapping.json'));
    expect(m.ignore).toEqual(['SSN', 'Home_Phone', 'Date_of_Birth']);
    await expect(loadMappingFile(fixture('workday.csv'))).rejects.toMatchObject({
      code: 'PROV_ERR_INPUT',
      message: expect.stringMatching(/is not valid JSON/),
    });
    await expect(loadMappingFile('/nonexistent.json')).rejects.toMatchObject({
      message: expect.stringMatching(/cannot read the mapping file \(ENOENT\)/),
    });
  });

  it('fingerprints by meaning, not key order', () => {
    const a = parseMappingFile({ columns: { A: 'email', B: 'userName' } });
    const b = parseMappingFile({ columns: { B: 'userName', A: 'email' } });
    const c = parseMappingFile({ columns: { A: 'userName', B: 'email' } });
    expect(mappingFingerprint(a)).toBe(mappingFingerprint(b));
    expect(mappingFingerprint(a)).not.toBe(mappingFingerprint(c));
    expect(mappingFingerprint(undefined)).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('transforms', () => {
  it.each([
    ['trim', '  x  ', 'x'],
    ['lower', 'AbC', 'abc'],
    ['upper', 'AbC', 'ABC'],
    ['boolean', 'Y', 'true'],
    ['boolean', 'no', 'false'],
    ['boolean', '1', 'true'],
    ['boolean', 'FALSE', 'false'],
    ['boolean', '', ''],
  ] as const)('%s(%j) → %j', (t, input, out) => {
    expect(applyTransforms(input, [t])).toEqual({ value: out });
  });

  it('boolean refuses other words', () => {
    expect(applyTransforms('maybe', ['boolean'])).toEqual({
      reason: "'maybe' is not one of true/false, yes/no, y/n, t/f or 1/0",
    });
  });

  it('custom boolean words', () => {
    const t = [{ boolean: { true: ['Active'], false: ['Terminated', 'Retired'] } }];
    expect(applyTransforms(' active ', t)).toEqual({ value: 'true' });
    expect(applyTransforms('RETIRED', t)).toEqual({ value: 'false' });
    expect(applyTransforms('Y', t)).toMatchObject({
      reason: expect.stringContaining("'Y' is not one of Active, Terminated, Retired"),
    });
  });

  it.each([
    ['DD.MM.YYYY', '31.12.2024', '2024-12-31'],
    ['MM/DD/YYYY', '02/29/2024', '2024-02-29'],
    ['M/D/YYYY', '2/1/2020', '2020-02-01'],
    ['YYYYMMDD', '20200115', '2020-01-15'],
    ['YYYY-MM-DD', '2020-01-15T00:00:00Z', '2020-01-15'],
    ['MM/DD/YYYY', '01/15/2020 00:00:00', '2020-01-15'],
  ])('date %s parses %s', (format, input, out) => {
    expect(parseDate(input, format)).toBe(out);
    expect(applyTransforms(input, [{ date: format }])).toEqual({ value: out });
  });

  it.each([
    ['DD.MM.YYYY', '31.02.2024'],
    ['MM/DD/YYYY', '02/29/2023'],
    ['MM/DD/YYYY', '13/01/2020'],
    ['YYYYMMDD', '2020011'],
    ['DD.MM.YYYY', '2020-01-01'],
  ])('date %s refuses %s', (format, input) => {
    expect(parseDate(input, format)).toBeUndefined();
    expect(applyTransforms(input, [{ date: format }])).toEqual({
      reason: `'${input}' is not a valid date in the form ${format}`,
    });
  });

  it('map, default, constant, and lists', () => {
    const map = { map: { FT: 'EXP_USER', pt: 'EXP_USER;EXP_APPROVER' }, otherwise: 'keep' as const };
    expect(applyTransforms('ft', [map])).toEqual({ value: 'EXP_USER' });
    expect(applyTransforms('other', [map])).toEqual({ value: 'other' });
    expect(applyTransforms('other', [{ ...map, otherwise: 'empty' }])).toEqual({ value: '' });
    expect(applyTransforms('other', [{ ...map, otherwise: 'error' }])).toEqual({
      reason: "'other' is not one of the mapped values",
    });
    expect(applyTransforms(['ft', ' PT '], ['trim', map])).toEqual({ value: ['EXP_USER', 'EXP_USER;EXP_APPROVER'] });
    expect(applyTransforms('', [{ default: 'd' }])).toEqual({ value: 'd' });
    expect(applyTransforms(null, [{ default: 'd' }])).toEqual({ value: 'd' });
    expect(applyTransforms('x', [{ default: 'd' }])).toEqual({ value: 'x' });
    expect(applyTransforms('x', [{ constant: 'c' }])).toEqual({ value: 'c' });
    expect(applyTransforms(true, ['upper'])).toEqual({ value: 'TRUE' });
  });
});

describe('compileMapping', () => {
  const base = { userName: 'a@x.com', givenName: 'A', familyName: 'B', email: 'a@x.com', employeeNumber: '1' };

  it('without a mapping: template columns pass (any case); unknown columns are reported', () => {
    const mapper = compileMapping();
    expect(mapper.checkColumns(['UserName', 'GIVENNAME', 'familyName', 'email', 'employeeNumber'])).toEqual([]);
    expect(mapper.checkColumns(['userName', 'emial', 'givenName', 'familyName'])).toEqual([
      "unknown columns 'emial': not template columns (docs/template.md), not mapped and not in the mapping's ignore list",
      'required columns missing: email, employeeNumber',
    ]);
    expect(() => mapper.assertColumns('hr.csv', ['userName'])).toThrow(
      /^hr\.csv: the header does not fit the template\/mapping: required columns missing/,
    );
    const { mapped, errors } = mapper.map(1, { ...base, Emial: 'x' });
    expect(mapped.userName).toEqual({ value: 'a@x.com', source: 'userName' });
    expect(errors).toEqual([
      { row: 1, column: 'Emial', reason: 'unknown column: not a template column, not mapped and not ignored' },
    ]);
  });

  it('unknownColumns: ignore drops unknown columns silently', () => {
    const mapper = compileMapping(parseMappingFile({ unknownColumns: 'ignore' }));
    expect(mapper.checkColumns([...Object.keys(base), 'Whatever'])).toEqual([]);
    expect(mapper.map(1, { ...base, Whatever: 'x' }).errors).toEqual([]);
  });

  it('reports two columns feeding one field, and a column fighting a constant', () => {
    const mapper = compileMapping(parseMappingFile({ columns: { Mail: 'email' }, constants: { title: 'T' } }));
    expect(mapper.checkColumns([...Object.keys(base), 'Mail', 'title'])).toEqual([
      "columns 'email' and 'Mail' both map to email",
      "column 'title' maps to title, which the mapping sets as a constant",
    ]);
    const { errors, mapped } = mapper.map(4, { ...base, Mail: 'other@x.com', title: 'mine' });
    expect(errors).toEqual([
      { row: 4, column: 'Mail', field: 'email', reason: "both 'email' and 'Mail' give email" },
      {
        row: 4,
        column: 'title',
        field: 'title',
        reason: 'title is a constant in the mapping; remove the column or the constant',
      },
    ]);
    expect(mapped.title).toEqual({ value: 'T', source: '(constant)' });
    // An empty duplicate is no conflict.
    expect(mapper.map(5, { ...base, Mail: '' }).errors).toEqual([]);
  });

  it('maps the Workday fixture end to end', async () => {
    const mapping = await loadMappingFile(fixture('workday-mapping.json'));
    const mapper = compileMapping(mapping);
    const reader = openDrop(fixture('workday.csv'), {
      onHeader: (columns) => mapper.assertColumns('workday.csv', columns),
    });
    const results: NormalizeResult[] = [];
    for await (const item of reader) {
      if (item.kind === 'row') results.push(prepareRow(item.rowNumber, item.record, mapper));
    }
    expect(results).toHaveLength(4);
    const [ada, charles, grace, alan] = results;
    expect(ada).toEqual({
      ok: true,
      row: {
        rowNumber: 1,
        userName: 'ada.lovelace@example.com',
        givenName: 'Ada',
        familyName: 'Lovelace',
        email: 'ada.lovelace@example.com',
        employeeNumber: 'W-1001',
        active: true,
        title: 'Chief Analyst',
        timezone: 'America/New_York',
        costCenter: 'CC100',
        department: 'Research',
        startDate: '2020-01-15',
        spend: {
          country: 'GB',
          reimbursementCurrency: 'GBP',
          locale: 'en-US',
          ledgerCode: 'DEFAULT',
          customData: { custom1: '2020-01-15' },
          roles: ['EXP_USER', 'EXP_APPROVER'],
        },
      },
    });
    expect(charles).toMatchObject({
      ok: true,
      row: { active: true, startDate: '2020-02-01', managerEmployeeNumber: 'W-1001', spend: { roles: ['EXP_USER'] } },
    });
    expect(grace).toMatchObject({
      ok: true,
      row: { active: false, terminationDate: '2024-12-31', middleName: 'Brewster' },
    });
    expect(alan).toEqual({
      ok: false,
      errors: [
        {
          row: 4,
          column: 'Worker_Status',
          field: 'active',
          reason: "'Retired' is not one of Active, On Leave, Terminated",
        },
        {
          row: 4,
          column: 'Hire_Date',
          field: 'startDate',
          reason: "'13/45/2021' is not a valid date in the form MM/DD/YYYY",
        },
        {
          row: 4,
          column: 'Termination_Date',
          field: 'terminationDate',
          reason: "'31.02.2024' is not a valid date in the form DD.MM.YYYY",
        },
        { row: 4, column: 'Expense_Roles', field: 'spend.roles', reason: "'Boss' is not one of the mapped values" },
        {
          row: 4,
          column: 'Pay_Group_Start',
          field: 'spend.customData.custom1',
          reason: "'2020' is not a valid date in the form YYYYMMDD",
        },
      ],
    });
    // The drop's raw bytes never leaked the ignored columns into the mapped rows.
    expect(JSON.stringify(results)).not.toContain('123-45-6789');
    expect(readFileSync(fixture('workday.csv'), 'utf8')).toContain('123-45-6789');
  });

  it('rejects a Workday file whose header gained an unknown column', () => {
    const mapper = compileMapping(parseMappingFile({ columns: { Employee_ID: 'employeeNumber' } }));
    expect(mapper.checkColumns(['Employee_ID', 'Bonus'])[0]).toMatch(/unknown columns 'Bonus'/);
  });
});
