import { mkdtempSync, readdirSync, rmSync, writeFileSync, createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/demo/processes.ts';
import { ingestDrop } from '../../../src/producers/ingest.ts';
import { Ledger } from '../../../src/shared/ledger/ledger.ts';
import { createLogger } from '../../../src/shared/logger.ts';
import { createQueues } from '../../../src/shared/queues/index.ts';
import { hasUnsafeChars } from '../../../src/shared/safe-text.ts';
import { deletePrefix, testRedis, uniquePrefix } from '../../helpers/redis.ts';

/*
 * The hostile corpus (test/fixtures/hostile): every file either is rejected as a whole with a
 * clear message naming the file (and line), or its bad rows are `invalid` with the row number and
 * the reason while every other row goes on (pending). Nothing crashes.
 */
const redis = testRedis();
const prefix = uniquePrefix('hostile');
const ledger = new Ledger(redis, prefix);
const queues = createQueues(redis, prefix);
const deps = { ledger, identityQueue: queues.identity, log: createLogger({ level: 'silent' }) };
const dir = fileURLToPath(new URL('../../fixtures/hostile/', import.meta.url));

afterAll(async () => {
  await queues.close();
  await deletePrefix(redis, prefix);
  await redis.quit();
});

type Expectation = { reject: RegExp } | { rows: number; invalid: Record<number, RegExp> };

const CORPUS: Record<string, Expectation> = {
  '01-unclosed-quote-last-row.csv': {
    reject: /01-unclosed-quote-last-row\.csv: has a quoted field that is never closed .*\(line 3\)/,
  },
  '02-ragged-short.csv': {
    rows: 3,
    invalid: { 2: /row 2 \(line 3\): has 2 fields; the header has 5 \(a ragged row\)/ },
  },
  '03-ragged-long.csv': { rows: 3, invalid: { 2: /row 2 \(line 3\): has 7 fields; the header has 5/ } },
  '04-nul-byte.csv': { reject: /04-nul-byte\.csv: contains a NUL character .*\(line 3\)/ },
  '05-invalid-utf8.csv': { reject: /05-invalid-utf8\.csv: is not valid UTF-8 .*\(line 3\)/ },
  '06-utf16le-no-bom.csv': { reject: /06-utf16le-no-bom\.csv: looks like UTF-16 without a byte order mark/ },
  '07-utf16be-no-bom.csv': { reject: /07-utf16be-no-bom\.csv: looks like UTF-16 without a byte order mark/ },
  '08-duplicate-header.csv': {
    reject: /08-duplicate-header\.csv: has the column name 'userName' twice in its header \(columns 1 and 5\)/,
  },
  '09-duplicate-header-case.csv': {
    reject: /09-duplicate-header-case\.csv: .*columns 'Email' and 'email' both map to email/,
  },
  '10-json-object.json': {
    reject: /10-json-object\.json: must hold a JSON array of objects, but its top level is an object/,
  },
  '11-json-scalar.json': {
    reject: /11-json-scalar\.json: must hold a JSON array of objects, but its top level is not an array/,
  },
  '12-json-deeply-nested.json': { rows: 3, invalid: { 2: /row 2 \(line 1\): nests deeper than 32 levels/ } },
  // Huge numbers are kept as their source text (no float rounding): valid employee numbers.
  '13-json-huge-numbers.json': { rows: 3, invalid: {} },
  '14-json-array-of-scalars.json': {
    rows: 4,
    invalid: {
      2: /row 2 .*is a string, not an object/,
      3: /row 3 .*not an object/,
      4: /row 4 .*is null, not an object/,
    },
  },
  '15-ndjson-broken-line.ndjson': { rows: 3, invalid: { 2: /row 2 \(line 2\): is not valid JSON/ } },
  '16-formula-injection.csv': {
    rows: 6,
    invalid: {
      2: /row 2: userName: contains '='.*givenName: starts with '='.*formula injection/,
      3: /row 3: givenName: starts with '\+'/,
      4: /row 4: givenName: starts with '@'/,
      5: /row 5: givenName: starts with '-'/,
    },
  },
  '17-username-forbidden-chars.csv': {
    rows: 6,
    invalid: {
      2: /row 2: userName: contains '\('/,
      3: /row 3: userName: contains '\|'/,
      4: /row 4: userName: contains whitespace/,
      5: /row 5: userName: contains ';'/,
    },
  },
  '18-email-300-chars.csv': { rows: 3, invalid: { 2: /row 2: email: is 304 characters long; the limit is 255/ } },
  '19-dates-out-of-range.csv': {
    rows: 5,
    invalid: {
      1: /row 1: startDate: '2079-06-07' is outside Concur's range/,
      2: /row 2: startDate: '1899-12-31' is outside Concur's range/,
      3: /row 3: startDate: '2023-02-30' is not a real calendar date/,
      4: /row 4: startDate: 'yesterday' is not a date/,
    },
  },
  // Combining marks and emoji are fine; a bidi override (spoofing) is not.
  '20-unicode-combining-emoji.csv': {
    rows: 5,
    invalid: { 4: /row 4: givenName: contains a bidirectional override character/ },
  },
  '21-missing-required.csv': {
    rows: 4,
    invalid: { 2: /row 2: familyName: is required/, 3: /row 3: userName: is required/ },
  },
  '22-duplicate-people.csv': {
    rows: 3,
    invalid: {
      2: /row 2: userName: duplicate userName: row 1/,
      3: /row 3: employeeNumber: duplicate employeeNumber: row 1/,
    },
  },
  '23-bom-and-crlf-only-header.csv': { rows: 0, invalid: {} },
  '24-binary-garbage.csv': { reject: /24-binary-garbage\.csv: is not valid UTF-8/ },
  '25-empty-lines-and-whitespace.csv': { rows: 2, invalid: {} },
  '26-bad-enum-values.csv': { rows: 2, invalid: { 1: /row 1: active: 'maybe' is not a boolean/ } },
  '27-unknown-column.csv': { reject: /27-unknown-column\.csv: .*unknown columns 'favouriteColour'/ },
  '28-ragged-quoted-newline.csv': { rows: 3, invalid: { 2: /row 2: userName: contains a control character/ } },
  // Classic Mac line ends (a lone CR): each line is its own row, as with LF.
  '29-ndjson-cr-only.ndjson': { rows: 3, invalid: {} },
  // Invisible characters make one login look like another: refused, named by code point.
  '30-username-zero-width.csv': {
    rows: 6,
    invalid: {
      2: /row 2: userName: contains an invisible or bidirectional character \(U\+200B\)/,
      3: /row 3: userName: .*\(U\+200D\)/,
      4: /row 4: userName: .*\(U\+00AD\)/,
      5: /row 5: userName: .*\(U\+2060\)/,
    },
  },
  '31-username-bidi.csv': {
    rows: 5,
    invalid: {
      2: /row 2: userName: contains a bidirectional override character/,
      3: /row 3: userName: .*\(U\+200F\)/,
      4: /row 4: userName: contains a bidirectional override character/,
      5: /row 5: employeeNumber: .*\(U\+200E\)/,
    },
  },
  // Escape sequences never pass validation, and the reasons quote them as visible escapes only.
  '32-terminal-escapes.csv': {
    rows: 7,
    invalid: {
      2: /row 2: givenName: contains a control character/,
      3: /row 3: title: contains a control character/,
      4: /row 4: department: contains a control character/,
      5: /row 5: title: contains a control character/,
      6: /row 6: startDate: '2026\\u\{1B\}\[31m-01-01' is not a date/,
      7: /row 7: userName: contains a control character/,
    },
  },
  '33-csv-cr-only.csv': { rows: 2, invalid: {} },
  // A line of 900 empty fields: a ragged row, bounded, and the rows around it go on.
  '34-many-empty-fields.csv': { rows: 3, invalid: { 2: /row 2 \(line 3\): has 901 fields; the header has 5/ } },
};

async function expectOutcome(path: string, expected: Expectation): Promise<void> {
  if ('reject' in expected) {
    await expect(ingestDrop(deps, { path })).rejects.toThrow(expected.reject);
    const [dropId] = await ledger.listDrops(1);
    const view = await ledger.getDrop(dropId!);
    expect(view?.meta.status).toBe('rejected');
    return;
  }
  const result = await ingestDrop(deps, { path });
  expect(result.rows).toBe(expected.rows);
  expect(result.invalid).toBe(Object.keys(expected.invalid).length);
  for await (const r of ledger.iterateRows(result.dropId)) {
    const want = expected.invalid[r.row];
    if (want) {
      expect(r.state, `row ${r.row}`).toBe('invalid');
      expect(r.outcome.error, `row ${r.row}`).toMatch(want);
    } else {
      expect(r.state, `row ${r.row}: ${r.outcome.error ?? ''}`).toBe('pending');
    }
    // Whatever a row holds, what the ledger says about it never carries a raw control character.
    expect(hasUnsafeChars(r.outcome.error ?? ''), `row ${r.row}`).toBe(false);
  }
}

describe('hostile input corpus', () => {
  it('covers every file in the corpus (at least 25)', () => {
    const files = readdirSync(dir).sort();
    expect(files.length).toBeGreaterThanOrEqual(25);
    expect(files).toEqual(Object.keys(CORPUS).sort());
  });

  it.each(Object.entries(CORPUS))('%s', async (name, expected) => {
    await expectOutcome(join(dir, name), expected);
  });
});

describe('hostile input generated at test time (too big to commit)', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hostile-'));

  // CSV cannot resynchronise after a record over the limit (it may be an unclosed quote eating the
  // file), so the file is rejected as a whole, naming the line; nothing is queued.
  it('a 50 MB single field rejects the file with the line and the limit', async () => {
    const path = join(tmp, 'fifty-mb-field.csv');
    const out = createWriteStream(path);
    out.write(
      'userName,givenName,familyName,email,employeeNumber\ngood1@example.com,Good,One,good1@example.com,G1\nbig@example.com,',
    );
    const chunk = 'x'.repeat(1024 * 1024);
    for (let i = 0; i < 50; i += 1) if (!out.write(chunk)) await once(out, 'drain');
    out.end(',Big,big@example.com,B1\ngood2@example.com,Good,Two,good2@example.com,G2\n');
    await once(out, 'finish');
    const before = await queues.identity.getJobCounts('waiting', 'delayed');
    await expect(ingestDrop(deps, { path })).rejects.toThrow(
      /fifty-mb-field\.csv: has a record longer than 1048576 characters .*\(line 3\)/,
    );
    const [dropId] = await ledger.listDrops(1);
    expect((await ledger.getDrop(dropId!))?.meta.status).toBe('rejected');
    expect(await queues.identity.getJobCounts('waiting', 'delayed')).toEqual(before);
  }, 60_000);

  it('a file broken after 1,000 good rows is rejected with nothing of it left in the ledger (batches in flight included)', async () => {
    const path = join(tmp, 'broken-late.csv');
    const good = Array.from(
      { length: 1000 },
      (_, i) => `late${i}@example.com,Late,N${i},late${i}@example.com,L${i}`,
    ).join('\n');
    await writeFile(
      path,
      `userName,givenName,familyName,email,employeeNumber\n${good}\nbig@example.com,${'x'.repeat(1024 * 1024 + 10)},Big,big@example.com,B1\n`,
    );
    await expect(ingestDrop(deps, { path })).rejects.toThrow(/broken-late\.csv: has a record longer than/);
    const [dropId] = await ledger.listDrops(1);
    expect((await ledger.getDrop(dropId!))?.meta.status).toBe('rejected');
    const k = ledger.keys(dropId!);
    expect([
      await redis.hlen(k.rows),
      await redis.hlen(k.data),
      await redis.hlen(k.out),
      await redis.exists(k.emp),
    ]).toEqual([0, 0, 0, 0]);
  }, 60_000);

  it('a 50 MB string in an NDJSON line is an invalid row; the other lines go on', async () => {
    const path = join(tmp, 'fifty-mb-field.ndjson');
    const out = createWriteStream(path);
    out.write(
      '{"userName":"good1@example.com","givenName":"Good","familyName":"One","email":"good1@example.com","employeeNumber":"G1"}\n{"userName":"big@example.com","givenName":"',
    );
    const chunk = 'x'.repeat(1024 * 1024);
    for (let i = 0; i < 50; i += 1) if (!out.write(chunk)) await once(out, 'drain');
    out.end(
      '","familyName":"Big","email":"big@example.com","employeeNumber":"B1"}\n{"userName":"good2@example.com","givenName":"Good","familyName":"Two","email":"good2@example.com","employeeNumber":"G2"}\n',
    );
    await once(out, 'finish');
    const result = await ingestDrop(deps, { path });
    expect(result.rows).toBe(3);
    const states = (await ledger.getRows(result.dropId, [1, 2, 3])).map((r) => [r.state, r.outcome.error]);
    expect(states[0]![0]).toBe('pending');
    expect(states[1]![0]).toBe('invalid');
    expect(states[1]![1]).toMatch(/fifty-mb-field\.ndjson row 2 \(line 2\): is longer than/);
    expect(states[2]![0]).toBe('pending');
  }, 60_000);

  it('a header of 10,000 columns is rejected as a file-level error', async () => {
    const path = join(tmp, 'ten-thousand-columns.csv');
    const header = [
      'userName',
      'givenName',
      'familyName',
      'email',
      'employeeNumber',
      ...Array.from({ length: 9995 }, (_, i) => `extra${i}`),
    ];
    writeFileSync(
      path,
      `${header.join(',')}\n${['a@example.com', 'A', 'B', 'a@example.com', '1', ...Array.from({ length: 9995 }, () => '')].join(',')}\n`,
    );
    await expect(ingestDrop(deps, { path })).rejects.toThrow(/ten-thousand-columns\.csv: .*(columns|column)/);
  });
});

