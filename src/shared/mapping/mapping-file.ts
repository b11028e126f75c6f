import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { employeeImportOptionsSchema } from './employee-import-options.ts';
import { DROP_ENCODINGS } from './encodings.ts';
import { ProvError } from '../errors.ts';
import { echo } from '../safe-text.ts';
import { resolveTemplateColumn, TEMPLATE_COLUMNS } from './template.ts';
import { isCalendarDate, parseBooleanWord } from './validate.ts';
import type { FieldError, MappedRecord, RawRecord, RawValue } from './types.ts';

/*
 * The mapping file (`--mapping FILE`): renames an HR export's columns to template columns and
 * applies simple per-column transforms, so the export works unedited. Shape and examples in
 * docs/template.md.
 */

const templateColumn = z.string().refine((name) => resolveTemplateColumn(name) !== undefined, {
  error: (issue) => `'${String(issue.input)}' is not a template column (see docs/template.md)`,
});

const DATE_TOKEN = /YYYY|MM|DD|M|D/g;

const dateFormat = z.string().refine(
  (f) => {
    const tokens = f.match(DATE_TOKEN) ?? [];
    const has = (t: string) => tokens.filter((x) => x === t || x === t[0]).length === 1;
    return tokens.length === 3 && tokens.includes('YYYY') && has('MM') && has('DD');
  },
  { error: 'a date format needs YYYY, MM (or M) and DD (or D) once each, e.g. DD.MM.YYYY, MM/DD/YYYY or YYYYMMDD' },
);

const transformSchema = z.union([
  z.enum(['trim', 'lower', 'upper', 'boolean']),
  z.strictObject({
    boolean: z.strictObject({ true: z.array(z.string()).min(1), false: z.array(z.string()).min(1) }),
  }),
  z.strictObject({ date: dateFormat }),
  z.strictObject({
    map: z.record(z.string(), z.string()),
    otherwise: z.enum(['keep', 'empty', 'error']).default('keep'),
  }),
  z.strictObject({ default: z.string() }),
  z.strictObject({ constant: z.string() }),
]);
export type Transform = z.output<typeof transformSchema>;

const columnSpec = z.union([
  templateColumn,
  z.strictObject({
    /** One template column, or several fed by the same HR column (e.g. userName and email). */
    to: z.union([templateColumn, z.array(templateColumn).min(1)]),
    transforms: z.array(transformSchema).default([]),
  }),
]);

export const mappingFileSchema = z
  .strictObject({
    $schema: z.string().optional(),
    description: z.string().optional(),
    /** HR column name → template column (or `{ to, transforms }`). Matched case-insensitively. */
    columns: z.record(z.string().min(1), columnSpec).default({}),
    /** Transforms applied to a template column whatever column fed it (after the column's own). */
    transforms: z.record(templateColumn, z.array(transformSchema)).default({}),
    /** Template column → value for every row (the file's own value, if any, is an error). */
    constants: z.record(templateColumn, z.string()).default({}),
    /** Template column → value used when the row's cell is empty or missing. */
    defaults: z.record(templateColumn, z.string()).default({}),
    /** HR columns to drop without a word. */
    ignore: z.array(z.string().min(1)).default([]),
    /** What to do with a column that is neither mapped, a template column, nor ignored. */
    unknownColumns: z.enum(['error', 'ignore']).default('error'),
    /** The text encoding of the HR export this mapping reads (a `--encoding` flag wins). */
    encoding: z.enum(DROP_ENCODINGS).optional(),
    /** Options for a legacy employee import drop (docs/employee-import.md). */
    employeeImport: employeeImportOptionsSchema.optional(),
  })
  .superRefine((m, ctx) => {
    const seen = new Map<string, string>();
    for (const key of Object.keys(m.columns)) {
      const lower = key.trim().toLowerCase();
      const prior = seen.get(lower);
      if (prior !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['columns', key],
          message: `maps the same column as '${prior}' (names match case-insensitively)`,
        });
      }
      seen.set(lower, key);
    }
    for (const key of Object.keys(m.constants)) {
      if (key in m.defaults) ctx.addIssue({ code: 'custom', path: ['defaults', key], message: 'is also a constant' });
    }
  });

export type MappingFileInput = z.input<typeof mappingFileSchema>;
export type MappingFile = z.output<typeof mappingFileSchema>;

