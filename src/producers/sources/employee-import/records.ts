import { SAP_USER_URN, SPEND_APPROVER_URN, SPEND_USER_URN, TRAVEL_USER_URN } from '../../../shared/mapping/to-scim.ts';
import type { RowOperation } from '../../../shared/mapping/types.ts';
import { dateProblem, emailProblem, textProblem, userNameProblem } from '../../../shared/mapping/validate.ts';
import {
  TRANSLATIONS,
  translateCountry,
  translateCurrency,
  translateFrom,
  translateLocale,
  translateRole,
  translateSubCode,
  type EmployeeImportOptions,
  type Translation,
} from './codes.ts';
import { LAYOUTS, UNSUPPORTED, fieldLabel, type FieldSpec, type RecordLayout, type Target } from './layouts.ts';

/*
 * One line of the legacy file → what it says about one person (a Fragment), or the problems
 * that make the line invalid, or `unsupported`. Fragments of one person are merged later
 * (person.ts); here every line is judged on its own, as Concur's import judges records.
 */

export const SPEND_ROLE_URN = 'urn:ietf:params:scim:schemas:extension:spend:2.0:Role';
export const SPEND_DELEGATE_URN = 'urn:ietf:params:scim:schemas:extension:spend:2.0:Delegate';
export const SPEND_APPROVER_LIMIT_URN = 'urn:ietf:params:scim:schemas:extension:spend:2.0:ApproverLimit';
export const PAYROLL_URN = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:Payroll';
const PREFERENCE_URNS = {
  WorkflowPreference: 'urn:ietf:params:scim:schemas:extension:spend:2.0:WorkflowPreference',
  UserPreference: 'urn:ietf:params:scim:schemas:extension:spend:2.0:UserPreference',
  InvoicePreference: 'urn:ietf:params:scim:schemas:extension:spend:2.0:InvoicePreference',
} as const;

/** The literal that clears a field under UPDATE (SAP's spec). */
export const BLANK = '$BLANK$';

export type ExistingRecordHandling = 'UPDATE' | 'REPLACE' | 'WARN' | 'IGNORE';

/** The 100 record (Import Settings). */
export interface ImportSettings {
  errorThreshold: number;
  passwordGeneration: 'EMPID' | 'LOGINID' | 'TEXT' | 'SSO';
  existingRecordHandling: ExistingRecordHandling;
  languageCode: string;
  validateExpenseGroup: boolean;
  validatePaymentGroup: boolean;
}

/** A role a line grants or takes away; 400 lines name a group and count as rights. */
export interface RoleChange {
  name: string;
  grant: boolean;
  group?: string;
  rights?: true;
  /** The legacy 400 code, when it was translated. */
  legacy?: string;
}

/** What one line says about one person. Serialized between the two passes (plain JSON). */
export interface Fragment {
  line: number;
  type: string;
  /** The person: the Employee ID the line names (320: the current one). */
  key: string;
  /** 320: the new Employee ID (the same person is known by both in this file). */
  newKey?: string;
  /** Identity fields (NormalizedRow names); phones, e-mails and addresses by type. */
  set?: Record<string, unknown>;
  phones?: Record<string, string>;
  emails?: Record<string, string>;
  addresses?: Record<string, Record<string, string>>;
  clear?: string[];
  grant?: string[];
  revoke?: string[];
  onCreate?: string[];
  roles?: RoleChange[];
  ops?: RowOperation[];
  refs?: string[];
  warnings?: string[];
}

export type LineResult =
  | { kind: 'fragment'; fragment: Fragment }
  | { kind: 'error'; line: number; type: string; key?: string; problems: string[] }
  | { kind: 'unsupported'; line: number; type: string; key?: string; problem: string };

/** Drop-wide observations: one warning each, however many lines show them. */
export interface DropNotes {
  /** Lines with a password (ignored: the v4 APIs have none). */
  passwordLines: number[];
  /** Non-blank fields that go nowhere, by what is said of them: how many lines, and the first few. */
  ignoredFields: Map<string, { count: number; lines: number[] }>;
}

export function newDropNotes(): DropNotes {
  return { passwordLines: [], ignoredFields: new Map() };
}

