import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { formatFromPath, hashFile, openDrop, sniffDelimiter } from '../../../src/producers/sources/index.ts';
import { errors, fixture, readAll, readError, rows, scratch } from './read-all.ts';

const tmp = scratch();
afterAll(() => tmp.cleanup());

const HEADER = 'userName,givenName,familyName,email,employeeNumber';

describe('CSV drops', () => {
  it('reads the template fixture with row numbers, physical lines, sha256 and counts', async () => {
    const path = fixture('template-valid.csv');
    const { items, summary } = await readAll(path);
    expect(items.map((i) => [i.kind, i.rowNumber, i.line])).toEqual([
      ['row', 1, 2],
      ['row', 2, 3],
      ['row', 3, 4],
    ]);
    const first = rows(items)[0]!.record;
    expect(first['spend.roles']).toBe('EXP_USER;EXP_APPROVER');
    expect(first['travel.groups']).toBe('143519480;143519481');
    expect(rows(items)[1]!.record.title).toBe('Engineer, Difference');
    expect(summary).toMatchObject({ format: 'csv', rows: 3, rowErrors: 0, delimiter: ',', encoding: 'utf-8' });
    expect(summary.sha256).toBe(createHash('sha256').update(readFileSync(path)).digest('hex'));
    expect(summary.columns).toHaveLength(30);
    expect(await hashFile(path)).toBe(summary.sha256);
  });

  it.each([
    ['semicolon.csv', ';'],
    ['tab.tsv', '\t'],
    ['pipe.csv', '|'],
  ])('sniffs the delimiter of %s', async (name, delimiter) => {
    const { items, summary } = await readAll(fixture(name));
    expect(summary.delimiter).toBe(delimiter);
    expect(rows(items)[0]!.record).toEqual({
      userName: 'ada@example.com',
      givenName: 'Ada',
      familyName: 'Lovelace',
      email: 'ada@example.com',
      employeeNumber: '1',
    });
  });

  it('honours an explicit delimiter over sniffing', async () => {
    const path = tmp.path('explicit.csv', 'a;b,c\n1;2,3\n');
    const { items } = await readAll(path, { delimiter: ',' });
    expect(rows(items)[0]!.record).toEqual({ 'a;b': '1;2', c: '3' });
  });

  it('sniffDelimiter ignores delimiters inside quotes and prefers comma on a tie', () => {
    expect(sniffDelimiter('"a;b;c",d,e')).toBe(',');
    expect(sniffDelimiter('a;b,c')).toBe(',');
    expect(sniffDelimiter('a|b|c')).toBe('|');
  });

  it('keeps commas, doubled quotes and newlines inside quoted fields, and counts lines physically', async () => {
    const { items } = await readAll(fixture('quoted.csv'));
    expect(items.map((i) => [i.rowNumber, i.line])).toEqual([
      [1, 2],
      [2, 4],
    ]);
    expect(rows(items)[0]!.record.title).toBe('Analyst, "Senior"\nEngines');
    expect(rows(items)[1]!.record.familyName).toBe("O'Brien, Jr");
  });

  it('reads CRLF files, including CRLF inside quoted fields, with correct lines', async () => {
    const path = tmp.path('crlf.csv', `${HEADER}\r\na@x.com,"A\r\nB",C,a@x.com,1\r\n\r\nb@x.com,B,C,b@x.com,2\r\n`);
    const { items } = await readAll(path);
    expect(items.map((i) => [i.kind, i.rowNumber, i.line])).toEqual([
      ['row', 1, 2],
      ['row', 2, 5],
    ]);
    expect(rows(items)[0]!.record.givenName).toBe('A\r\nB');
    expect(rows(items)[1]!.record.employeeNumber).toBe('2');
  });

  it('skips blank lines and all-empty rows without numbering them', async () => {
    const path = tmp.path('blank.csv', `\n${HEADER}\n\n,,,,\na@x.com,A,B,a@x.com,1\n   \n`);
    const { items, summary } = await readAll(path);
    expect(items.map((i) => [i.rowNumber, i.line])).toEqual([[1, 5]]);
    expect(summary).toMatchObject({ rows: 1, blankRows: 2 });
  });

  it('reports ragged rows as row errors and keeps reading', async () => {
    const { items, summary } = await readAll(fixture('ragged.csv'));
    expect(items.map((i) => [i.kind, i.rowNumber, i.line])).toEqual([
      ['row', 1, 2],
      ['error', 2, 3],
      ['error', 3, 4],
      ['row', 4, 5],
    ]);
    const [short, long] = errors(items);
    expect(short!.message).toBe(
      `${fixture('ragged.csv')} row 2 (line 3): has 4 fields; the header has 5 (a ragged row)`,
    );
    expect(long!.problem).toContain('has 6 fields');
    expect(summary).toMatchObject({ rows: 4, rowErrors: 2 });
  });

  it('keeps a stray quote inside an unquoted field as text', async () => {
    const path = tmp.path('stray.csv', `${HEADER}\na@x.com,John "JJ",Smith,a@x.com,1\n`);
    const { items } = await readAll(path);
    expect(rows(items)[0]!.record.givenName).toBe('John "JJ"');
  });

  it('names nameless columns only when they hold a value', async () => {
    const path = tmp.path('nameless.csv', `${HEADER},\na@x.com,A,B,a@x.com,1,\nb@x.com,A,B,b@x.com,2,oops\n`);
    const { items } = await readAll(path);
    expect(Object.keys(rows(items)[0]!.record)).toEqual(HEADER.split(','));
    expect(errors(items)[0]).toMatchObject({
      rowNumber: 2,
      problem: 'has a value in column 6, which has no name in the header',
    });
  });

  it('gives header-only files zero rows', async () => {
    const { items, summary } = await readAll(fixture('header-only.csv'));
    expect(items).toEqual([]);
    expect(summary.rows).toBe(0);
    expect(summary.columns).toEqual(HEADER.split(','));
  });

  it('hands the header to onHeader, which may reject the file', async () => {
    const seen: string[][] = [];
    await readAll(fixture('semicolon.csv'), { onHeader: (c) => seen.push(c) });
    expect(seen).toEqual([HEADER.split(',')]);
    const err = await readError(fixture('semicolon.csv'), {
      onHeader: () => {
        throw Object.assign(new Error('no thanks'), { code: 'PROV_ERR_INPUT' });
      },
    });
    expect(err.message).toBe('no thanks');
  });

  it('builds records with a null prototype so a __proto__ column is just a column', async () => {
    const path = tmp.path('proto.csv', '__proto__,constructor\nx,y\n');
    const { items } = await readAll(path);
    const record = rows(items)[0]!.record;
    expect(Object.getPrototypeOf(record)).toBeNull();
    expect(record.__proto__).toBe('x');
    expect(record.constructor).toBe('y');
  });

  describe('file-level rejections', () => {
    it.each([
      ['unclosed-quote.csv', /has a quoted field that is never closed \(unclosed quote\)/],
      ['empty.csv', /is empty: there is no header row/],
      ['duplicate-header.csv', /has the column name 'email' twice in its header \(columns 2 and 4\) \(line 1\)/],
    ])('%s', async (name, pattern) => {
      const err = await readError(fixture(name));
      expect(err.code).toBe('PROV_ERR_INPUT');
      expect(err.message).toMatch(pattern);
      expect(err.message.startsWith(fixture(name))).toBe(true);
      expect(err.details.file).toBe(fixture(name));
    });

    it('rejects a header with more columns than the limit (10,000 columns)', async () => {
      const header = Array.from({ length: 10_000 }, (_, i) => `c${i}`).join(',');
      const err = await readError(tmp.path('wide.csv', `${header}\n`));
      expect(err.message).toMatch(/has more than 1000 columns in its header; the limit is 1000 \(line 1\)/);
    });

    it('rejects a record over maxRecordChars (a 50 MB field) without reading it all', async () => {
      const path = tmp.path(
        'huge.csv',
        Buffer.concat([
          Buffer.from(`${HEADER}\na@x.com,"`),
          Buffer.alloc(50 * 1024 * 1024, 0x61),
          Buffer.from('",B,a@x.com,1\n'),
        ]),
      );
      const err = await readError(path);
      expect(err.message).toMatch(/has a record longer than 1048576 characters/);
    });

    it('a field over maxFieldBytes but within the record limit is a row error', async () => {
      const path = tmp.path(
        'bigfield.csv',
        `${HEADER}\na@x.com,${'x'.repeat(100)},B,a@x.com,1\nb@x.com,A,B,b@x.com,2\n`,
      );
      const { items } = await readAll(path, { maxFieldBytes: 50 });
      expect(items.map((i) => i.kind)).toEqual(['error', 'row']);
      expect(errors(items)[0]!.problem).toBe("the value in column 'givenName' is longer than 50 bytes");
    });

    it('rejects an unknown extension unless a format is given', () => {
      expect(() => openDrop('/tmp/drop.xlsx')).toThrow(/cannot tell the format from the extension '.xlsx'/);
      expect(openDrop('/tmp/drop.xlsx', { format: 'csv' }).format).toBe('csv');
    });

    it('rejects a missing file with PROV_ERR_INPUT', async () => {
      const err = await readError('/nonexistent/dir/drop.csv');
      expect(err.code).toBe('PROV_ERR_INPUT');
      expect(err.message).toMatch(/cannot be read \(ENOENT\)/);
    });
  });

  it('picks formats from extensions', () => {
    expect(['a.csv', 'a.TSV', 'a.txt', 'a.json', 'a.ndjson', 'a.jsonl', 'a.xml'].map(formatFromPath)).toEqual([
      'csv',
      'csv',
      'csv',
      'json',
      'ndjson',
      'ndjson',
      undefined,
    ]);
  });

  it('a reader is single-use and its summary waits for the end', async () => {
    const reader = openDrop(fixture('semicolon.csv'));
    expect(() => reader.summary()).toThrow(/only after every row was read/);
    for await (const _ of reader) {
      // drain
    }
    expect(reader.finished).toBe(true);
    expect(() => reader[Symbol.asyncIterator]()).toThrow(/only once/);
  });

  it('stops cleanly when the consumer breaks early', async () => {
    const reader = openDrop(fixture('template-valid.csv'));
    const seen: number[] = [];
    for await (const item of reader) {
      seen.push(item.rowNumber);
      break;
    }
    expect(seen).toEqual([1]);
    expect(reader.finished).toBe(false);
  });
});