/** Validates a parsed mapping document. Throws PROV_ERR_INPUT listing each bad path. */
export function parseMappingFile(input: unknown, source = 'mapping file'): MappingFile {
  const parsed = mappingFileSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => ({
    path: i.path.map(String).join('.') || '(root)',
    message: i.message,
  }));
  throw new ProvError(
    'PROV_ERR_INPUT',
    `${source} is invalid:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`,
    {
      details: { file: source, issues },
    },
  );
}

/** Reads and validates a mapping file from disk. */
export async function loadMappingFile(path: string): Promise<MappingFile> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ProvError(
      'PROV_ERR_INPUT',
      `${path}: cannot read the mapping file (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      {
        cause: err,
        details: { file: path },
      },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw new ProvError('PROV_ERR_INPUT', `${path}: the mapping file is not valid JSON (${(err as Error).message})`, {
      cause: err,
      details: { file: path },
    });
  }
  return parseMappingFile(json, path);
}

/** A stable digest of a mapping's meaning (key order does not matter); part of a drop's id. */
export function mappingFingerprint(mapping: MappingFile | undefined): string {
  return createHash('sha256')
    .update(stableJson(mapping ?? null))
    .digest('hex');
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

// ---------------------------------------------------------------------------------------------

interface Route {
  targets: readonly string[];
  transforms: readonly Transform[];
}

export interface MapResult {
  mapped: MappedRecord;
  errors: FieldError[];
}

export interface RecordMapper {
  /** Problems with a header (unknown columns, two columns feeding one field...); empty when fine. */
  checkColumns(columns: readonly string[]): string[];
  /** `checkColumns`, throwing PROV_ERR_INPUT naming the file when there is any problem. */
  assertColumns(file: string, columns: readonly string[]): void;
  /** Renames and transforms one record. Cells that fail a transform are reported, not mapped. */
  map(rowNumber: number, record: RawRecord): MapResult;
}

/** Builds the mapper for a mapping file, or for the bare default template when there is none. */
export function compileMapping(mapping?: MappingFile): RecordMapper {
  const m = mapping ?? parseMappingFile({});
  const routes = new Map<string, Route>();
  for (const [source, spec] of Object.entries(m.columns)) {
    const to = typeof spec === 'string' ? [spec] : Array.isArray(spec.to) ? spec.to : [spec.to];
    const transforms = typeof spec === 'string' ? [] : spec.transforms;
    routes.set(source.trim().toLowerCase(), { targets: to.map((t) => resolveTemplateColumn(t)!.name), transforms });
  }
  const ignored = new Set(m.ignore.map((c) => c.trim().toLowerCase()));
  const columnTransforms = new Map<string, readonly Transform[]>();
  for (const [col, list] of Object.entries(m.transforms)) columnTransforms.set(resolveTemplateColumn(col)!.name, list);
  const constants = Object.entries(m.constants).map(([c, v]) => [resolveTemplateColumn(c)!.name, v] as const);
  const defaults = Object.entries(m.defaults).map(([c, v]) => [resolveTemplateColumn(c)!.name, v] as const);
  const constantTargets = new Set(constants.map(([c]) => c));

  // A drop repeats the same few column names on every row: resolve each once.
  const routeCache = new Map<string, Route | 'ignore' | 'unknown'>();
  const route = (column: string): Route | 'ignore' | 'unknown' => {
    let r = routeCache.get(column);
    if (r === undefined) {
      r = resolveRoute(column);
      // Bounded: a JSON drop could bring a new key on every record.
      if (routeCache.size < 1_000) routeCache.set(column, r);
    }
    return r;
  };
  const resolveRoute = (column: string): Route | 'ignore' | 'unknown' => {
    const key = column.trim().toLowerCase();
    if (ignored.has(key)) return 'ignore';
    const explicit = routes.get(key);
    if (explicit) return explicit;
    const template = resolveTemplateColumn(column);
    if (template) return { targets: [template.name], transforms: [] };
    return m.unknownColumns === 'ignore' ? 'ignore' : 'unknown';
  };

  /** Each problem twice: as shown to the person who sent the file, and without header cells for the logs. */
  const columnProblems = (columns: readonly string[]): { text: string; log: string }[] => {
    const problems: { text: string; log: string }[] = [];
    const fedBy = new Map<string, string>();
    const unknown: string[] = [];
    for (const column of columns) {
      if (column.trim() === '') continue;
      const r = route(column);
      if (r === 'ignore') continue;
      if (r === 'unknown') {
        unknown.push(column);
        continue;
      }
      for (const target of r.targets) {
        const prior = fedBy.get(target);
        if (prior !== undefined)
          problems.push({
            text: `columns ${echo(prior)} and ${echo(column)} both map to ${target}`,
            log: `two columns both map to ${target}`,
          });
        else fedBy.set(target, column);
        if (constantTargets.has(target))
          problems.push({
            text: `column ${echo(column)} maps to ${target}, which the mapping sets as a constant`,
            log: `a column maps to ${target}, which the mapping sets as a constant`,
          });
      }
    }
    if (unknown.length > 0) {
      const list = unknown
        .slice(0, 20)
        .map((c) => echo(c))
        .join(', ');
      const more = unknown.length > 20 ? ` and ${unknown.length - 20} more` : '';
      const why = `not template columns (docs/template.md), not mapped and not in the mapping's ignore list`;
      problems.push({
        text: `unknown columns ${list}${more}: ${why}`,
        log: `${unknown.length} unknown columns: ${why}`,
      });
    }
    for (const [target] of defaults) fedBy.set(target, fedBy.get(target) ?? '(default)');
    for (const [target] of constants) fedBy.set(target, '(constant)');
    const missing = TEMPLATE_COLUMNS.filter((c) => c.required && !fedBy.has(c.name)).map((c) => c.name);
    if (missing.length > 0) {
      const text = `required columns missing: ${missing.join(', ')}`;
      problems.push({ text, log: text });
    }
    return problems;
  };
  const checkColumns = (columns: readonly string[]): string[] => columnProblems(columns).map((p) => p.text);

  const mapCell = (
    rowNumber: number,
    column: string,
    raw: RawValue,
    target: string,
    transforms: readonly Transform[],
    mapped: MappedRecord,
    errors: FieldError[],
  ): void => {
    const prior = mapped[target];
    if (prior !== undefined) {
      if (!isEmpty(prior.value) && !isEmpty(raw)) {
        errors.push({
          row: rowNumber,
          column,
          field: target,
          reason: `both ${echo(prior.source)} and ${echo(column)} give ${target}`,
        });
        return;
      }
      if (isEmpty(raw)) return;
    }
    if (constantTargets.has(target)) {
      errors.push({
        row: rowNumber,
        column,
        field: target,
        reason: `${target} is a constant in the mapping; remove the column or the constant`,
      });
      return;
    }
    const own = columnTransforms.get(target);
    const out = applyTransforms(raw, own === undefined ? transforms : [...transforms, ...own]);
    if ('reason' in out) {
      errors.push({ row: rowNumber, column, ...(column === target ? {} : { field: target }), reason: out.reason });
      return;
    }
    mapped[target] = { value: out.value, source: column };
  };

  const map = (rowNumber: number, record: RawRecord): MapResult => {
    const mapped: MappedRecord = Object.create(null) as MappedRecord;
    const errors: FieldError[] = [];
    for (const column of Object.keys(record)) {
      const r = route(column);
      if (r === 'ignore') continue;
      if (r === 'unknown') {
        errors.push({
          row: rowNumber,
          column,
          reason: 'unknown column: not a template column, not mapped and not ignored',
        });
        continue;
      }
      const raw = record[column] ?? null;
      for (const target of r.targets) mapCell(rowNumber, column, raw, target, r.transforms, mapped, errors);
    }
    for (const [target, value] of defaults) {
      const cell = mapped[target];
      if (cell === undefined || isEmpty(cell.value)) mapped[target] = { value, source: '(default)' };
    }
    for (const [target, value] of constants) mapped[target] = { value, source: '(constant)' };
    return { mapped, errors };
  };

  return {
    checkColumns,
    assertColumns(file, columns) {
      const found = columnProblems(columns);
      if (found.length > 0) {
        const problems = found.map((p) => p.text);
        const lead = `${file}: the header does not fit the template/mapping: `;
        throw new ProvError('PROV_ERR_INPUT', `${lead}${problems.join('; ')}`, {
          details: { file, line: 1, problems, logSafe: `${lead}${found.map((p) => p.log).join('; ')}` },
        });
      }
    },
    map,
  };
}