export interface LineContext {
  settings: ImportSettings;
  options: EmployeeImportOptions;
  notes: DropNotes;
}

const SETTINGS_FIELDS = [
  'Transaction Type',
  'Error Threshold',
  'Password Generation',
  'Existing Record Handling',
  'Language Code',
  'Validate Expense Group',
  'Validate Payment Group',
];

/** The 100 record, or the problems that keep the file from being read (Concur reads no file without one). */
export function parseSettings(cells: string[]): { settings: ImportSettings } | { problems: string[] } {
  const problems: string[] = [];
  const at = (i: number) => (cells[i] ?? '').trim();
  const label = (i: number) => `record 100 field ${i + 1} (${SETTINGS_FIELDS[i]})`;
  if (cells.length !== 7) problems.push(`record 100 has ${cells.length} fields; the layout has 7`);
  const threshold = at(1);
  if (!/^\d{1,9}$/.test(threshold))
    problems.push(`${label(1)}: '${clip(threshold)}' is not a whole number (SAP asks for 0)`);
  const password = at(2).toUpperCase();
  if (!['EMPID', 'LOGINID', 'TEXT', 'SSO'].includes(password))
    problems.push(`${label(2)}: '${clip(at(2))}' is not EMPID, LOGINID, TEXT or SSO`);
  const mode = at(3).toUpperCase();
  if (!['UPDATE', 'REPLACE', 'WARN', 'IGNORE'].includes(mode))
    problems.push(`${label(3)}: '${clip(at(3))}' is not UPDATE, REPLACE, WARN or IGNORE`);
  if (at(4) === '') problems.push(`${label(4)}: is required`);
  const flags = [5, 6].map((i) => {
    const v = at(i).toUpperCase();
    if (v !== 'Y' && v !== 'N') problems.push(`${label(i)}: '${clip(at(i))}' is not Y or N`);
    return v === 'Y';
  });
  if (problems.length > 0) return { problems };
  return {
    settings: {
      errorThreshold: Number(threshold),
      passwordGeneration: password as ImportSettings['passwordGeneration'],
      existingRecordHandling: mode as ExistingRecordHandling,
      languageCode: at(4),
      validateExpenseGroup: flags[0]!,
      validatePaymentGroup: flags[1]!,
    },
  };
}

/** Reads one record (not the 100): a fragment, the line's problems, or `unsupported`. */
export function readLine(cells: string[], line: number, ctx: LineContext): LineResult {
  const type = (cells[0] ?? '').trim();
  const key = (cells[1] ?? '').trim() || undefined;
  const unsupported = UNSUPPORTED.get(type);
  if (unsupported) {
    return {
      kind: 'unsupported',
      line,
      type,
      ...(key ? { key } : {}),
      problem: `record ${type} (${unsupported.sapName}: ${unsupported.what}) has no v4 API equivalent; not sent`,
    };
  }
  const layout = LAYOUTS.get(type);
  if (!layout) {
    const problem =
      type === '100'
        ? 'a second 100 record (Import Settings): a file has exactly one, on its first line'
        : `'${clip(type)}' is not a record type of the employee import`;
    return { kind: 'error', line, type, problems: [problem] };
  }
  if (cells.length !== layout.fields.length) {
    return {
      kind: 'error',
      line,
      type,
      ...(key ? { key } : {}),
      problems: [`record ${type} has ${cells.length} fields; the layout has ${layout.fields.length}`],
    };
  }
  return new LineReader(layout, cells, line, ctx).read();
}

class LineReader {
  private readonly problems: string[] = [];
  private readonly f: Fragment;
  private readonly spendUser: Record<string, unknown> = {};
  private readonly customData: { id: string; value: string }[] = [];
  private readonly prefs = new Map<string, Record<string, unknown>>();
  private readonly adp: Record<string, string> = {};
  private readonly travel: Record<string, unknown> = {};
  private readonly profileOps: RowOperation[] = [];
  private workPhoneExtension: string | undefined;

  constructor(
    private readonly layout: RecordLayout,
    private readonly cells: string[],
    line: number,
    private readonly ctx: LineContext,
  ) {
    this.f = { line, type: layout.type, key: '' };
  }

