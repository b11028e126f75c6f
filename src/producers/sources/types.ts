import type { NormalizedRow, RawRecord } from '../../shared/mapping/types.ts';

/** A data row: `rowNumber` counts data rows from 1 (header and blank lines excluded). */
export interface DropRow {
  kind: 'row';
  rowNumber: number;
  /** Physical line where the row starts (1-based), for messages. */
  line: number;
  record: RawRecord;
}

/** A row that could not be read (ragged, not an object, bad JSON...). Reading goes on. */
export interface DropRowError {
  kind: 'error';
  rowNumber: number;
  line: number;
  /** What is wrong, starting with the file name, e.g. `hr.csv row 3 (line 4): has 5 fields...`. */
  message: string;
  /** The bare problem, without file and position. */
  problem: string;
  /** Legacy employee import: the line (the report keeps it, as Concur's import log does). */
  lines?: number[];
  employeeNumber?: string;
}

/** Legacy employee import: every record of one person, merged and validated into one row. */
export interface DropPerson {
  kind: 'person';
  rowNumber: number;
  /** The person's first line. */
  line: number;
  lines: number[];
  row: NormalizedRow;
  /** None: a person row passed every line check (lines in error are rows of their own). */
  problem?: undefined;
}

/** Legacy employee import: a record type without a v4 API (cards, bank accounts, cars...), reported, never sent. */
export interface DropUnsupported {
  kind: 'unsupported';
  rowNumber: number;
  line: number;
  lines: number[];
  recordType: string;
  employeeNumber?: string;
  message: string;
  problem: string;
}

export type DropItem = DropRow | DropRowError | DropPerson | DropUnsupported;

export interface SourceLimits {
  /** A cell longer than this (UTF-8 bytes) is a row error. */
  maxFieldBytes: number;
  /** A CSV record / JSON element longer than this (characters). CSV: file error; JSON: row error. */
  maxRecordChars: number;
  /** A header with more columns is a file error. */
  maxColumns: number;
  /** JSON nesting deeper than this inside one element is a row error. */
  maxDepth: number;
}

/** Shared state the format readers update as they go. */
export interface ReaderContext {
  file: string;
  limits: SourceLimits;
  delimiter: string | undefined;
  onHeader: ((columns: string[]) => void) | undefined;
  rows: number;
  rowErrors: number;
  blankRows: number;
  columns: string[] | undefined;
  delimiterUsed: string | undefined;
  /** Legacy employee import: data lines read (the 100 record and blank lines excluded). */
  records?: number;
  /** Drop-wide warnings (one per kind). */
  warnings?: string[];
  /** Legacy employee import: the 100 record. */
  importSettings?: Record<string, unknown> | object;
}

export function rowError(ctx: ReaderContext, rowNumber: number, line: number, problem: string): DropRowError {
  ctx.rowErrors++;
  return {
    kind: 'error',
    rowNumber,
    line,
    problem,
    message: `${ctx.file} row ${rowNumber} (line ${line}): ${problem}`,
  };
}
