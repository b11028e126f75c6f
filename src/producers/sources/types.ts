import type { RawRecord } from '../../shared/mapping/types.ts';

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
}

export type DropItem = DropRow | DropRowError;

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
