import { echo } from '../safe-text.ts';
import type { RecordMapper } from './mapping-file.ts';
import { CUSTOM_DATA_IDS, SPEND_USER_FIELDS, resolveTemplateColumn } from './template.ts';
import type {
  FieldError,
  MappedRecord,
  NormalizeResult,
  NormalizedRow,
  RawRecord,
  SpendData,
  TemplateRow,
  TravelData,
} from './types.ts';
import {
  LIMITS,
  canonicalLocale,
  canonicalStateProvince,
  canonicalTimezone,
  parseAsOf,
  countryProblem,
  currencyProblem,
  dateProblem,
  emailProblem,
  formulaProblem,
  parseBooleanWord,
  positiveIntProblem,
  roleProblem,
  exclusiveRolesProblem,
  textProblem,
  userNameProblem,
  identifierProblem,
} from './validate.ts';

/*
 * A mapped record becomes a typed NormalizedRow, or the list of every rule it breaks (all of
 * them at once, so one fix round is enough). Every string is trimmed and NFC-normalized first;
 * an empty cell is absent.
 */

const LIST_SEPARATOR = /[;,|]/;

const NOT_ASCII = /[\u0080-\uffff]/;
/** Anything but whitespace and list separators: a cell `list()` would not find empty. */
const NOT_BLANK_ITEM = /[^\s;,|]/;

/** NFC form; ASCII (most cells) is already in it, and the check is far cheaper than ICU. */
function nfc(s: string): string {
  return NOT_ASCII.test(s) ? s.normalize('NFC') : s;
}

class RowReader {
  readonly errors: FieldError[] = [];
  constructor(
    readonly row: number,
    private readonly cells: MappedRecord,
  ) {}

  fail(field: string, reason: string): undefined {
    const source = this.cells[field]?.source;
    const column = source === undefined || source.startsWith('(') ? field : source;
    this.errors.push(column === field ? { row: this.row, column, reason } : { row: this.row, column, field, reason });
    return undefined;
  }

  /** The cell as one trimmed NFC string, or undefined when empty. Lists are refused here. */
  text(field: string): string | undefined {
    const cell = this.cells[field];
    if (cell === undefined || cell.value === null) return undefined;
    if (Array.isArray(cell.value)) return this.fail(field, 'expected a single value, got a list');
    const s = nfc((typeof cell.value === 'boolean' ? String(cell.value) : cell.value).trim());
    return s === '' ? undefined : s;
  }

  /** A `;`-separated cell (`,` and `|` also separate) or a JSON array, as trimmed non-empty items. */
  list(field: string): string[] | undefined {
    const cell = this.cells[field];
    if (cell === undefined || cell.value === null) return undefined;
    const items = Array.isArray(cell.value) ? cell.value : String(cell.value).split(LIST_SEPARATOR);
    const out = items.map((s) => nfc(s.trim())).filter((s) => s !== '');
    return out.length === 0 ? undefined : out;
  }

  /** Whether `list(field)` would find an item, without building the list (checked for many fields per row). */
  present(field: string): boolean {
    const cell = this.cells[field];
    if (cell === undefined || cell.value === null) return false;
    if (Array.isArray(cell.value)) return cell.value.some((s) => s.trim() !== '');
    return NOT_BLANK_ITEM.test(String(cell.value));
  }

  required(field: string): string | undefined {
    const v = this.text(field);
    if (v === undefined && !this.errors.some((e) => (e.field ?? e.column) === field)) this.fail(field, 'is required');
    return v;
  }

  /** Applies a check; returns the value when it passes. */
  check(
    field: string,
    value: string | undefined,
    ...problems: Array<(v: string) => string | undefined>
  ): string | undefined {
    if (value === undefined) return undefined;
    for (const p of problems) {
      const reason = p(value);
      if (reason !== undefined) return this.fail(field, reason);
    }
    return value;
  }

  canonical(
    field: string,
    value: string | undefined,
    f: (v: string) => { value: string } | { reason: string },
  ): string | undefined {
    if (value === undefined) return undefined;
    const r = f(value);
    return 'reason' in r ? this.fail(field, r.reason) : r.value;
  }
}

const max = (n: number) => (v: string) => textProblem(v, n);

// The cells' names, built once: a name made per row is a new string to hash on every look-up.
const CUSTOM_DATA_FIELDS = CUSTOM_DATA_IDS.map((id) => [id, `spend.customData.${id}`] as const);
const SPEND_USER_CELLS = SPEND_USER_FIELDS.map((f) => `spend.${f}`);
const customDataProblem = max(LIMITS.customData);
const refProblem = (v: string) => textProblem(v, LIMITS.employeeNumber) ?? identifierProblem(v);

