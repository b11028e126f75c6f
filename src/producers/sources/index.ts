import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import { extname } from 'node:path';
import { z } from 'zod';
import { ProvError } from '../../shared/errors.ts';
import { DROP_ENCODINGS } from '../../shared/mapping/encodings.ts';
import { openReadStream, READ_NO_FOLLOW } from '../safe-fs.ts';
import { readCsv } from './csv.ts';
import { ByteStats, decodeFile } from './decode.ts';
import { readProblem } from './errors.ts';
import { readJson } from './json.ts';
import {
  employeeImportOptionsSchema,
  isEmployeeImportStart,
  readEmployeeImport,
  type EmployeeImportOptions,
} from './employee-import/index.ts';
import type { DropItem, ReaderContext, SourceLimits } from './types.ts';

export type { DropItem, DropPerson, DropRow, DropRowError, DropUnsupported, SourceLimits } from './types.ts';
export { employeeImportOptionsSchema, isEmployeeImportStart, type EmployeeImportOptions };
export { sniffDelimiter, DELIMITERS } from './csv.ts';
export type { SourceEncoding } from './decode.ts';

/*
 * openDrop: a drop file as an async iterable of rows, streamed with backpressure (a row is read
 * only when the consumer asks for it; memory stays bounded by the limits below, whatever the
 * file size). Row problems are yielded as `{ kind: 'error' }` items and reading goes on;
 * file problems throw PROV_ERR_INPUT naming the file and line. docs/template.md lists which is which.
 */

export const DROP_FORMATS = ['csv', 'json', 'ndjson', 'employee-import'] as const;
/** Encodings a drop may be read in (`auto`: UTF-8 with or without BOM, UTF-16 with a BOM). */
export const ENCODINGS = DROP_ENCODINGS;
export type DropFormat = (typeof DROP_FORMATS)[number];

const EXTENSIONS: Record<string, DropFormat> = {
  '.csv': 'csv',
  '.tsv': 'csv',
  '.txt': 'csv',
  '.json': 'json',
  '.ndjson': 'ndjson',
  '.jsonl': 'ndjson',
};

export const openDropOptionsSchema = z.object({
  /**
   * Default: `employee-import` when the first line is a 100 record, else from the extension
   * (.csv .tsv .txt → csv, .json → json, .ndjson .jsonl → ndjson).
   */
  format: z.enum(DROP_FORMATS).optional(),
  /** employee-import only: the mapping options (docs/employee-import.md "Options"). */
  employeeImport: employeeImportOptionsSchema.optional(),
  /** employee-import only: rows per temporary partition of the second pass. Default 5,000. */
  partitionRows: z.number().int().positive().optional(),
  /** CSV only. Default: sniffed from the header line among `,` `;` tab `|` (tab for .tsv). */
  delimiter: z.enum([',', ';', '\t', '|']).optional(),
  /** Default `auto`: UTF-8 (BOM optional) or UTF-16 LE/BE with a BOM. */
  encoding: z.enum(ENCODINGS).default('auto'),
  /** A cell over this many UTF-8 bytes is a row error. Default 64 KiB. */
  maxFieldBytes: z
    .number()
    .int()
    .positive()
    .default(64 * 1024),
  /** A record/element over this many characters: CSV file error, JSON row error. Default 1 MiB. */
  maxRecordChars: z
    .number()
    .int()
    .positive()
    .default(1024 * 1024),
  /** A CSV header with more columns is a file error. Default 1000. */
  maxColumns: z.number().int().positive().default(1000),
  /** JSON nesting deeper than this within an element is a row error. Default 32. */
  maxDepth: z.number().int().positive().default(32),
  /** Read size. Default 64 KiB. */
  highWaterMark: z
    .number()
    .int()
    .positive()
    .default(64 * 1024),
  /** Refuse a path that is a symbolic link (ELOOP) instead of reading what it points at. */
  noFollow: z.boolean().default(false),
  /** Called once with the CSV header's column names; throw to reject the file. */
  onHeader: z.custom<(columns: string[]) => void>((v) => typeof v === 'function').optional(),
});

export type OpenDropOptions = z.input<typeof openDropOptionsSchema>;
export type ResolvedOpenDropOptions = z.output<typeof openDropOptionsSchema>;

export interface DropSummary {
  file: string;
  format: DropFormat;
  /** Hex sha256 of the file's bytes (all of them, BOM included). */
  sha256: string;
  bytes: number;
  encoding: string;
  /** Data rows seen, row errors included (header and blank lines excluded). */
  rows: number;
  rowErrors: number;
  /** CSV lines whose cells are all empty, skipped. */
  blankRows: number;
  /** CSV only. */
  delimiter?: string;
  /** CSV only: the header's column names as written (trimmed). */
  columns?: string[];
  /** employee-import: data lines read (the 100 record and blank lines excluded). */
  records?: number;
  /** employee-import: the 100 record's settings. */
  importSettings?: object;
  /** Drop-wide warnings, one per kind (employee-import: passwords, fields no v4 API holds). */
  warnings?: string[];
}

export interface DropReader extends AsyncIterable<DropItem> {
  readonly file: string;
  /** From the options or the extension; once reading started, what the first line showed. */
  readonly format: DropFormat;
  /** True once every row was read (the summary is then final). */
  readonly finished: boolean;
  /** Throws PROV_ERR_INTERNAL before the reader is finished (sha256 covers the whole file). */
  summary(): DropSummary;
}

