import { printable } from '../safe-text.ts';
import type { Ledger, RowOutcome } from './ledger.ts';
import type { RowState } from './states.ts';

/** The report's columns, in order. Plan reports (`ingest --plan`) use the same columns. */
export const REPORT_COLUMNS = [
  'row',
  'userName',
  'employeeNumber',
  'state',
  'action',
  'uuid',
  'provisionId',
  'errorCode',
  'message',
  'schemaPath',
  /** The source lines of the row (a legacy employee import: every record of the person). */
  'lines',
] as const;

export type ReportColumn = (typeof REPORT_COLUMNS)[number];
/** A report row; `changes` (old → new per changed field) is printed only with `--changes`. */
export type ReportRecord = Record<ReportColumn, string> & { changes?: string };

/** One field the identity stage changed, as the ledger keeps it for the report (`--changes`). */
export interface FieldChange {
  field: string;
  old: unknown;
  new: unknown;
}

/** `field: old → new`, as the plan and the report (`--changes`) show a change. */
export function describeChange(c: FieldChange): string {
  return `${c.field}: ${showValue(c.old)} → ${showValue(c.new)}`;
}

function showValue(v: unknown): string {
  if (v === undefined || v === null || v === '') return '(none)';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The `changes` cell: every change, `; `-separated ('' when the row changed nothing). */
function changesText(changes: unknown): string {
  if (!Array.isArray(changes)) return '';
  return changes
    .filter(
      (c): c is FieldChange => typeof c === 'object' && c !== null && typeof (c as FieldChange).field === 'string',
    )
    .map(describeChange)
    .join('; ');
}

/** A failed extension as the status stage records it (Concur's messages carry the schemaPath). */
interface ExtensionResult {
  name?: string;
  code?: string;
  /** Set when the whole extension was refused at one path (older ledgers record it here). */
  schemaPath?: string;
  messages?: { code?: string; message?: string; schemaPath?: string; type?: string }[];
}

/** Every schemaPath Concur named for the row's failed extensions (warnings left out). */
function failedSchemaPaths(extensions: ExtensionResult[]): string[] {
  const paths = extensions.flatMap((e) => [
    e.schemaPath,
    ...(Array.isArray(e.messages) ? e.messages : []).filter((m) => m.type !== 'warning').map((m) => m.schemaPath),
  ]);
  return [...new Set(paths.filter((p): p is string => typeof p === 'string' && p !== ''))];
}

/** One flat report record from a ledger row. Extension failures list every failing path. */
export function toReportRecord(row: number, state: RowState, outcome: RowOutcome): ReportRecord {
  const extensions = Array.isArray(outcome.extensions) ? (outcome.extensions as ExtensionResult[]) : [];
  const schemaPaths = failedSchemaPaths(extensions);
  const record: ReportRecord = {
    row: String(row),
    userName: str(outcome.userName),
    employeeNumber: str(outcome.employeeNumber),
    state,
    action: str(outcome.action),
    uuid: str(outcome.uuid),
    provisionId: str(outcome.provisionId),
    errorCode: str(outcome.code) || (extensions[0]?.code ?? ''),
    // A row not written because it is older than the person's last drop says why (docs/safety.md).
    message: str(outcome.error) || str(outcome.note),
    schemaPath: schemaPaths.join(' | ') || str(outcome.column),
    lines: str(outcome.lines),
  };
  const changes = changesText(outcome.changes);
  if (changes !== '') record.changes = printable(changes, Number.POSITIVE_INFINITY);
  return record;
}

/** A cell's text, with control, bidi and invisible characters shown as escapes (a report ends up on screens). */
function str(v: unknown): string {
  return v === undefined || v === null ? '' : printable(String(v), Number.POSITIVE_INFINITY);
}

/** Every row of the drop as report records, in row order, page by page. */
export async function* reportRecords(
  ledger: Ledger,
  dropId: string,
  states?: ReadonlySet<string>,
): AsyncGenerator<ReportRecord> {
  for await (const r of ledger.iterateRows(dropId)) {
    if (states && !states.has(r.state)) continue;
    yield toReportRecord(r.row, r.state, r.outcome);
  }
}

/**
 * A CSV cell: quoted when needed, and a cell starting with `= + - @` (or tab / carriage return)
 * is prefixed with `'` so a spreadsheet shows it as text instead of running it as a formula.
 */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvLine(values: readonly string[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

export type ReportFormat = 'csv' | 'jsonl';

export interface RenderOptions {
  /** Add the `changes` column: old → new for every field the identity stage changed (personal data: for the operator). */
  changes?: boolean;
  /** CSV: start with a UTF-8 byte order mark, so Excel reads the file as UTF-8. */
  bom?: boolean;
}

/**
 * The report as text chunks (header first for CSV), for a file, stdout or an HTTP response. In
 * JSONL `row` is a number; every other cell a string.
 */
export async function* renderReport(
  records: AsyncIterable<ReportRecord>,
  format: ReportFormat,
  options: RenderOptions = {},
): AsyncGenerator<string> {
  const columns: readonly (ReportColumn | 'changes')[] = options.changes
    ? [...REPORT_COLUMNS, 'changes']
    : REPORT_COLUMNS;
  if (format === 'csv') yield `${options.bom ? '\uFEFF' : ''}${csvLine(columns)}`;
  for await (const record of records) {
    if (format === 'csv') {
      yield csvLine(columns.map((c) => record[c] ?? ''));
      continue;
    }
    const { changes, ...cells } = record;
    yield `${JSON.stringify({ ...cells, row: Number(record.row), ...(options.changes ? { changes: changes ?? '' } : {}) })}\n`;
  }
}
