import { afterAll, describe, expect, it } from 'vitest';
import { errors, fixture, readAll, readError, rows, scratch } from './read-all.ts';

const tmp = scratch();
afterAll(() => tmp.cleanup());

describe('JSON array drops', () => {
  it('streams elements, flattens nested objects, keeps numbers as their exact text', async () => {
    const { items, summary } = await readAll(fixture('template-valid.json'));
    expect(items.map((i) => [i.kind, i.rowNumber, i.line])).toEqual([
      ['row', 1, 2],
      ['row', 2, 28],
      ['row', 3, 40],
    ]);
    const [ada, charles] = rows(items);
    expect(ada!.record).toEqual({
      userName: 'ada.lovelace@example.com',
      givenName: 'Ada',
      familyName: 'Lovelace',
      email: 'ada.lovelace@example.com',
      employeeNumber: '1001',
      active: true,
      'spend.country': 'GB',
      'spend.reimbursementCurrency': 'GBP',
      'spend.locale': 'en-GB',
      'spend.roles': ['EXP_USER', 'EXP_APPROVER'],
      'spend.customData.custom1': 'North',
      'travel.ruleClass': '624905',
      'travel.groups': ['143519480'],
    });
    expect(charles!.record['spend.reportApproverEmployeeNumber']).toBe('1001');
    expect(summary).toMatchObject({ format: 'json', rows: 3, rowErrors: 0 });
  });

  it('reports bad elements as row errors and keeps going', async () => {
    const { items, summary } = await readAll(fixture('bad-elements.json'));
    expect(items.map((i) => [i.kind, i.rowNumber, i.line, i.kind === 'error' ? i.problem : ''])).toEqual([
      ['row', 1, 2, ''],
      ['error', 2, 3, 'is a string, not an object'],
      ['error', 3, 4, 'is an array, not an object'],
      ['error', 4, 5, "has a list under 'tags' that holds objects or lists; only plain values are supported"],
      ['error', 5, 6, expect.stringMatching(/^is not valid JSON \(/)],
      ['row', 6, 7, ''],
    ]);
    expect(rows(items)[1]!.record.employeeNumber).toBe('123456789012345678901234567890');
    expect(summary).toMatchObject({ rows: 6, rowErrors: 4 });
  });

  it('does not echo element text in a JSON syntax message', async () => {
    const path = tmp.path('secret.json', '[{"givenName": "Secretname", "x": tru}]');
    const { items } = await readAll(path);
    expect(errors(items)[0]!.message).not.toContain('Secretname');
  });

  it('splits elements across any chunk boundary', async () => {
    const text = '[ {"a": "x,]}\\"", "n": -1.5e3, "b": [true, null]} ,{"c":{"d":{"e":"f"}}}, 7 ]';
    const path = tmp.path('chunks.json', text);
    for (const highWaterMark of [1, 2, 5, 1024]) {
      const { items } = await readAll(path, { highWaterMark });
      expect(items.map((i) => (i.kind === 'row' ? i.record : i.problem))).toEqual([
        { a: 'x,]}"', n: '-1.5e3', b: ['true', ''] },
        { 'c.d.e': 'f' },
        'is a string, not an object',
      ]);
    }
  });

  it('an empty array has no rows; trailing whitespace is fine', async () => {
    const { items, summary } = await readAll(tmp.path('empty-array.json', ' [ ] \n'));
    expect(items).toEqual([]);
    expect(summary.rows).toBe(0);
  });

  it('deep nesting and oversized elements are row errors', async () => {
    const deep = `${'{"a":'.repeat(40)}1${'}'.repeat(40)}`;
    const big = JSON.stringify({ userName: 'x'.repeat(2000) });
    const path = tmp.path('deep.json', `[${deep}, ${big}, {"ok": "yes"}]`);
    const { items } = await readAll(path, { maxRecordChars: 1000 });
    expect(items.map((i) => (i.kind === 'row' ? i.record : i.problem))).toEqual([
      'nests deeper than 32 levels',
      'is longer than 1000 characters',
      { ok: 'yes' },
    ]);
  });

  it('rejects a dotted key that collides with a nested one, and malformed numbers', async () => {
    const path = tmp.path(
      'collide.json',
      '[{"spend": {"country": "US"}, "spend.country": "CA"}, {"n": 01}, {"n": 1e}]',
    );
    const { items } = await readAll(path);
    expect(errors(items).map((e) => e.problem)).toEqual([
      "gives 'spend.country' twice (once nested, once as a dotted key)",
      "has a malformed number '01'",
      "has a malformed number '1e'",
    ]);
  });

  describe('file-level rejections', () => {
    it.each([
      ['not-array.json', '{"a":1}', /its top level is an object/],
      ['scalar.json', '"hello"', /its top level is not an array/],
      ['empty.json', '  \n', /is empty: expected a JSON array/],
      ['unclosed.json', '[{"a":1},\n{"b":"x', /ends inside an element that starts at line 2/],
      ['unterminated.json', '[{"a":1}', /ends before the array is closed/],
      ['mismatch.json', '[{"a":[1}]', /'}' closes a '\['/],
      ['trailing.json', '[{"a":1}] x', /more data after the closing \]/],
      ['missing-comma.json', '[{"a":1} {"b":2}]', /expected ',' or '\]' after an element, found '\{'/],
      ['empty-element.json', '[{"a":1},,{"b":2}]', /',' after a comma/],
      ['trailing-comma.json', '[{"a":1},]', /'\]' after a comma/],
    ])('%s', async (name, text, pattern) => {
      const path = tmp.path(name, text);
      const err = await readError(path);
      expect(err.code).toBe('PROV_ERR_INPUT');
      expect(err.message).toMatch(pattern);
      expect(err.message.startsWith(`${path}: `)).toBe(true);
    });
  });
});

