import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonArraySplitter, NdjsonSplitter } from '../../../src/producers/sources/json.ts';
import type { DropItem, ReaderContext } from '../../../src/producers/sources/types.ts';
import {
  COUNTRY_CODES,
  CURRENCY_CODES,
  TEMPLATE_COLUMNS,
  applyTransforms,
  compileMapping,
  identityDiff,
  parseDate,
  prepareRow,
  toCreateBody,
  userNameProblem,
  type RawRecord,
} from '../../../src/shared/mapping/index.ts';

const mapper = compileMapping();
const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

// --- generators of valid values -------------------------------------------------------------
const lower = 'abcdefghijklmnopqrstuvwxyz';
const alnum = `${lower}0123456789`;
const word = (chars: string, min: number, max: number) =>
  fc.string({ unit: fc.constantFrom(...chars.split('')), minLength: min, maxLength: max });
const domain = fc
  .tuple(word(lower, 1, 20), fc.constantFrom('com', 'org', 'co.uk', 'de'))
  .map(([d, tld]) => `${d}.${tld}`);
const email = fc.tuple(word(`${alnum}._-`, 1, 40), domain).map(([l, d]) => `${l.replace(/^\.|\.$/g, 'x')}@${d}`);
// Names: any letters from any script (plus emoji and combining marks), no formula start, within the limit.
const nameChar = fc.oneof(
  fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('')),
  fc.constantFrom('é', 'ß', 'Ø', 'ł', 'Ç', '山', '田', 'ё', 'ع', '😀', 'q\u0301', ' ', "'", '-'),
);
const name = (max: number) =>
  fc
    .array(nameChar, { minLength: 1, maxLength: max })
    .map((cs) => cs.join('').normalize('NFC').trim())
    .filter((s) => s.length > 0 && s.length <= max && !/^[=+\-@]/.test(s));
const isoDate = fc
  .date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2079-06-06T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));
const booleanWord = fc.constantFrom('true', 'false', 'TRUE', 'y', 'N', 'yes', 'No', '1', '0');

const validRecord = fc.record({
  userName: email,
  givenName: name(32),
  familyName: name(32),
  email,
  employeeNumber: word(`${alnum}-_`, 1, 48),
  active: booleanWord,
  middleName: fc.option(name(60), { nil: undefined }),
  title: fc.option(name(255), { nil: undefined }),
  costCenter: fc.option(word(alnum, 1, 25), { nil: undefined }),
  startDate: fc.option(isoDate, { nil: undefined }),
  terminationDate: fc.option(isoDate, { nil: undefined }),
  'spend.country': fc.constantFrom(...COUNTRY_CODES),
  'spend.reimbursementCurrency': fc.constantFrom(...CURRENCY_CODES),
  'spend.locale': fc.constantFrom('en-US', 'de-DE', 'fr_ca', 'JA-jp'),
});

function clean(r: Record<string, string | undefined>): RawRecord {
  const out: RawRecord = {};
  for (const [k, v] of Object.entries(r)) if (v !== undefined) out[k] = v;
  return out;
}

