import { printable } from '../shared/safe-text.ts';
import { ingestLimitProblem, type GuardLimits } from '../shared/guards/limits.ts';
import { encodeNewRow, type NewRow } from '../shared/ledger/ledger.ts';
import type { MappingFile } from '../shared/mapping/mapping-file.ts';
import { compileMapping } from '../shared/mapping/mapping-file.ts';
import { prepareRow } from '../shared/mapping/normalize.ts';
import type { FieldError, NormalizedRow, RawRecord, RawValue } from '../shared/mapping/types.ts';
import { inputError } from './sources/errors.ts';
import { openDrop, type DropFormat, type DropItem, type SourceEncoding } from './sources/index.ts';

/*
 * A drop file as groups of rows encoded for the ledger (`encodeNewRow`): read, mapped, validated
 * and encoded, with the counts the ingest needs. The one thing an ingest does per row (ingest.ts
 * writes the batches to Redis).
 */

/** Everything needed to read a drop into batches (plain data: it could cross to a worker thread). */
export interface DropBatchParams {
  path: string;
  /** The file's name in messages. */
  file: string;
  format: DropFormat;
  noFollow: boolean;
  delimiter?: ',' | ';' | '\t' | '|';
  encoding?: SourceEncoding;
  mapping?: MappingFile;
  /** The drop's creation time: an asOf further ahead than a day is an error. */
  createdAt: number;
  /** The asOf of rows without one. */
  dropAsOf: number;
  /** Rows per batch (one ledger round trip). */
  batchRows: number;
  guards: Pick<GuardLimits, 'maxDropRows' | 'maxInvalidPercent' | 'minRows'>;
}

/** One group of rows for `Ledger.addEncodedRows`, and the counts of the file up to its last row. */
export interface DropBatch {
  /** `encodeNewRow` output: six strings per row. */
  encoded: string[];
  /** Row numbers of the batch's valid rows, in file order (the identity jobs are cut from them). */
  valid: number[];
  /** Row numbers of the batch's valid `active=false` rows. */
  inactive: number[];
  /** Rows read so far (the highest row number). */
  rows: number;
  /** Rows found invalid so far while reading (the ledger's in-drop duplicates not included). */
  invalid: number;
  /** Valid `active=false` rows so far (duplicates not taken out). */
  deactivations: number;
  /** Set on the last batch only (which may hold no row): the file was read to its end. */
  end?: DropBatchEnd;
}

export interface DropBatchEnd {
  /** Drop-wide warnings (an employee import's ignored passwords...). */
  warnings?: string[];
  /** An employee import's 100 record error threshold. */
  errorThreshold?: number;
}

/** How far ahead of the drop's creation an `asOf` may be (time zones, clocks a little apart). */
const AS_OF_FUTURE_SLACK_MS = 24 * 3600 * 1000;

/**
 * Reads the drop and yields its rows in batches of `batchRows`, then a last batch with `end`.
 * `duplicates()` is how many rows the ledger has found duplicate so far: with the invalid rows read
 * it decides when a file is mostly garbage (MAX_INVALID_PERCENT), which throws PROV_ERR_INPUT.
 */