export function isEmpty(value: RawValue | undefined): boolean {
  if (value === null || value === undefined) return true;
  if (typeof value === 'string') return value.trim() === '';
  if (Array.isArray(value)) return value.every((v) => v.trim() === '');
  return false;
}

type Out = { value: RawValue } | { reason: string };

/** Runs a column's transforms in order. Exported for tests. */
export function applyTransforms(value: RawValue, transforms: readonly Transform[]): Out {
  let current: Out = { value };
  for (const t of transforms) {
    if ('reason' in current) return current;
    current = applyOne(current.value, t);
  }
  return current;
}

function applyOne(value: RawValue, t: Transform): Out {
  if (typeof t === 'string') {
    switch (t) {
      case 'trim':
        return { value: eachString(value, (s) => s.trim()) };
      case 'lower':
        return { value: eachString(value, (s) => s.toLowerCase()) };
      case 'upper':
        return { value: eachString(value, (s) => s.toUpperCase()) };
      case 'boolean':
        return booleanOf(value, parseBooleanWord, 'true/false, yes/no, y/n, t/f or 1/0');
    }
  }
  if ('boolean' in t) {
    const yes = new Set(t.boolean.true.map((w) => w.trim().toLowerCase()));
    const no = new Set(t.boolean.false.map((w) => w.trim().toLowerCase()));
    const parse = (s: string) =>
      yes.has(s.trim().toLowerCase()) ? true : no.has(s.trim().toLowerCase()) ? false : undefined;
    return booleanOf(value, parse, [...t.boolean.true, ...t.boolean.false].join(', '));
  }
  if ('date' in t) {
    if (isEmpty(value)) return { value: '' };
    if (typeof value !== 'string') return { reason: `expected a date in the form ${t.date}` };
    const iso = parseDate(value, t.date);
    return iso === undefined
      ? { reason: `${echo(value.trim(), 40)} is not a valid date in the form ${t.date}` }
      : { value: iso };
  }
  if ('map' in t) {
    const table = new Map(Object.entries(t.map).map(([k, v]) => [k.trim().toLowerCase(), v] as const));
    let miss: string | undefined;
    const mapped = eachString(value, (s) => {
      if (s.trim() === '') return s;
      const hit = table.get(s.trim().toLowerCase());
      if (hit !== undefined) return hit;
      miss ??= s;
      return t.otherwise === 'empty' ? '' : s;
    });
    if (miss !== undefined && t.otherwise === 'error')
      return { reason: `${echo(miss.trim(), 40)} is not one of the mapped values` };
    return { value: mapped };
  }
  if ('default' in t) return isEmpty(value) ? { value: t.default } : { value };
  return { value: t.constant };
}