/** Turns a mapped record into a NormalizedRow or the field errors it has. */
export function normalizeRow(rowNumber: number, cells: MappedRecord): NormalizeResult {
  const r = new RowReader(rowNumber, cells);

  const userName = r.check('userName', r.required('userName'), userNameProblem);
  const givenName = r.check('givenName', r.required('givenName'), max(LIMITS.givenName), formulaProblem);
  const familyName = r.check('familyName', r.required('familyName'), max(LIMITS.familyName), formulaProblem);
  const email = r.check('email', r.required('email'), emailProblem);
  const employeeNumber = r.check('employeeNumber', r.required('employeeNumber'), refProblem);

  const row: Partial<NormalizedRow> = { rowNumber };
  const set = <K extends keyof NormalizedRow>(key: K, value: NormalizedRow[K] | undefined) => {
    if (value !== undefined) row[key] = value;
  };

  const activeText = r.text('active');
  if (activeText !== undefined) {
    const b = parseBooleanWord(activeText);
    if (b === undefined) r.fail('active', `${echo(activeText, 20)} is not a boolean (true/false, yes/no, y/n, 1/0)`);
    set('active', b);
  }
  set('middleName', r.check('middleName', r.text('middleName'), max(LIMITS.middleName), formulaProblem));
  set('externalId', r.check('externalId', r.text('externalId'), max(LIMITS.externalId)));
  set('title', r.check('title', r.text('title'), max(LIMITS.title), formulaProblem));
  set('timezone', r.canonical('timezone', r.text('timezone'), canonicalTimezone));
  set('preferredLanguage', r.canonical('preferredLanguage', r.text('preferredLanguage'), canonicalLocale));
  set('costCenter', r.check('costCenter', r.text('costCenter'), max(LIMITS.costCenter)));
  set('department', r.check('department', r.text('department'), max(LIMITS.department), formulaProblem));
  set('division', r.check('division', r.text('division'), max(LIMITS.division), formulaProblem));
  set('startDate', r.check('startDate', r.text('startDate'), dateProblem));
  set('terminationDate', r.check('terminationDate', r.text('terminationDate'), dateProblem));
  const notSelf = (v: string) => (v === employeeNumber ? "is the row's own employeeNumber" : undefined);
  set('managerEmployeeNumber', r.check('managerEmployeeNumber', r.text('managerEmployeeNumber'), refProblem, notSelf));
  // An explicit key change; a previous value equal to the current one changes nothing.
  const previousEmployeeNumber = r.check('previousEmployeeNumber', r.text('previousEmployeeNumber'), refProblem);
  if (previousEmployeeNumber !== employeeNumber) set('previousEmployeeNumber', previousEmployeeNumber);
  const previousUserName = r.check('previousUserName', r.text('previousUserName'), userNameProblem);
  if (previousUserName?.toLowerCase() !== userName?.toLowerCase()) set('previousUserName', previousUserName);

  const asOfText = r.text('asOf');
  if (asOfText !== undefined) {
    const parsed = parseAsOf(asOfText);
    if ('reason' in parsed) r.fail('asOf', parsed.reason);
    else set('asOf', parsed.value);
  }

  const spend = readSpend(r, notSelf);
  if (spend) row.spend = spend;
  const travel = readTravel(r, notSelf);
  if (travel) row.travel = travel;

  if (r.errors.length > 0) return { ok: false, errors: r.errors };
  // Onto the row itself, not a spread copy (this runs for every row of a drop); same key order.
  row.userName = userName!;
  row.givenName = givenName!;
  row.familyName = familyName!;
  row.email = email!;
  row.employeeNumber = employeeNumber!;
  return { ok: true, row: row as TemplateRow };
}