  private get replace(): boolean {
    return this.ctx.settings.existingRecordHandling === 'REPLACE';
  }

  private cell(position: number): string {
    return (this.cells[position - 1] ?? '').trim();
  }

  private field(position: number): FieldSpec {
    return this.layout.fields[position - 1]!;
  }

  private fail(field: FieldSpec, reason: string): undefined {
    this.problems.push(`${fieldLabel(this.layout.type, field)}: ${reason}`);
    return undefined;
  }

  read(): LineResult {
    const keyField = this.layout.fields.find((x) => x.target.to === 'key')!;
    const key = this.employeeId(keyField, true);
    if (key !== undefined) this.f.key = key;
    switch (this.layout.type) {
      case '320':
        this.idChange();
        break;
      case '400':
        this.roleLine();
        break;
      case '500':
      case '550':
        this.delegateLine();
        break;
      case '700':
      case '710':
      case '720':
      case '750':
      case '760':
        this.approverLimitLine();
        break;
      default:
        this.fieldLine();
    }
    if (this.problems.length > 0) {
      return {
        kind: 'error',
        line: this.f.line,
        type: this.layout.type,
        ...(key ? { key } : {}),
        problems: this.problems,
      };
    }
    return { kind: 'fragment', fragment: this.f };
  }

  /** An Employee ID cell: required where the spec says so, at most its length, never a control character. */
  private employeeId(field: FieldSpec, required = false): string | undefined {
    const v = this.cell(field.position);
    if (v === '' || v === BLANK) {
      if (required || field.required) this.fail(field, 'is required');
      return undefined;
    }
    const problem = textProblem(v, field.max ?? 48);
    return problem ? this.fail(field, problem) : v;
  }

  private ref(field: FieldSpec): string | undefined {
    const v = this.employeeId(field);
    if (v !== undefined && v === this.f.key) return this.fail(field, "is the employee's own ID");
    if (v !== undefined) (this.f.refs ??= []).push(v);
    return v;
  }

  // ---- records mapped field by field: 300, 305, 310, 315, 350, 360, 370 ----

  private fieldLine(): void {
    for (const field of this.layout.fields) {
      const t = field.target;
      if (t.to === 'key') continue;
      const raw = this.cell(field.position);
      if (raw === BLANK) {
        if (
          this.ctx.settings.existingRecordHandling !== 'UPDATE' &&
          this.ctx.settings.existingRecordHandling !== 'REPLACE'
        ) {
          // WARN / IGNORE only create people, so there is nothing to clear; treat it as blank.
          continue;
        }
        this.clearTarget(field);
        continue;
      }
      if (raw === '') {
        if (this.replace && clearable(t)) this.clearTarget(field, true);
        continue;
      }
      this.apply(field, raw);
    }
    this.finishFieldLine();
  }

