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
export type ReportRecord = Record<ReportColumn, string>;

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
  return {
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

/** The report as text chunks (header first for CSV), for a file, stdout or an HTTP response. */
export async function* renderReport(
  records: AsyncIterable<ReportRecord>,
  format: ReportFormat,
): AsyncGenerator<string> {
  if (format === 'csv') yield csvLine(REPORT_COLUMNS);
  for await (const record of records) {
    yield format === 'csv' ? csvLine(REPORT_COLUMNS.map((c) => record[c])) : `${JSON.stringify(record)}\n`;
  }
}
