import { describe, expect, it } from 'vitest';
import {
  REPORT_COLUMNS,
  csvCell,
  renderReport,
  toReportRecord,
  type ReportRecord,
} from '../../../src/shared/ledger/report.ts';

async function collect(records: ReportRecord[], format: 'csv' | 'jsonl'): Promise<string> {
  async function* source() {
    yield* records;
  }
  let text = '';
  for await (const chunk of renderReport(source(), format)) text += chunk;
  return text;
}

describe('report', () => {
  it('escapes spreadsheet formulas and quotes CSV specials', () => {
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('+1')).toBe("'+1");
    expect(csvCell('-2')).toBe("'-2");
    expect(csvCell('@SUM')).toBe("'@SUM");
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('line\nbreak')).toBe('"line\nbreak"');
    expect(csvCell('plain')).toBe('plain');
  });

  it('names every failing schemaPath of an extension failure, not its warnings', () => {
    const record = toReportRecord(7, 'extension_failed', {
      userName: 'a@example.com',
      employeeNumber: 'E7',
      uuid: 'u-7',
      provisionId: 'p-1',
      code: 'INVALID_VALUE',
      error: 'spend:2.0:User: Invalid List Item',
      extensions: [
        {
          name: 'urn:ietf:params:scim:schemas:extension:spend:2.0:User',
          code: '500',
          messages: [
            {
              code: 'INVALID_VALUE',
              message: 'Invalid List Item',
              schemaPath: 'urn:x:customData[id eq "custom3"].value',
              type: 'error',
            },
            { code: 'INVALID_VALUE', message: 'just a warning', schemaPath: 'urn:x:testEmployee', type: 'warning' },
          ],
        },
        {
          name: 'urn:ietf:params:scim:schemas:extension:spend:2.0:Approver',
          code: '404',
          messages: [{ code: 'INVALID_USER', schemaPath: 'urn:y:report', type: 'error' }],
        },
      ],
    });
    expect(record).toEqual({
      row: '7',
      userName: 'a@example.com',
      employeeNumber: 'E7',
      state: 'extension_failed',
      action: '',
      uuid: 'u-7',
      provisionId: 'p-1',
      errorCode: 'INVALID_VALUE',
      message: 'spend:2.0:User: Invalid List Item',
      schemaPath: 'urn:x:customData[id eq "custom3"].value | urn:y:report',
      lines: '',
    });
  });

  it('uses the failing column as the schemaPath of an invalid row', () => {
    expect(
      toReportRecord(3, 'invalid', { error: 'hr.csv row 3: email: bad', column: 'email', code: 'PROV_ERR_INPUT' }),
    ).toMatchObject({ schemaPath: 'email', errorCode: 'PROV_ERR_INPUT' });
  });

  it('renders CSV with a header row and JSONL with one object per line', async () => {
    const rec = toReportRecord(1, 'done', { userName: '=x', uuid: 'u' });
    const csv = await collect([rec], 'csv');
    expect(csv.split('\r\n')[0]).toBe(REPORT_COLUMNS.join(','));
    expect(csv.split('\r\n')[1]).toBe("1,'=x,,done,,u,,,,,");
    const jsonl = await collect([rec, rec], 'jsonl');
    expect(
      jsonl
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as ReportRecord),
    ).toEqual([
      { ...rec, row: 1 },
      { ...rec, row: 1 },
    ]);
  });

  it('adds old → new per changed field with `changes`, and a UTF-8 BOM with `bom` (CSV only)', async () => {
    const rec = toReportRecord(2, 'done', {
      action: 'update',
      changes: [
        { field: 'department', old: 'Engineering', new: 'Finance' },
        { field: 'title', old: null, new: '=cmd' },
      ],
    });
    const chunks: string[] = [];
    for await (const c of renderReport(
      (async function* () {
        yield rec;
      })(),
      'csv',
      { changes: true, bom: true },
    ))
      chunks.push(c);
    const [header, line] = chunks.join('').split('\r\n');
    expect(header).toBe(`\uFEFF${[...REPORT_COLUMNS, 'changes'].join(',')}`);
    // A spreadsheet never runs a changed value as a formula: the cell is text (it starts with "d").
    expect(line?.endsWith(',department: Engineering → Finance; title: (none) → =cmd')).toBe(true);
    // Without the flags the columns and the first byte are as before.
    expect((await collect([rec], 'csv')).startsWith('row,')).toBe(true);
    expect(await collect([rec], 'csv')).not.toContain('Finance');
  });
});