function readSpend(r: RowReader, notSelf: (v: string) => string | undefined): SpendData | undefined {
  const spend: SpendData = {};
  const country = r.check('spend.country', r.text('spend.country')?.toUpperCase(), countryProblem);
  const currency = r.check(
    'spend.reimbursementCurrency',
    r.text('spend.reimbursementCurrency')?.toUpperCase(),
    currencyProblem,
  );
  const locale = r.canonical('spend.locale', r.text('spend.locale'), canonicalLocale);
  const ledgerCode = r.check('spend.ledgerCode', r.text('spend.ledgerCode'), max(LIMITS.ledgerCode));
  const stateProvince = r.canonical('spend.stateProvince', r.text('spend.stateProvince'), canonicalStateProvince);
  const cashAdvance = r.check(
    'spend.cashAdvanceAccountCode',
    r.text('spend.cashAdvanceAccountCode'),
    max(LIMITS.cashAdvanceAccountCode),
  );
  Object.assign(
    spend,
    defined({
      country,
      reimbursementCurrency: currency,
      locale,
      ledgerCode,
      stateProvince,
      cashAdvanceAccountCode: cashAdvance,
    }),
  );

  const customData: Record<string, string> = {};
  for (const [id, field] of CUSTOM_DATA_FIELDS) {
    const v = r.check(field, r.text(field), customDataProblem);
    if (v !== undefined) customData[id] = v;
  }
  if (Object.keys(customData).length > 0) spend.customData = customData;

  const roles = r.list('spend.roles')?.map((s) => s.toUpperCase());
  if (roles) {
    const bad = roles.map(roleProblem).find((p) => p !== undefined) ?? exclusiveRolesProblem(roles);
    if (bad) r.fail('spend.roles', bad);
    else spend.roles = [...new Set(roles)];
  }
  const approver = r.check(
    'spend.reportApproverEmployeeNumber',
    r.text('spend.reportApproverEmployeeNumber'),
    refProblem,
    notSelf,
  );
  if (approver !== undefined) spend.reportApproverEmployeeNumber = approver;

  // Concur requires these three on a spend user as soon as any spend user field is sent.
  const usesSpendUser =
    SPEND_USER_CELLS.some((f) => has(r, f)) || CUSTOM_DATA_FIELDS.some(([, field]) => has(r, field));
  if (usesSpendUser) {
    for (const f of ['spend.country', 'spend.reimbursementCurrency', 'spend.locale']) {
      if (!has(r, f))
        r.fail(f, 'is required when any other spend user field (spend.country ... spend.customData.*) is set');
    }
  }
  return Object.keys(spend).length > 0 ? spend : undefined;
}

function readTravel(r: RowReader, notSelf: (v: string) => string | undefined): TravelData | undefined {
  const travel: TravelData = {};
  const ruleClass = r.text('travel.ruleClass');
  if (ruleClass !== undefined) {
    if (/^\d+$/.test(ruleClass)) {
      if (r.check('travel.ruleClass', ruleClass, positiveIntProblem) !== undefined)
        travel.ruleClass = { id: Number(ruleClass) };
    } else if (r.check('travel.ruleClass', ruleClass, max(LIMITS.ruleClassName)) !== undefined) {
      travel.ruleClass = { name: ruleClass };
    }
  }
  const groups = r.list('travel.groups');
  if (groups) {
    const bad = groups.map(positiveIntProblem).find((p) => p !== undefined);
    if (bad) r.fail('travel.groups', bad);
    else travel.groups = [...new Set(groups.map(Number))];
  }
  const manager = r.check('travel.managerEmployeeNumber', r.text('travel.managerEmployeeNumber'), refProblem, notSelf);
  if (manager !== undefined) travel.managerEmployeeNumber = manager;
  if ((has(r, 'travel.groups') || has(r, 'travel.managerEmployeeNumber')) && !has(r, 'travel.ruleClass')) {
    r.fail(
      'travel.ruleClass',
      'is required when any other travel field is set (Concur needs exactly one rule class per travel user)',
    );
  }
  return Object.keys(travel).length > 0 ? travel : undefined;
}

/** True when the row has a non-empty cell for `field` (valid or not). */
function has(r: RowReader, field: string): boolean {
  return r.present(field);
}

function defined<T extends Record<string, unknown>>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const k in o) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/**
 * Map then normalize: the one call a producer makes per row. Errors from both steps are merged.
 * (Duplicates across rows are the ledger's job: see ADD_ROWS in shared/ledger/scripts.ts.)
 */
export function prepareRow(rowNumber: number, record: RawRecord, mapper: RecordMapper): NormalizeResult {
  const { mapped, errors } = mapper.map(rowNumber, record);
  const result = normalizeRow(rowNumber, mapped);
  if (errors.length === 0) return result;
  // A column that failed its transform is not in `mapped`; drop the "is required" echo of it.
  const failed = new Set(errors.map((e) => e.field ?? resolveTemplateColumn(e.column)?.name ?? e.column));
  const rest = result.ok
    ? []
    : result.errors.filter((e) => !(e.reason === 'is required' && failed.has(e.field ?? e.column)));
  return { ok: false, errors: [...errors, ...rest] };
}