/** The format a path implies, or undefined when the extension says nothing. */
export function formatFromPath(path: string): DropFormat | undefined {
  return EXTENSIONS[extname(path).toLowerCase()];
}

/** Reads the first line: a 100 record makes the file an employee import (whatever its extension). */
export async function sniffFormat(path: string, options: { noFollow?: boolean } = {}): Promise<DropFormat | undefined> {
  let handle;
  try {
    handle = await open(path, options.noFollow ? READ_NO_FOLLOW : 'r');
  } catch {
    return undefined;
  }
  try {
    const { buffer, bytesRead } = await handle.read({ buffer: Buffer.alloc(64), position: 0 });
    const head = buffer
      .subarray(0, bytesRead)
      .toString('latin1')
      .replace(/^\xef\xbb\xbf/, '');
    return isEmployeeImportStart(head) ? 'employee-import' : undefined;
  } finally {
    await handle.close();
  }
}

/** The format a drop is read in: the one asked for, else what the first line shows, else the extension's. */
export async function detectDropFormat(
  path: string,
  format?: DropFormat,
  options: { noFollow?: boolean } = {},
): Promise<DropFormat | undefined> {
  return format ?? (await sniffFormat(path, options)) ?? formatFromPath(path);
}

/** Opens a drop for one pass. The file is only opened when iteration starts. */
export function openDrop(path: string, options: OpenDropOptions = {}): DropReader {
  const opts = openDropOptionsSchema.parse(options);
  let format = opts.format ?? formatFromPath(path);
  if (format === undefined && extname(path) !== '') {
    throw new ProvError(
      'PROV_ERR_INPUT',
      `${path}: cannot tell the format from the extension '${extname(path)}'; pass a format (csv, json, ndjson, employee-import)`,
      {
        details: { file: path },
      },
    );
  }
  const limits: SourceLimits = {
    maxFieldBytes: opts.maxFieldBytes,
    maxRecordChars: opts.maxRecordChars,
    maxColumns: opts.maxColumns,
    maxDepth: opts.maxDepth,
  };
  const ctx: ReaderContext = {
    file: path,
    limits,
    delimiter: opts.delimiter ?? (extname(path).toLowerCase() === '.tsv' ? '\t' : undefined),
    onHeader: opts.onHeader,
    rows: 0,
    rowErrors: 0,
    blankRows: 0,
    columns: undefined,
    delimiterUsed: undefined,
  };
  const stats = new ByteStats();
  let started = false;
  let finished = false;

  async function* rows(): AsyncGenerator<DropItem> {
    if (opts.format === undefined) format = (await sniffFormat(path, { noFollow: opts.noFollow })) ?? format;
    if (format === undefined)
      throw new ProvError(
        'PROV_ERR_INPUT',
        `${path}: cannot tell the format (no extension, and the first line is not a 100 record); pass a format (csv, json, ndjson, employee-import)`,
        { details: { file: path } },
      );
    const text = decodeFile(
      path,
      { encoding: opts.encoding, highWaterMark: opts.highWaterMark, noFollow: opts.noFollow },
      stats,
    );
    if (format === 'csv') yield* readCsv(text, ctx);
    else if (format === 'employee-import')
      yield* readEmployeeImport(text, ctx, {
        ...(opts.employeeImport ? { options: opts.employeeImport } : {}),
        ...(opts.partitionRows ? { partitionRows: opts.partitionRows } : {}),
      });
    else yield* readJson(text, ctx, format === 'ndjson');
    finished = true;
  }

  return {
    file: path,
    get format(): DropFormat {
      return format ?? 'csv';
    },
    get finished() {
      return finished;
    },
    [Symbol.asyncIterator]() {
      if (started) throw new ProvError('PROV_ERR_INTERNAL', `${path}: a DropReader can be iterated only once`);
      started = true;
      return rows();
    },
    summary(): DropSummary {
      if (!finished)
        throw new ProvError('PROV_ERR_INTERNAL', `${path}: the summary is known only after every row was read`);
      const s: DropSummary = {
        file: path,
        format: format ?? 'csv',
        sha256: stats.sha256(),
        bytes: stats.bytes,
        encoding: stats.encoding,
        rows: ctx.rows,
        rowErrors: ctx.rowErrors,
        blankRows: ctx.blankRows,
      };
      if (format === 'csv' || format === 'employee-import') {
        if (ctx.delimiterUsed !== undefined) s.delimiter = ctx.delimiterUsed;
        if (ctx.columns !== undefined) s.columns = ctx.columns;
      }
      if (ctx.records !== undefined) s.records = ctx.records;
      if (ctx.importSettings !== undefined) s.importSettings = ctx.importSettings;
      if (ctx.warnings !== undefined && ctx.warnings.length > 0) s.warnings = ctx.warnings;
      return s;
    },
  };
}

/** sha256 of a file, streamed (for a drop id before reading the rows). */
export async function hashFile(path: string, options: { noFollow?: boolean } = {}): Promise<string> {
  const hash = createHash('sha256');
  try {
    const stream = await openReadStream(path, { highWaterMark: 64 * 1024, noFollow: options.noFollow });
    for await (const chunk of stream as AsyncIterable<Buffer>) hash.update(chunk);
  } catch (err) {
    throw new ProvError('PROV_ERR_INPUT', `${path}: ${readProblem(err)}`, {
      cause: err,
      details: { file: path },
    });
  }
  return hash.digest('hex');
}