function eachString(value: RawValue, f: (s: string) => string): RawValue {
  if (typeof value === 'string') return f(value);
  if (Array.isArray(value)) return value.map(f);
  if (typeof value === 'boolean') return f(String(value));
  return value;
}

function booleanOf(value: RawValue, parse: (s: string) => boolean | undefined, words: string): Out {
  if (typeof value === 'boolean') return { value: String(value) };
  if (isEmpty(value)) return { value: '' };
  if (typeof value !== 'string') return { reason: `expected one of ${words}` };
  const b = parse(value);
  return b === undefined ? { reason: `${echo(value.trim(), 40)} is not one of ${words}` } : { value: String(b) };
}

const dateRegexCache = new Map<string, { re: RegExp; order: string[] }>();

/** Parses `value` by a format such as `DD.MM.YYYY`; a trailing time (` 00:00:00`, `T…`) is ignored. */
export function parseDate(value: string, format: string): string | undefined {
  let compiled = dateRegexCache.get(format);
  if (!compiled) {
    const order: string[] = [];
    let source = '';
    let last = 0;
    for (const m of format.matchAll(DATE_TOKEN)) {
      source += escapeRegex(format.slice(last, m.index));
      source += m[0] === 'YYYY' ? '(\\d{4})' : m[0].length === 2 ? '(\\d{2})' : '(\\d{1,2})';
      order.push(m[0][0]!);
      last = m.index + m[0].length;
    }
    source += escapeRegex(format.slice(last));
    compiled = { re: new RegExp(`^${source}(?:[T ].*)?$`), order };
    dateRegexCache.set(format, compiled);
  }
  const match = compiled.re.exec(value.trim());
  if (!match) return undefined;
  const parts: Record<string, number> = {};
  compiled.order.forEach((k, i) => (parts[k] = Number(match[i + 1])));
  const y = parts.Y!;
  const mo = parts.M!;
  const d = parts.D!;
  if (!isCalendarDate(y, mo, d)) return undefined;
  return `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
