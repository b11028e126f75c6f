import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, pipeline } from 'node:stream';
import { parse, type Info } from 'csv-parse';
import { isProvError } from '../../../shared/errors.ts';
import { inputError } from '../errors.ts';
import { peekFirstLine } from '../first-line.ts';
import { rowError, type DropItem, type ReaderContext } from '../types.ts';
import { DEFAULT_EMPLOYEE_IMPORT_OPTIONS, type EmployeeImportOptions } from './codes.ts';
import { buildPerson } from './person.ts';
import {
  newDropNotes,
  parseSettings,
  readLine,
  type DropNotes,
  type Fragment,
  type ImportSettings,
  type LineResult,
} from './records.ts';

export { employeeImportOptionsSchema, type EmployeeImportOptions } from './codes.ts';
export type { ImportSettings } from './records.ts';

/*
 * The legacy employee import as a drop: one row per person, however many records the file has
 * for them and wherever they are (a 305 on line 3, its 350 on line 40,000, an approver right
 * at the end). docs/employee-import.md.
 *
 * Two passes keep memory bounded: the first reads and judges every line, numbers the rows (a
 * person in the order they first appear; a line in error or unsupported gets its own row) and
 * writes what each line says to temporary partition files of `partitionRows` rows each; the
 * second reads one partition at a time and yields its rows in order. Only the Employee ID →
 * row index stays in memory.
 */

export interface EmployeeImportReadOptions {
  options?: EmployeeImportOptions;
  /** Rows per temporary partition (second-pass memory). Default 5,000. */
  partitionRows?: number;
  /** Where the partitions go. Default: the OS temp dir. */
  tempDir?: string;
}

/** What the first line of a file says: `100,` or `100|` opens an employee import. */
export function isEmployeeImportStart(firstLine: string): boolean {
  return /^\s*100\s*[,|]/.test(firstLine.replace(/^\uFEFF/, ''));
}

type Entry =
  | { r: number; f: Fragment }
  | { r: number; e: { line: number; type: string; key?: string; problems: string[] } }
  | { r: number; u: { line: number; type: string; key?: string; problem: string } };

const FLUSH_CHARS = 256 * 1024;

export async function* readEmployeeImport(
  text: AsyncIterable<string>,
  ctx: ReaderContext,
  read: EmployeeImportReadOptions = {},
): AsyncGenerator<DropItem> {
  const options = read.options ?? DEFAULT_EMPLOYEE_IMPORT_OPTIONS;
  const partitionRows = read.partitionRows ?? 5_000;
  const dir = await mkdtemp(join(read.tempDir ?? tmpdir(), 'provision-employee-import-'));
  try {
    const first = await firstPass(text, ctx, options, dir, partitionRows);
    yield* secondPass(first, ctx, options, dir, partitionRows);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface FirstPass {
  settings: ImportSettings;
  rows: number;
  partitions: number;
}

async function firstPass(
  text: AsyncIterable<string>,
  ctx: ReaderContext,
  options: EmployeeImportOptions,
  dir: string,
  partitionRows: number,
): Promise<FirstPass> {
  const { file, limits } = ctx;
  const { firstLine, rest } = await peekFirstLine(text, limits.maxRecordChars);
  if (firstLine.trim() === '')
    throw inputError(file, 'is empty: an employee import starts with its 100 record', { line: 1 });
  if (!isEmployeeImportStart(firstLine))
    throw inputError(
      file,
      'does not start with a 100 record (Import Settings): Concur reads no employee import without one',
      {
        line: 1,
      },
    );
  const delimiter = ctx.delimiter ?? (/^\s*100\s*\|/.test(firstLine) ? '|' : ',');
  ctx.delimiterUsed = delimiter;

  const parser = parse({
    delimiter,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    max_record_size: limits.maxRecordChars,
    info: true,
  });
  pipeline(Readable.from(rest()), parser, () => {
    // Errors surface through the parser's async iterator below.
  });

  const notes = newDropNotes();
  const buffers = new Map<number, string>();
  const flush = async (p: number): Promise<void> => {
    const data = buffers.get(p);
    if (!data) return;
    buffers.delete(p);
    await appendFile(join(dir, `p${p}.ndjson`), data);
  };
  const keep = async (entry: Entry): Promise<void> => {
    const p = Math.floor((entry.r - 1) / partitionRows);
    const data = (buffers.get(p) ?? '') + `${JSON.stringify(entry)}\n`;
    buffers.set(p, data);
    if (data.length >= FLUSH_CHARS) await flush(p);
  };

  const people = new Map<string, number>();
  let settings: ImportSettings | undefined;
  let rows = 0;
  let errors = 0;
  const errorLines: number[] = [];
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: Info }>) {
      const line = info.lines;
      if (settings === undefined) {
        const parsed = parseSettings(record);
        if ('problems' in parsed) throw inputError(file, parsed.problems.join('; '), { line });
        settings = parsed.settings;
        continue;
      }
      if (record.every((c) => c.trim() === '')) {
        ctx.blankRows++;
        continue;
      }
      ctx.records = (ctx.records ?? 0) + 1;
      const result: LineResult = readLine(record, line, { settings, options, notes });
      if (result.kind === 'fragment') {
        const f = result.fragment;
        const known = people.get(f.key);
        const knownNew = f.newKey === undefined ? undefined : people.get(f.newKey);
        if (known !== undefined && knownNew !== undefined && known !== knownNew) {
          errors += 1;
          if (errorLines.length < 10) errorLines.push(line);
          await keep({
            r: ++rows,
            e: {
              line,
              type: f.type,
              key: f.key,
              problems: [
                `record 320: the current Employee ID (field 2) and the new one (field 3) already name two people in this file (rows ${known} and ${knownNew})`,
              ],
            },
          });
          continue;
        }
        const row = known ?? knownNew ?? ++rows;
        people.set(f.key, row);
        if (f.newKey !== undefined) people.set(f.newKey, row);
        await keep({ r: row, f });
      } else if (result.kind === 'error') {
        errors += 1;
        if (errorLines.length < 10) errorLines.push(line);
        await keep({ r: ++rows, e: result });
      } else {
        await keep({ r: ++rows, u: result });
      }
    }
  } catch (err) {
    const e = err as { code?: string; message: string; lines?: number };
    if (isProvError(err) || !e.code?.startsWith('CSV_')) throw err;
    throw inputError(
      file,
      `is not a readable employee import (${e.message})`,
      e.lines === undefined ? { cause: err } : { line: e.lines, cause: err },
    );
  } finally {
    parser.destroy();
  }
  if (settings === undefined)
    throw inputError(file, 'is empty: an employee import starts with its 100 record', { line: 1 });
  // SAP retired the threshold and asks for 0; a positive one stops the drop as the legacy job did.
  if (settings.errorThreshold > 0 && errors > settings.errorThreshold) {
    throw inputError(
      file,
      `has ${errors} lines in error, more than the error threshold of its 100 record (${settings.errorThreshold}): the import stops, nothing is sent (lines ${errorLines.join(', ')}${errors > errorLines.length ? ', ...' : ''})`,
    );
  }
  for (const p of [...buffers.keys()]) await flush(p);
  ctx.warnings = dropWarnings(notes);
  ctx.importSettings = settings;
  return { settings, rows, partitions: rows === 0 ? 0 : Math.floor((rows - 1) / partitionRows) + 1 };
}