describe('NDJSON drops', () => {
  it('reads one object per line and skips blank lines', async () => {
    const { items, summary } = await readAll(fixture('template-valid.ndjson'));
    expect(items.map((i) => [i.kind, i.rowNumber, i.line])).toEqual([
      ['row', 1, 1],
      ['row', 2, 2],
      ['row', 3, 3],
    ]);
    expect(rows(items)[2]!.record.active).toBe(false);
    expect(summary).toMatchObject({ format: 'ndjson', rows: 3 });
  });

  it('a bad line is a row error naming its line; the rest is read', async () => {
    const { items } = await readAll(fixture('bad-lines.ndjson'));
    expect(items.map((i) => [i.kind, i.rowNumber, i.line, i.kind === 'error' ? i.problem : ''])).toEqual([
      ['row', 1, 1, ''],
      ['error', 2, 3, 'is not a JSON object'],
      ['error', 3, 4, 'has more than one JSON value on the line'],
      ['error', 4, 5, 'is a string, not an object'],
      ['error', 5, 6, 'is not valid JSON (the value is cut off: an unclosed string, object or array)'],
      ['row', 6, 7, ''],
    ]);
  });

  it('handles CRLF, a last line without newline, and over-long lines', async () => {
    const path = tmp.path('crlf.ndjson', `{"a":"1"}\r\n${JSON.stringify({ b: 'x'.repeat(500) })}\r\n{"c":"3"}`);
    const { items } = await readAll(path, { maxRecordChars: 100, highWaterMark: 7 });
    expect(items.map((i) => (i.kind === 'row' ? i.record : i.problem))).toEqual([
      { a: '1' },
      'is longer than 100 characters',
      { c: '3' },
    ]);
  });

  it('rejects a file with no object at all', async () => {
    expect((await readError(tmp.path('blank.ndjson', '\n\n  \n'))).message).toMatch(
      /is empty: no JSON object on any line/,
    );
  });
});
