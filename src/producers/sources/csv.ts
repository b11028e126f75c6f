import { Readable, pipeline } from 'node:stream';
import { parse, type Info } from 'csv-parse';
import { isProvError } from '../../shared/errors.ts';
import { echo } from '../../shared/safe-text.ts';
import type { RawRecord } from '../../shared/mapping/types.ts';
import { inputError } from './errors.ts';
import { peekFirstLine } from './first-line.ts';
import { rowError, type DropItem, type ReaderContext } from './types.ts';

/*
 * CSV through csv-parse, streamed. Problems the parser can recover from are row errors (ragged
 * rows, oversized cells, values under a nameless column); problems that leave the rest of the
 * file unreadable are file errors (unclosed or stray quotes, a record over the size limit, a bad
 * header).
 */

export const DELIMITERS = [',', ';', '\t', '|'] as const;

/** Picks the delimiter that occurs most in the header line (outside quotes); `,` on a tie. */
export function sniffDelimiter(headerLine: string): string {
  const counts = new Map<string, number>(DELIMITERS.map((d) => [d, 0]));
  let quoted = false;
  for (const ch of headerLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
  }
  let best = ',';
  for (const d of DELIMITERS) if (counts.get(d)! > counts.get(best)!) best = d;
  return best;
}

/** Physical line breaks in a field: CRLF, LF and a lone CR each count once. */
function lineBreaks(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x0a) n++;
    else if (c === 0x0d && s.charCodeAt(i + 1) !== 0x0a) n++;
  }
  return n;
}

function friendly(err: { code?: string }, limits: ReaderContext['limits']): string {
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'has a quoted field that is never closed (unclosed quote)';
    case 'CSV_MAX_RECORD_SIZE':
      return `has a record longer than ${limits.maxRecordChars} characters or with more than ${limits.maxColumns} fields (a huge field, a line of empty fields, or an unclosed quote swallowing the rest of the file)`;
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'has a quoted field followed by text before the delimiter (a quote inside a quoted field must be doubled)';
    default:
      // csv-parse's own messages may quote the offending cell: only its code is shown.
      return `is not valid CSV (${err.code ?? 'parse error'})`;
  }
}

export async function* readCsv(text: AsyncIterable<string>, ctx: ReaderContext): AsyncGenerator<DropItem> {
  const { file, limits } = ctx;
  // Peek at the header line to pick the delimiter when none was given.
  const { firstLine, rest } = await peekFirstLine(text, limits.maxRecordChars);
  const delimiter = ctx.delimiter ?? sniffDelimiter(firstLine);
  ctx.delimiterUsed = delimiter;

  const parser = parse({
    delimiter,
    relax_column_count: true,
    // A lone quote inside an unquoted field (John "JJ" Smith) is kept as a character.
    relax_quotes: true,
    skip_empty_lines: true,
    max_record_size: limits.maxRecordChars,
    // Bounds the fields of one record: past maxColumns + 1, delimiters count as field text, which
    // max_record_size bounds. Without it a line of empty fields (20 MB of commas) costs ~1 GB.
    ignore_last_delimiters: limits.maxColumns + 1,
    info: true,
  });
  pipeline(Readable.from(rest()), parser, () => {
    // Errors surface through the parser's async iterator below.
  });

  let header: string[] | undefined;
  let rowNumber = 0;
  let lastEnd = 0;
  let lastEmpty = 0;
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: Info }>) {
      const { record, info } = item;
      // csv-parse's own line count treats a CRLF inside a quoted field as two lines, so we keep
      // the physical count: previous record's end, plus skipped empty lines, plus breaks inside.
      const line = lastEnd + (info.empty_lines - lastEmpty) + 1;
      let inner = 0;
      for (const field of record) if (field.includes('\n') || field.includes('\r')) inner += lineBreaks(field);
      lastEnd = line + inner;
      lastEmpty = info.empty_lines;

      if (header === undefined) {
        header = checkHeader(record, line, ctx);
        continue;
      }
      if (record.every((f) => f.trim() === '')) {
        ctx.blankRows++;
        continue;
      }
      rowNumber++;
      ctx.rows++;
      const problem = rowProblem(record, header, ctx);
      if (problem !== undefined) {
        yield rowError(ctx, rowNumber, line, problem);
        continue;
      }
      const out: RawRecord = Object.create(null) as RawRecord;
      for (let i = 0; i < header.length; i++) if (header[i] !== '') out[header[i]!] = record[i]!;
      yield { kind: 'row', rowNumber, line, record: out };
    }
  } catch (err) {
    const e = err as { code?: string; message: string; lines?: number };
    if (isProvError(err) || !e.code?.startsWith('CSV_')) throw err;
    throw inputError(file, friendly(e, limits), e.lines === undefined ? { cause: err } : { line: e.lines, cause: err });
  } finally {
    parser.destroy();
  }
  if (header === undefined) throw inputError(file, 'is empty: there is no header row');
}

function checkHeader(record: string[], line: number, ctx: ReaderContext): string[] {
  const names = record.map((n) => n.trim());
  if (names.length > ctx.limits.maxColumns) {
    // The parser stops splitting past maxColumns + 1 fields, so the real count may be higher.
    throw inputError(
      ctx.file,
      `has more than ${ctx.limits.maxColumns} columns in its header; the limit is ${ctx.limits.maxColumns}`,
      {
        line,
      },
    );
  }
  const seen = new Map<string, number>();
  names.forEach((name, i) => {
    if (name === '') return;
    const prior = seen.get(name);
    if (prior !== undefined) {
      throw inputError(
        ctx.file,
        `has the column name ${echo(name)} twice in its header (columns ${prior + 1} and ${i + 1})`,
        { line, logProblem: `has a column name twice in its header (columns ${prior + 1} and ${i + 1})` },
      );
    }
    seen.set(name, i);
  });
  if (seen.size === 0) throw inputError(ctx.file, 'has a header row without any column name', { line });
  ctx.columns = names;
  ctx.onHeader?.(names.filter((n) => n !== ''));
  return names;
}

function rowProblem(record: string[], header: string[], ctx: ReaderContext): string | undefined {
  if (record.length !== header.length)
    return `has ${record.length} fields; the header has ${header.length} (a ragged row)`;
  const max = ctx.limits.maxFieldBytes;
  for (let i = 0; i < record.length; i++) {
    const f = record[i]!;
    // A string can take up to 3 UTF-8 bytes per UTF-16 unit; only measure when it could be over.
    if (f.length * 3 > max && Buffer.byteLength(f) > max)
      return `the value in column ${columnName(header, i)} is longer than ${max} bytes`;
    if (header[i] === '' && f.trim() !== '') return `has a value in column ${i + 1}, which has no name in the header`;
  }
  return undefined;
}

function columnName(header: string[], i: number): string {
  return header[i] ? echo(header[i]) : String(i + 1);
}