  /** Turns a cell into the value its format says, or records why it cannot. */
  private value(field: FieldSpec, raw: string): string | boolean | number | undefined {
    const max = field.max ?? 255;
    const translated = (t: Translation) => ('reason' in t ? this.fail(field, t.reason) : t.value);
    switch (field.format) {
      case 'yn': {
        const v = raw.toUpperCase();
        if (v === 'Y') return true;
        if (v === 'N') return false;
        return this.fail(field, `'${clip(raw)}' is not Y or N`);
      }
      case 'date': {
        const m = /^(\d{4})(\d{2})(\d{2})$/.exec(raw);
        const iso = m ? `${m[1]}-${m[2]}-${m[3]}` : undefined;
        if (iso === undefined) return this.fail(field, `'${clip(raw)}' is not a date YYYYMMDD`);
        const problem = dateProblem(iso);
        return problem ? this.fail(field, problem.replace(`'${iso}'`, `'${raw}'`)) : iso;
      }
      case 'locale':
        return translated(translateLocale(raw));
      case 'country':
        return translated(translateCountry(raw));
      case 'subcode':
        return translated(translateSubCode(raw));
      case 'currency':
        return translated(translateCurrency(raw));
      case 'gender':
        return translated(translateFrom(TRANSLATIONS.gender, raw, 'M or F'));
      case 'audit':
        return translated(translateFrom(TRANSLATIONS.audit, raw, 'an audit code'));
      case 'reimbursement':
        return translated(translateFrom(TRANSLATIONS.reimbursement, raw, 'a reimbursement type'));
      case 'prefix':
        return (
          oneOf(raw, ['Lord', 'Lady', 'Sir', 'Mr', 'Miss', 'Ms', 'Mrs', 'Dr', 'Rev', 'Prof']) ??
          this.fail(field, `'${clip(raw)}' is not one of Lord, Lady, Sir, Mr, Miss, Ms, Mrs, Dr, Rev, Prof`)
        );
      case 'suffix':
        return (
          oneOf(raw, ['Jr.', 'Sr.', 'I', 'II', 'III', 'IV', 'V', 'VI']) ??
          this.fail(field, `'${clip(raw)}' is not one of Jr., Sr., I, II, III, IV, V, VI`)
        );
      case 'login': {
        const problem = userNameProblem(raw) ?? textProblem(raw, max);
        return problem ? this.fail(field, problem) : raw;
      }
      case 'email': {
        const problem = emailProblem(raw);
        return problem ? this.fail(field, problem) : raw;
      }
      case 'globalid':
        return /^[A-Za-z0-9\-+_/:.]{1,36}$/.test(raw)
          ? raw
          : this.fail(field, 'is not an SAP Global ID (at most 36 of A-Z a-z 0-9 - + _ / : .)');
      case 'number':
        return /^-?\d{1,15}(\.\d{1,4})?$/.test(raw)
          ? Number(raw)
          : this.fail(field, `'${clip(raw)}' is not a number like 10000.00`);
      case 'int':
        return /^\d{1,3}$/.test(raw) && Number(raw) >= 1
          ? Number(raw)
          : this.fail(field, `'${clip(raw)}' is not a whole number from 1`);
      default: {
        const problem = textProblem(raw, max);
        return problem ? this.fail(field, problem) : raw;
      }
    }
  }

  private apply(field: FieldSpec, raw: string): void {
    const t = field.target;
    if (t.to === 'password') {
      this.ctx.notes.passwordLines.push(this.f.line);
      return;
    }
    if (t.to === 'none') {
      if (t.why !== 'Future Use' && t.why !== 'record type')
        note(this.ctx.notes, fieldLabel(this.layout.type, field), t.why, this.f.line);
      return;
    }
    if (t.to === 'approver') {
      const ref = this.ref(field);
      if (ref === undefined) return;
      this.profileOps.push({
        op: 'add',
        path: `${SPEND_APPROVER_URN}:${t.kind}[primary eq ${t.primary}]`,
        value: { approver: { employeeNumber: ref }, primary: t.primary },
      });
      return;
    }
    if (t.to === 'biManager' || t.to === 'travelManager') {
      const ref = this.ref(field);
      if (ref === undefined) return;
      if (t.to === 'biManager') this.spendUser.biManager = { employeeNumber: ref };
      else this.travel.manager = { employeeNumber: ref };
      return;
    }
    if (t.to === 'travelCustom') {
      const eq = raw.indexOf('=');
      if (eq <= 0) return void this.fail(field, 'is not Name=Value (e.g. GLCODE=1234)');
      const problem = textProblem(raw, field.max ?? 255);
      if (problem) return void this.fail(field, problem);
      const name = raw.slice(0, eq).trim();
      this.profileOps.push({
        op: 'add',
        path: `${TRAVEL_USER_URN}:customFields[name eq ${JSON.stringify(name)}]`,
        value: { name, value: raw.slice(eq + 1).trim() },
      });
      return;
    }
    const v = this.value(field, raw);
    if (v === undefined) return;
    switch (t.to) {
      case 'identity':
        (this.f.set ??= {})[t.field] = v;
        return;
      case 'phone':
        (this.f.phones ??= {})[t.type] = String(v);
        return;
      case 'phoneExtension':
        this.workPhoneExtension = String(v);
        return;
      case 'address':
        ((this.f.addresses ??= {})[t.type] ??= {})[t.sub] = String(v);
        return;
      case 'email':
        (this.f.emails ??= {})[t.type] = String(v);
        return;
      case 'entitlement':
        (v ? (this.f.grant ??= []) : (this.f.revoke ??= [])).push(t.name);
        return;
      case 'travelUser': {
        const how = this.ctx.options.travelUser;
        if (how !== 'role') (v ? (this.f.grant ??= []) : (this.f.revoke ??= [])).push('Travel');
        if (how !== 'entitlement') (this.f.roles ??= []).push({ name: 'TRAVEL_USER', grant: v === true });
        return;
      }
      case 'role':
        (this.f.roles ??= []).push({ name: t.code, grant: v === true });
        return;
      case 'spend':
        this.spendUser[t.attr] = v;
        return;
      case 'custom':
        this.customData.push({ id: t.id, value: String(v) });
        return;
      case 'pref': {
        const urn = PREFERENCE_URNS[t.urn];
        const prefs = this.prefs.get(urn) ?? {};
        prefs[t.attr] = v;
        this.prefs.set(urn, prefs);
        return;
      }
      case 'payroll':
        this.adp[t.attr] = String(v);
        return;
      case 'travel':
        this.travel[t.attr] = t.attr === 'ruleClass' ? { name: v } : v;
        return;
      case 'travelName':
        this.travel.name = { hasNoMiddleName: v };
        return;
    }
  }

