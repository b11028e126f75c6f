import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recordLine } from '../../../src/demo/employee-import.ts';
import { translateCurrency, translateRole } from '../../../src/producers/sources/employee-import/codes.ts';
import { LAYOUTS } from '../../../src/producers/sources/employee-import/layouts.ts';
import {
  detectDropFormat,
  openDrop,
  type DropItem,
  type DropPerson,
  type OpenDropOptions,
} from '../../../src/producers/sources/index.ts';
import type { NormalizedRow } from '../../../src/shared/mapping/types.ts';

const dir = mkdtempSync(join(tmpdir(), 'ei-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const HEADER = (mode = 'UPDATE', threshold = '0') =>
  recordLine('100', { 2: threshold, 3: 'SSO', 4: mode, 5: 'EN', 6: 'N', 7: 'N' });

function file(lines: string[], name = `employee_t0001_${++n}.txt`, raw?: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, raw ?? `${lines.join('\r\n')}\r\n`);
  return path;
}

async function read(path: string, options: OpenDropOptions = {}): Promise<DropItem[]> {
  const items: DropItem[] = [];
  for await (const item of openDrop(path, options)) items.push(item);
  return items;
}

const people = (items: DropItem[]): NormalizedRow[] =>
  items.filter((i): i is DropPerson => i.kind === 'person').map((i) => i.row);

const e305 = (values: Record<number, string>) =>
  recordLine('305', {
    2: 'Ada',
    4: 'Lovelace',
    5: 'E1',
    6: 'ada@example.com',
    8: 'ada@example.com',
    9: 'en_US',
    10: 'US',
    12: 'DEFAULT',
    13: 'USD',
    15: 'Y',
    ...values,
  });

describe('employee import layouts', () => {
  it('has the field counts of SAP spec (Jan 2024)', () => {
    const counts = Object.fromEntries([...LAYOUTS].map(([t, l]) => [t, l.fields.length]));
    expect(counts).toEqual({
      '300': 86,
      '305': 137,
      '310': 24,
      '315': 13,
      '320': 9,
      '350': 67,
      '360': 35,
      '370': 30,
      '400': 13,
      '500': 11,
      '550': 18,
      '700': 16,
      '710': 17,
      '720': 17,
      '750': 13,
      '760': 13,
    });
  });

  it('translates codes: numeric currencies, legacy role codes', () => {
    expect(translateCurrency('840')).toEqual({ value: 'USD' });
    expect(translateCurrency('36')).toEqual({ value: 'AUD' });
    expect(translateCurrency('999')).toHaveProperty('reason');
    expect(translateRole('ACCT_CLERK')).toBe('EXP_PROCESSOR');
    expect(translateRole('PMT_ACCT_MGR')).toBe('INV_PROCESSOR_MANAGER');
    expect(translateRole('EXP_APPROVER')).toBe('EXP_APPROVER');
  });
});

describe('employee import drops', () => {
  it('is detected from a first line that is a 100 record, whatever the extension (BOM, CRLF)', async () => {
    const path = join(dir, 'employee_t0001_20240101000000.txt');
    writeFileSync(path, `\uFEFF${HEADER()}\r\n${e305({})}\r\n`);
    expect(await detectDropFormat(path)).toBe('employee-import');
    const csv = file(['userName,email', 'a@b.c,a@b.c'], 'plain.txt');
    expect(await detectDropFormat(csv)).toBe('csv');
    const [row] = people(await read(path));
    expect(row).toMatchObject({ employeeNumber: 'E1', userName: 'ada@example.com', givenName: 'Ada', active: true });
  });

  it('maps a 305 with code translations into identity fields and UPS operations', async () => {
    const path = file([
      HEADER(),
      e305({ 9: 'en_GB', 10: 'UK', 11: 'US-WA', 13: '978', 16: 'SALES', 22: 'C1', 59: 'E2', 64: 'Y', 76: 'NVR' }),
    ]);
    const [row] = people(await read(path));
    const ops = row!.upsOperations!;
    expect(ops[0]).toEqual({
      op: 'add',
      path: 'urn:ietf:params:scim:schemas:extension:spend:2.0:User',
      value: {
        locale: 'en-GB',
        country: 'GB',
        stateProvince: 'WA',
        ledgerCode: 'DEFAULT',
        reimbursementCurrency: 'EUR',
        customData: [
          { id: 'orgUnit1', value: 'SALES' },
          { id: 'custom1', value: 'C1' },
        ],
      },
    });
    expect(ops).toContainEqual({
      op: 'add',
      path: 'urn:ietf:params:scim:schemas:extension:spend:2.0:UserPreference',
      value: { expenseAuditRequired: 'NEVER' },
    });
    expect(ops).toContainEqual({
      op: 'add',
      path: 'urn:ietf:params:scim:schemas:extension:spend:2.0:Approver:report[primary eq true]',
      value: { approver: { employeeNumber: 'E2' }, primary: true },
    });
    expect(ops).toContainEqual({
      op: 'add',
      path: 'urn:ietf:params:scim:schemas:extension:spend:2.0:Role:roles',
      value: [{ roleName: 'EXP_APPROVER', roleGroups: [] }],
    });
    expect(row!.upsReferences).toEqual(['E2']);
    // Expense User blank: granted when the person is created (SAP's special default).
    expect(row!.entitlements).toEqual({ onCreate: ['Expense'] });
  });

  it('blank leaves a field alone, $BLANK$ clears it (UPDATE)', async () => {
    const path = file([
      HEADER(),
      e305({ 3: '$BLANK$', 14: '$BLANK$', 22: '' }),
      recordLine('350', { 2: 'E1', 13: '$BLANK$', 19: '$BLANK$' }),
    ]);
    const [row] = people(await read(path));
    expect(row!.clearIdentity).toEqual(['name.middleName', 'phoneNumbers[type eq "fax"]']);
    const removes = row!.upsOperations!.filter((o) => o.op === 'remove').map((o) => o.path);
    expect(removes).toEqual([
      'urn:ietf:params:scim:schemas:extension:spend:2.0:User:cashAdvanceAccountCode',
      'urn:ietf:params:scim:schemas:extension:travel:2.0:User:travelCrsName',
    ]);
    expect(JSON.stringify(row)).not.toContain('custom1');
  });

  it('REPLACE clears the blank fields a record owns, never with a PUT; WARN and IGNORE leave existing people', async () => {
    const [replaced] = people(await read(file([HEADER('REPLACE'), e305({})])));
    expect(replaced!.clearIdentity).toContain('name.middleName');
    expect(
      replaced!.upsOperations!.some((o) => o.path.endsWith(':User:cashAdvanceAccountCode') && o.op === 'remove'),
    ).toBe(true);
    expect(replaced!.upsOperations!.every((o) => o.op !== ('put' as string))).toBe(true);
    const [warned] = people(await read(file([HEADER('WARN'), e305({})])));
    expect(warned!.whenExists).toBe('warn');
    const [ignored] = people(await read(file([HEADER('IGNORE'), e305({})])));
    expect(ignored!.whenExists).toBe('ignore');
  });

  it('merges every record of one person into one row with every line, wherever they are in the file', async () => {
    const path = file([
      HEADER(),
      e305({}),
      e305({ 2: 'Bob', 5: 'E2', 6: 'bob@example.com', 8: 'bob@example.com' }),
      recordLine('350', { 2: 'E2', 18: 'Standard' }),
      recordLine('400', { 2: 'E1', 3: 'ACCT_CLERK', 4: 'US', 5: 'WEST' }),
      recordLine('550', { 2: 'E1', 3: 'E2', 4: 'EXP', 5: 'Y' }),
      recordLine('700', { 2: 'EXP', 3: 'E1', 4: 'US', 15: '100', 16: '840' }),
      recordLine('750', { 2: 'PMT', 3: 'E1' }),
    ]);
    const items = await read(path, { partitionRows: 1 });
    const rows = people(items);
    expect(rows.map((r) => [r.rowNumber, r.employeeNumber, r.lines])).toEqual([
      [1, 'E1', [2, 5, 6, 7, 8]],
      [2, 'E2', [3, 4]],
    ]);
    const ops = rows[0]!.upsOperations!;
    expect(ops).toContainEqual({
      op: 'add',
      path: 'urn:ietf:params:scim:schemas:extension:spend:2.0:Role:roles',
      value: [{ roleName: 'EXP_PROCESSOR', roleGroups: ['US-WEST'] }],
      rights: true,
    });
    expect(ops).toContainEqual({
      op: 'add',
      path: 'urn:ietf:params:scim:schemas:extension:spend:2.0:Delegate:expense[delegate.employeeNumber eq "E2"]',
      value: { delegate: { employeeNumber: 'E2' }, canPrepare: true },
      rights: true,
    });
    expect(ops).toContainEqual({
      op: 'add',
      path: 'urn:ietf:params:scim:schemas:extension:spend:2.0:ApproverLimit:authorizedApprover[approvalType eq "report" and approvalGroup eq "US"]',
      value: { approvalType: 'report', approvalGroup: 'US', approvalLimit: 100, reimbursementCurrency: 'USD' },
      rights: true,
    });
    // Removals go last, whatever their place in the file.
    expect(ops.at(-1)).toEqual({
      op: 'remove',
      path: 'urn:ietf:params:scim:schemas:extension:spend:2.0:ApproverLimit:authorizedApprover[approvalType eq "payment" and approvalGroup eq ""]',
      rights: true,
    });
  });

  it('maps a 320 to previousEmployeeNumber and the new login, merging the records of both IDs', async () => {
    const path = file([
      HEADER(),
      recordLine('320', { 2: 'OLD1', 3: 'NEW1', 4: 'new@example.com' }),
      e305({ 5: 'NEW1', 6: 'new@example.com', 8: 'new@example.com' }),
      recordLine('350', { 2: 'OLD1', 10: 'Engineer' }),
    ]);
    const [row, ...rest] = people(await read(path));
    expect(rest).toEqual([]);
    expect(row).toMatchObject({
      employeeNumber: 'NEW1',
      previousEmployeeNumber: 'OLD1',
      userName: 'new@example.com',
      title: 'Engineer',
      lines: [2, 3, 4],
    });
  });

  it('reports each line in error with record type, line, field position and field name; the person goes on', async () => {
    const path = file([
      HEADER(),
      e305({}),
      recordLine('350', { 2: 'E1', 8: '19801345', 7: 'X' }),
      recordLine('305', { 2: 'Short' }).split(',').slice(0, 20).join(','),
      recordLine('999', { 2: 'E1' }),
    ]);
    const items = await read(path);
    const errors = items.filter((i) => i.kind === 'error');
    expect(errors.map((e) => e.message.replace(/^.*\.txt /, ''))).toEqual([
      "line 3: record 350 field 7 (Gender): 'X' is not M or F (M, F); record 350 field 8 (Date of Birth): '19801345' is not a real calendar date",
      'line 4: record 305 has 20 fields; the layout has 137',
      "line 5: '999' is not a record type of the employee import",
    ]);
    expect(people(items)).toHaveLength(1);
  });

  it('reports unsupported records per line with their type, never dropping them, never stopping the drop', async () => {
    const path = file([
      HEADER(),
      e305({}),
      recordLine('650', { 2: 'E1' }),
      recordLine('810', { 2: 'E1' }),
      'x'.repeat(0),
    ]);
    const items = await read(path);
    const unsupported = items.filter((i) => i.kind === 'unsupported');
    expect(unsupported.map((u) => [u.rowNumber, u.line, u.recordType, u.employeeNumber])).toEqual([
      [2, 3, '650', 'E1'],
      [3, 4, '810', 'E1'],
    ]);
    expect(unsupported[0]!.message).toContain('record 650 (EnhancedCardAccountImport: company card account)');
  });

  it("stops the drop when the lines in error pass the 100 record's error threshold (0: no limit)", async () => {
    const bad = recordLine('350', { 2: 'E1', 8: 'nope' });
    await expect(read(file([HEADER('UPDATE', '1'), e305({}), bad, bad]))).rejects.toThrow(
      /2 lines in error, more than the error threshold of its 100 record \(1\)/,
    );
    expect(people(await read(file([HEADER('UPDATE', '0'), e305({}), bad, bad])))).toHaveLength(1);
  });

  it('refuses a file without a valid 100 record; warns once per drop for passwords', async () => {
    await expect(read(file([e305({})]), { format: 'employee-import' })).rejects.toThrow(
      /does not start with a 100 record/,
    );
    await expect(
      read(file([recordLine('100', { 2: '0', 3: 'SSO', 4: 'MERGE', 5: 'EN', 6: 'N', 7: 'N' })])),
    ).rejects.toThrow(/record 100 field 4 \(Existing Record Handling\): 'MERGE'/);
    const reader = openDrop(file([HEADER(), e305({ 7: 'secret' }), e305({ 5: 'E2', 7: 'other' })]));
    for await (const _ of reader) void _;
    expect(reader.summary().warnings).toEqual([
      "passwords are ignored: Concur's v4 APIs provision none (2 lines carry one: 2, 3)",
    ]);
  });

  it('reads pipe-delimited files and Windows-1252 when asked', async () => {
    const pipe = [HEADER(), e305({ 2: 'Zoë' })].map((l) => l.replaceAll(',', '|'));
    const [p] = people(await read(file(pipe)));
    expect(p!.givenName).toBe('Zoë');
    const latin = Buffer.from(`${[HEADER(), e305({ 2: 'Renée' })].join('\r\n')}\r\n`, 'latin1');
    const path = file([], undefined, latin);
    await expect(read(path)).rejects.toThrow(/not valid UTF-8/);
    const [w] = people(await read(path, { encoding: 'windows-1252' }));
    expect(w!.givenName).toBe('Renée');
  });
});