async function* secondPass(
  first: FirstPass,
  ctx: ReaderContext,
  options: EmployeeImportOptions,
  dir: string,
  partitionRows: number,
): AsyncGenerator<DropItem> {
  for (let p = 0; p < first.partitions; p++) {
    const base = p * partitionRows;
    const size = Math.min(partitionRows, first.rows - base);
    const slots: Entry[][] = Array.from({ length: size }, () => []);
    const text = await readFile(join(dir, `p${p}.ndjson`), 'utf8').catch(() => '');
    for (const lineText of text.split('\n')) {
      if (lineText === '') continue;
      const entry = JSON.parse(lineText) as Entry;
      slots[entry.r - base - 1]!.push(entry);
    }
    for (let i = 0; i < size; i++) {
      const rowNumber = base + i + 1;
      const entries = slots[i]!;
      slots[i] = [];
      ctx.rows++;
      const head = entries[0];
      if (head === undefined) continue;
      if ('e' in head) {
        const item = rowError(ctx, rowNumber, head.e.line, `record ${head.e.type}: ${head.e.problems.join('; ')}`);
        yield {
          ...item,
          message: `${ctx.file} line ${head.e.line}: ${head.e.problems.join('; ')}`,
          lines: [head.e.line],
          ...(head.e.key ? { employeeNumber: head.e.key } : {}),
        };
      } else if ('u' in head) {
        yield {
          kind: 'unsupported',
          rowNumber,
          line: head.u.line,
          lines: [head.u.line],
          recordType: head.u.type,
          problem: head.u.problem,
          message: `${ctx.file} line ${head.u.line}: ${head.u.problem}`,
          ...(head.u.key ? { employeeNumber: head.u.key } : {}),
        };
      } else {
        const fragments = entries.map((e) => (e as { f: Fragment }).f);
        const row = buildPerson(rowNumber, fragments, first.settings, options);
        yield { kind: 'person', rowNumber, line: row.lines?.[0] ?? 0, lines: row.lines ?? [], row };
      }
    }
  }
}

/** One warning per kind for the whole drop (passwords, fields that go nowhere). */
function dropWarnings(notes: DropNotes): string[] {
  const out: string[] = [];
  if (notes.passwordLines.length > 0) {
    const shown = notes.passwordLines.slice(0, 5).join(', ');
    out.push(
      `passwords are ignored: Concur's v4 APIs provision none (${notes.passwordLines.length} lines carry one: ${shown}${notes.passwordLines.length > 5 ? ', ...' : ''})`,
    );
  }
  for (const [what, seen] of notes.ignoredFields) {
    out.push(`${what} (${seen.count} lines: ${seen.lines.join(', ')}${seen.count > seen.lines.length ? ', ...' : ''})`);
  }
  return out;
}