  /** `$BLANK$` (or, under REPLACE, a blank field the record owns): the field is removed from Concur. */
  private clearTarget(field: FieldSpec, quiet = false): void {
    const t = field.target;
    const path = clearPath(t);
    if (path === undefined) {
      if (!quiet) this.fail(field, `cannot be cleared with ${BLANK} (required, a flag, or not sent to Concur)`);
      return;
    }
    if (path.identity) (this.f.clear ??= []).push(path.path);
    else this.profileOps.push({ op: 'remove', path: path.path });
  }

  private finishFieldLine(): void {
    const type = this.layout.type;
    if (this.workPhoneExtension !== undefined) {
      const work = this.f.phones?.work;
      if (work === undefined)
        (this.f.warnings ??= []).push(
          `line ${this.f.line}: ${fieldLabel(type, this.field(12))} ignored: the line has no work phone to extend`,
        );
      else this.f.phones!.work = `${work};ext=${this.workPhoneExtension}`;
    }
    if (type === '300' || type === '305') {
      // Expense User (field 63): blank or N still mean Yes for someone the line gives no other product.
      const expense = this.cell(63).toUpperCase();
      const others = (this.f.grant ?? []).some((g) => g !== 'Expense');
      if (expense === '') (this.f.onCreate ??= []).push('Expense');
      else if (expense === 'N' && !others) {
        this.f.revoke = (this.f.revoke ?? []).filter((x) => x !== 'Expense');
        (this.f.grant ??= []).push('Expense');
      }
    }
    const ops: RowOperation[] = [];
    if (this.customData.length > 0) this.spendUser.customData = this.customData;
    if (Object.keys(this.spendUser).length > 0) ops.push({ op: 'add', path: SPEND_USER_URN, value: this.spendUser });
    for (const [urn, value] of this.prefs) ops.push({ op: 'add', path: urn, value });
    if (Object.keys(this.adp).length > 0) ops.push({ op: 'add', path: PAYROLL_URN, value: { adp: this.adp } });
    if (Object.keys(this.travel).length > 0) ops.push({ op: 'add', path: TRAVEL_USER_URN, value: this.travel });
    ops.push(...this.profileOps);
    if (ops.length > 0) this.f.ops = ops;
  }

  // ---- records with their own shape ----

  private idChange(): void {
    const newId = this.employeeId(this.field(3));
    const login = this.cell(4);
    let newLogin: string | undefined;
    if (login !== '') {
      const problem = userNameProblem(login) ?? textProblem(login, 64);
      if (problem) this.fail(this.field(4), problem);
      else newLogin = login;
    }
    if (newId === undefined && newLogin === undefined && this.problems.length === 0)
      this.fail(this.field(3), 'is required when New Login ID (field 4) is blank: the line changes nothing');
    if (newId !== undefined && newId === this.f.key) this.fail(this.field(3), 'is the same as the current Employee ID');
    if (newId !== undefined) this.f.newKey = newId;
    if (newLogin !== undefined) this.f.set = { userName: newLogin };
  }