describe('what reaches the terminal (real CLI processes)', () => {
  // Everything a terminal could act on, the line ends (LF, and CRLF in CSV) aside.
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  const RAW = /[\u0000-\u0009\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/;
  const cliPrefix = uniquePrefix('hostile-cli');
  const env = { ...process.env, QUEUE_PREFIX: cliPrefix, LOG_LEVEL: 'silent' };
  const tmp = mkdtempSync(join(tmpdir(), 'hostile-cli-'));
  afterAll(async () => {
    await deletePrefix(redis, cliPrefix);
    rmSync(tmp, { recursive: true, force: true });
  });

  it('ingest, status and both report formats show escape sequences from cells as visible escapes', async () => {
    const ingest = await runCli(['ingest', join(dir, '32-terminal-escapes.csv')], env);
    expect(ingest.code, ingest.stderr).toBe(0);
    const dropId = ingest.stdout.trim();
    for (const args of [
      ['status', dropId],
      ['status', dropId, '--json'],
      ['report', dropId],
      ['report', dropId, '--format', 'jsonl'],
    ]) {
      const out = await runCli(args, env);
      expect(out.code, `${args.join(' ')}: ${out.stderr}`).toBe(0);
      expect(RAW.test(out.stdout + out.stderr), args.join(' ')).toBe(false);
    }
    const report = await runCli(['report', dropId], env);
    expect(report.stdout).toContain('esc6\\u{1B}[1m@example.com');
    expect(report.stdout).toContain("'2026\\u{1B}[31m-01-01' is not a date");
  });

  it('a file error quoting a header cell with escape sequences prints them as visible escapes', async () => {
    const path = join(tmp, 'evil-header.csv');
    writeFileSync(path, 'userName,givenName,familyName,email,employeeNumber,\u001b[31mred\u001b]0;title\u0007\n');
    const ingest = await runCli(['ingest', path], env);
    expect(ingest.code).toBe(3);
    expect(ingest.stderr).toContain("unknown columns '\\u{1B}[31mred\\u{1B}]0;title\\u{7}'");
    expect(RAW.test(ingest.stdout + ingest.stderr)).toBe(false);
  });
});