export async function* readDropBatches(p: DropBatchParams, duplicates: () => number): AsyncGenerator<DropBatch> {
  const mapper = compileMapping(p.mapping);
  const reader = openDrop(p.path, {
    format: p.format,
    noFollow: p.noFollow,
    ...(p.delimiter ? { delimiter: p.delimiter } : {}),
    ...(p.encoding ? { encoding: p.encoding } : {}),
    ...(p.mapping?.employeeImport ? { employeeImport: p.mapping.employeeImport } : {}),
    // A header that cannot fit the template (or the mapping) rejects the file once, not every row.
    onHeader: (columns) => mapper.assertColumns(p.file, columns),
  });
  const { file, createdAt, dropAsOf } = p;
  let rows = 0;
  let invalid = 0;
  let deactivations = 0;
  // Each row is encoded as soon as it is read: its objects die young, and a batch waiting for
  // Redis holds six strings per row (less for the garbage collector to carry).
  let encoded: string[] = [];
  let valid: number[] = [];
  let inactive: number[] = [];
  let batchRows = 0;
  const push = (row: NewRow): void => {
    encodeNewRow(row, encoded);
    batchRows += 1;
  };
  const take = (): DropBatch => {
    const batch = { encoded, valid, inactive, rows, invalid, deactivations };
    encoded = [];
    valid = [];
    inactive = [];
    batchRows = 0;
    return batch;
  };
  const accept = (row: NormalizedRow): void => {
    if (row.asOf !== undefined && row.asOf > createdAt + AS_OF_FUTURE_SLACK_MS) {
      // A mistyped year would lock the person against every later drop.
      invalid += 1;
      push({
        row: row.rowNumber,
        state: 'invalid',
        outcome: {
          error: `${file} row ${row.rowNumber}: asOf: ${new Date(row.asOf).toISOString()} is in the future`,
          code: 'PROV_ERR_INPUT',
          column: 'asOf',
          employeeNumber: row.employeeNumber,
          ...(row.userName ? { userName: row.userName } : {}),
        },
      });
      return;
    }
    row.asOf ??= dropAsOf;
    push(validRow(row));
    if (row.active === false) {
      deactivations += 1;
      inactive.push(row.rowNumber);
    }
    valid.push(row.rowNumber);
  };

  for await (const item of reader) {
    rows = Math.max(rows, item.rowNumber);
    if (item.kind === 'error') {
      invalid += 1;
      push({ row: item.rowNumber, state: 'invalid', outcome: lineOutcome(item, { code: 'PROV_ERR_INPUT' }) });
    } else if (item.kind === 'unsupported') {
      push({ row: item.rowNumber, state: 'unsupported', outcome: lineOutcome(item) });
    } else if (item.kind === 'person') {
      accept(item.row);
    } else {
      const prepared = prepareRow(item.rowNumber, item.record, mapper);
      if (!prepared.ok) {
        invalid += 1;
        push({
          row: item.rowNumber,
          state: 'invalid',
          outcome: invalidOutcome(file, item.rowNumber, prepared.errors, item.record),
        });
      } else {
        accept(prepared.row);
      }
    }
    if (batchRows >= p.batchRows) yield take();
    // Garbage stops here, before the rest of it costs Redis memory (~270 B per invalid row).
    const tooMuch = ingestLimitProblem(rows, invalid + duplicates(), p.guards);
    if (tooMuch) throw inputError(file, tooMuch, { row: rows });
  }
  const summary = reader.summary();
  const errorThreshold = (summary.importSettings as { errorThreshold?: number } | undefined)?.errorThreshold;
  yield {
    ...take(),
    end: {
      ...(summary.warnings ? { warnings: summary.warnings } : {}),
      ...(errorThreshold ? { errorThreshold } : {}),
    },
  };
}

function validRow(row: NormalizedRow): NewRow {
  return {
    row: row.rowNumber,
    state: 'pending',
    // No outcome yet: the record names the person until it is forgotten (the ledger then copies
    // userName and employeeNumber into the outcome), so a pending row costs one hash field less.
    // A legacy employee import row starts with its source lines (the report keeps them).
    ...(row.lines
      ? { outcome: { lines: row.lines.join(' '), ...(row.warnings ? { warnings: row.warnings } : {}) } }
      : {}),
    data: row,
    employeeNumber: row.employeeNumber,
    ...(row.userName === undefined ? {} : { userName: row.userName }),
  };
}

/** The outcome of a line that is its own row (an employee import line in error, or unsupported). */
function lineOutcome(
  item: Extract<DropItem, { kind: 'error' | 'unsupported' }>,
  extra: NewRow['outcome'] = {},
): NewRow['outcome'] {
  return {
    error: item.message,
    ...extra,
    ...(item.lines ? { lines: item.lines.join(' ') } : {}),
    ...(item.employeeNumber ? { employeeNumber: item.employeeNumber } : {}),
  };
}

/** An invalid row's outcome names the file, the row and every failing column with its reason. */
function invalidOutcome(file: string, rowNumber: number, errors: FieldError[], record: RawRecord): NewRow['outcome'] {
  const first = errors[0];
  const message = errors.map((e) => `${e.column}: ${e.reason}`).join('; ');
  // The row failed validation, so its identifiers may hold anything: kept to name the row in the
  // report, clipped and with control characters shown as escapes.
  const text = (v: RawValue | undefined) => (typeof v === 'string' && v !== '' ? printable(v, 128) : undefined);
  const userName = text(record.userName);
  const employeeNumber = text(record.employeeNumber);
  return {
    error: `${file} row ${rowNumber}: ${message}`,
    code: 'PROV_ERR_INPUT',
    ...(first ? { column: first.column } : {}),
    ...(userName ? { userName } : {}),
    ...(employeeNumber ? { employeeNumber } : {}),
  };
}