  private roleLine(): void {
    const codeField = this.field(3);
    const raw = this.cell(3);
    if (raw === '') return void this.fail(codeField, 'is required');
    if (!/^[A-Za-z0-9_]{1,15}$/.test(raw)) return void this.fail(codeField, `'${clip(raw)}' is not a role code`);
    const name = translateRole(raw);
    const group = this.segments(4);
    const change: RoleChange = { name, grant: true, rights: true, ...(group ? { group } : {}) };
    if (name !== raw.toUpperCase()) change.legacy = raw.toUpperCase();
    this.f.roles = [change];
  }

  private delegateLine(): void {
    const delegate = this.ref(this.field(3));
    const productField = this.field(4);
    const products: Record<string, string> =
      this.layout.type === '550'
        ? TRANSLATIONS.delegateProduct
        : { EXP: TRANSLATIONS.delegateProduct.EXP, PMT: TRANSLATIONS.delegateProduct.PMT };
    const product = this.cell(4);
    const key = product === '' ? undefined : products[product.toUpperCase()];
    if (product === '') this.fail(productField, 'is required');
    else if (key === undefined)
      this.fail(productField, `'${clip(product)}' is not ${Object.keys(products).join(', ')}`);
    const flags: [number, string][] = [
      [5, 'canPrepare'],
      [6, 'canSubmit'],
      [7, 'canApprove'],
      [11, 'canViewReceipt'],
      ...(this.layout.type === '550'
        ? ([
            [12, 'canReceiveEmail'],
            [13, 'canReceiveApprovalEmail'],
            [14, 'canUseBi'],
            [15, 'canSubmitTravelRequest'],
            [16, 'canPrepareForApproval'],
          ] as [number, string][])
        : []),
    ];
    const value: Record<string, unknown> = {};
    for (const [pos, attr] of flags) {
      const raw = this.cell(pos);
      if (raw === '') continue;
      const v = this.value(this.field(pos), raw);
      if (typeof v === 'boolean') value[attr] = v;
    }
    const temporary = this.cell(8).toUpperCase();
    if (temporary !== '' && temporary !== 'Y' && temporary !== 'N')
      this.fail(this.field(8), `'${clip(this.cell(8))}' is not Y or N`);
    const from = this.cell(9) === '' ? undefined : this.value(this.field(9), this.cell(9));
    const to = this.cell(10) === '' ? undefined : this.value(this.field(10), this.cell(10));
    if (temporary === 'Y') {
      if (from === undefined && this.cell(9) === '') this.fail(this.field(9), 'is required when field 8 is Y');
      if (to === undefined && this.cell(10) === '') this.fail(this.field(10), 'is required when field 8 is Y');
      if (typeof from === 'string' && typeof to === 'string' && from > to)
        this.fail(this.field(10), `is before the From Date (field 9)`);
      if (typeof from === 'string' && typeof to === 'string')
        value.temporaryDelegation = { temporaryDelegationFromDate: from, temporaryDelegationToDate: to };
    }
    if (delegate === undefined || key === undefined) return;
    this.f.ops = [
      {
        op: 'add',
        path: `${SPEND_DELEGATE_URN}:${key}[delegate.employeeNumber eq ${JSON.stringify(delegate)}]`,
        value: { delegate: { employeeNumber: delegate }, ...value },
        rights: true,
      },
    ];
  }