describe('mapping and validation properties', () => {
  it('valid generated rows always pass, and Concur holding their create body needs no PATCH', () => {
    fc.assert(
      fc.property(validRecord, (r) => {
        const result = prepareRow(1, clean(r), mapper);
        if (!result.ok) throw new Error(JSON.stringify(result.errors));
        const row = result.row;
        expect(row.givenName).toBe(r.givenName);
        expect(row.spend?.country).toBe(r['spend.country']);
        const body = toCreateBody(row, { companyId: 'c' });
        // Round trip: what we would create is what we consider unchanged.
        expect(identityDiff({ id: 'x', ...body }, row)).toEqual([]);
        // Dates travel in Concur's format and back.
        if (row.startDate) expect((body[ENT] as { startDate: string }).startDate).toBe(`${row.startDate}T00:00:00Z`);
      }),
      { numRuns: 300 },
    );
  });

  it('any record of any strings never throws; errors name real rows and columns', () => {
    const columns = fc.constantFrom(...TEMPLATE_COLUMNS.map((c) => c.name), 'junk', '__proto__', 'constructor');
    const value = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.string({ maxLength: 10 }),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.string({ unit: 'binary', maxLength: 8 }), { maxLength: 3 }),
    );
    fc.assert(
      fc.property(fc.dictionary(columns, value), fc.integer({ min: 1, max: 1_000_000 }), (record, row) => {
        const raw: RawRecord = Object.assign(Object.create(null) as RawRecord, record);
        const result = prepareRow(row, raw, mapper);
        if (result.ok) {
          expect(result.row.rowNumber).toBe(row);
        } else {
          expect(result.errors.length).toBeGreaterThan(0);
          for (const e of result.errors) {
            expect(e.row).toBe(row);
            expect(typeof e.reason).toBe('string');
            expect(e.column in raw || TEMPLATE_COLUMNS.some((c) => c.name === e.column)).toBe(true);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('a userName with a forbidden character is never accepted', () => {
    const forbidden = fc.constantFrom(...'%[]#!*&()~\'{^}\\/?><,;:"+=|'.split(''));
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), forbidden, fc.string({ maxLength: 20 }), (a, c, b) => {
        expect(userNameProblem(`${a}${c}${b}@example.com`)).toBeDefined();
      }),
    );
  });

  it('date formats round-trip every valid date', () => {
    const formats: Array<[string, (y: string, m: string, d: string) => string]> = [
      ['DD.MM.YYYY', (y, m, d) => `${d}.${m}.${y}`],
      ['MM/DD/YYYY', (y, m, d) => `${m}/${d}/${y}`],
      ['YYYYMMDD', (y, m, d) => `${y}${m}${d}`],
      ['M/D/YYYY', (y, m, d) => `${Number(m)}/${Number(d)}/${y}`],
    ];
    fc.assert(
      fc.property(isoDate, fc.constantFrom(...formats), (iso, [format, render]) => {
        const [y, m, d] = iso.split('-') as [string, string, string];
        expect(parseDate(render(y, m, d), format)).toBe(iso);
        expect(applyTransforms(render(y, m, d), [{ date: format }])).toEqual({ value: iso });
      }),
      { numRuns: 300 },
    );
  });

  it('transforms never throw on any input', () => {
    const transform = fc.constantFrom<Parameters<typeof applyTransforms>[1][number]>(
      'trim',
      'lower',
      'upper',
      'boolean',
      { date: 'DD.MM.YYYY' },
      { map: { a: 'b' }, otherwise: 'error' },
      { default: 'x' },
      { boolean: { true: ['on'], false: ['off'] } },
    );
    const value = fc.oneof(fc.string({ unit: 'binary' }), fc.boolean(), fc.constant(null), fc.array(fc.string()));
    fc.assert(
      fc.property(value, fc.array(transform, { maxLength: 4 }), (v, ts) => {
        const out = applyTransforms(v, ts);
        expect('value' in out || 'reason' in out).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

// --- the streaming JSON splitter agrees with JSON.parse -------------------------------------

function ctx(): ReaderContext {
  return {
    file: 'mem.json',
    limits: { maxFieldBytes: 1 << 20, maxRecordChars: 1 << 20, maxColumns: 1000, maxDepth: 32 },
    delimiter: undefined,
    onHeader: undefined,
    rows: 0,
    rowErrors: 0,
    blankRows: 0,
    columns: undefined,
    delimiterUsed: undefined,
  };
}

/** What a flat record should be: nested keys dotted, numbers as their JSON text. */
function expectedRecord(
  obj: Record<string, unknown>,
  prefix = '',
  out: Record<string, unknown> = {},
): Record<string, unknown> {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v))
      expectedRecord(v as Record<string, unknown>, key, out);
    else if (Array.isArray(v)) out[key] = v.map((x) => (x === null ? '' : String(x)));
    else out[key] = typeof v === 'number' ? JSON.stringify(v) : v;
  }
  return out;
}

function feed(splitter: JsonArraySplitter | NdjsonSplitter, text: string, cuts: number[]): DropItem[] {
  const items: DropItem[] = [];
  let at = 0;
  for (const cut of [...cuts.filter((c) => c < text.length)].sort((a, b) => a - b)) {
    items.push(...splitter.push(text.slice(at, cut)));
    at = cut;
  }
  items.push(...splitter.push(text.slice(at)));
  items.push(...splitter.end());
  return items;
}

describe('JSON splitting properties', () => {
  const scalar = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 12 }),
    fc.boolean(),
    fc.constant(null),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
  );
  const key = fc.string({ minLength: 1, maxLength: 6 }).filter((k) => !k.includes('.'));
  const element = fc.dictionary(
    key,
    fc.oneof(scalar, fc.array(scalar, { maxLength: 3 }), fc.dictionary(key, scalar, { maxKeys: 3 })),
    { maxKeys: 5 },
  );

  it('array elements come out as JSON.parse would give them, whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.array(element, { maxLength: 6 }),
        fc.array(fc.nat(400), { maxLength: 8 }),
        fc.boolean(),
        (elements, cuts, pretty) => {
          const text = JSON.stringify(elements, null, pretty ? 2 : undefined);
          const items = feed(new JsonArraySplitter(ctx()), text, cuts);
          const records = items.map((i) => (i.kind === 'row' ? { ...i.record } : i.problem));
          const expected = elements.map((e) => expectedRecord(e));
          // Collisions like {"a.b":1,"a":{"b":2}} are row errors by design; skip those cases.
          fc.pre(expected.every((e, i) => Object.keys(e).length === countLeaves(elements[i]!)));
          expect(records).toEqual(expected);
          expect(items.map((i) => i.rowNumber)).toEqual(elements.map((_, i) => i + 1));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('NDJSON lines come out the same, whatever the chunking and the line ends (LF, CRLF, a lone CR)', () => {
    fc.assert(
      fc.property(
        fc.array(element, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(400), { maxLength: 8 }),
        fc.constantFrom('\n', '\r\n', '\r'),
        (elements, cuts, eol) => {
          const text = elements.map((e) => JSON.stringify(e)).join(eol);
          const expected = elements.map((e) => expectedRecord(e));
          fc.pre(expected.every((e, i) => Object.keys(e).length === countLeaves(elements[i]!)));
          const items = feed(new NdjsonSplitter(ctx()), text, cuts);
          expect(items.map((i) => (i.kind === 'row' ? { ...i.record } : i.problem))).toEqual(expected);
          expect(items.map((i) => i.line)).toEqual(elements.map((_, i) => i + 1));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('never throws anything but PROV_ERR_INPUT on arbitrary text', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 60 }),
        fc.array(fc.nat(60), { maxLength: 4 }),
        (text, cuts) => {
          for (const make of [() => new JsonArraySplitter(ctx()), () => new NdjsonSplitter(ctx())]) {
            for (const input of [`[${text}`, text]) {
              try {
                const items = feed(make(), input, cuts);
                for (const item of items) expect(item.rowNumber).toBeGreaterThan(0);
              } catch (err) {
                expect((err as { code?: string }).code).toBe('PROV_ERR_INPUT');
              }
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

function countLeaves(obj: Record<string, unknown>): number {
  let n = 0;
  const keys = new Set<string>();
  const walk = (o: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>, key);
      else {
        n++;
        keys.add(key);
      }
    }
  };
  walk(obj, '');
  return keys.size === n ? n : -1;
}