  private approverLimitLine(): void {
    const type = this.layout.type;
    const typeField = this.field(2);
    const allowed: Record<string, string> = { ...TRANSLATIONS.approvalType, EXP: this.ctx.options.expenseApprovalType };
    if (type === '700') delete allowed.PUR;
    const raw = this.cell(2);
    const approvalType = raw === '' ? undefined : allowed[raw.toUpperCase()];
    if (raw === '') this.fail(typeField, 'is required');
    else if (approvalType === undefined)
      this.fail(typeField, `'${clip(raw)}' is not ${Object.keys(allowed).join(', ')}`);
    const group = this.segments(4) ?? '';
    const list = type === '710' || type === '760' ? 'costObjectApprover' : 'authorizedApprover';
    if (approvalType === undefined) return;
    const path = `${SPEND_APPROVER_LIMIT_URN}:${list}[approvalType eq ${JSON.stringify(approvalType)} and approvalGroup eq ${JSON.stringify(group)}]`;
    if (type === '750' || type === '760') {
      this.f.ops = [{ op: 'remove', path, rights: true }];
      return;
    }
    const value: Record<string, unknown> = { approvalType, approvalGroup: group };
    const exception = this.cell(14);
    if (exception !== '') {
      const v = this.value(this.field(14), exception);
      if (typeof v === 'boolean') value.exceptionApprovalAuthority = v;
    }
    const limit = this.cell(15) === '' ? undefined : this.value(this.field(15), this.cell(15));
    const currency = this.cell(16) === '' ? undefined : this.value(this.field(16), this.cell(16));
    if (this.cell(15) !== '' && this.cell(16) === '')
      this.fail(this.field(16), 'is required when an Approval Limit (field 15) is given');
    if (typeof limit === 'number') value.approvalLimit = limit;
    if (typeof currency === 'string') value.reimbursementCurrency = currency;
    if (type !== '700' && this.cell(17) !== '') {
      const level = this.value(this.field(17), this.cell(17));
      if (typeof level === 'number') value.level = level;
    }
    this.f.ops = [{ op: 'add', path, value, rights: true }];
  }

  /** Segments from `first` on: the non-blank list item codes joined with `-` (blank: the global group). */
  private segments(first: number): string | undefined {
    const parts: string[] = [];
    for (let p = first; p < first + 10; p++) {
      const v = this.cell(p);
      if (v === '') continue;
      const problem = textProblem(v, 48);
      if (problem) this.fail(this.field(p), problem);
      else parts.push(v);
    }
    return parts.length > 0 ? parts.join('-') : undefined;
  }
}

/** Where a cleared field is removed: an identity path, or a UPS path. Undefined: not clearable. */
function clearPath(t: Target): { path: string; identity: boolean } | undefined {
  switch (t.to) {
    case 'identity': {
      if (!t.clearable) return undefined;
      const path =
        t.field === 'middleName' || t.field === 'honorificPrefix' || t.field === 'honorificSuffix'
          ? `name.${t.field}`
          : t.field === 'sapUserUuid'
            ? `${SAP_USER_URN}:userUuid`
            : t.field;
      return { path, identity: true };
    }
    case 'phone':
      return { path: `phoneNumbers[type eq "${t.type}"]`, identity: true };
    case 'address':
      return { path: `addresses[type eq "${t.type}"].${t.sub}`, identity: true };
    case 'email':
      return { path: `emails[type eq "${t.type}"]`, identity: true };
    case 'spend':
      return t.clearable ? { path: `${SPEND_USER_URN}:${t.attr}`, identity: false } : undefined;
    case 'custom':
      return { path: `${SPEND_USER_URN}:customData[id eq "${t.id}"]`, identity: false };
    case 'approver':
      return { path: `${SPEND_APPROVER_URN}:${t.kind}[primary eq ${t.primary}]`, identity: false };
    case 'biManager':
      return { path: `${SPEND_USER_URN}:biManager`, identity: false };
    case 'travelManager':
      return { path: `${TRAVEL_USER_URN}:manager`, identity: false };
    case 'travel':
      return t.attr === 'ruleClass' ? undefined : { path: `${TRAVEL_USER_URN}:${t.attr}`, identity: false };
    case 'payroll':
      return { path: `${PAYROLL_URN}:adp.${t.attr}`, identity: false };
    default:
      return undefined;
  }
}

function clearable(t: Target): boolean {
  return clearPath(t) !== undefined;
}

function oneOf(raw: string, allowed: readonly string[]): string | undefined {
  return allowed.find((a) => a.toLowerCase() === raw.toLowerCase());
}

function note(notes: DropNotes, label: string, why: string, line: number): void {
  const key = `${label} is not sent: ${why}`;
  const seen = notes.ignoredFields.get(key) ?? { count: 0, lines: [] };
  seen.count += 1;
  if (seen.lines.length < 5) seen.lines.push(line);
  notes.ignoredFields.set(key, seen);
}

function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}
