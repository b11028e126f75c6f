import type { StoredUser } from '../context.ts';
import type { ConcurMessage } from '../errors.ts';
import { exclusiveConflicts } from './role-codes.ts';
import {
  PAYROLL_URN,
  SPEND_APPROVER_LIMIT_URN,
  SPEND_APPROVER_URN,
  SPEND_DELEGATE_URN,
  SPEND_INVOICE_PREFERENCE_URN,
  SPEND_ROLE_URN,
  SPEND_USER_PREFERENCE_URN,
  SPEND_USER_URN,
  SPEND_WORKFLOW_PREFERENCE_URN,
  TRAVEL_USER_URN,
} from './urns.ts';

/** What extension validation needs to know about the company (resolved at processing time). */
export interface ValidationEnv {
  /** A user of the company by UUID, or undefined. */
  userById(id: string): StoredUser | undefined;
  /** A user of the company by employee number, or undefined. */
  userByEmployeeNumber(employeeNumber: string): StoredUser | undefined;
  roleCodes: readonly string[];
  listItems: Readonly<Record<string, readonly string[]>>;
  /** The company's ledgers: a `ledgerCode` outside them is refused. */
  ledgerCodes: readonly string[];
  /** Known travel rule class names; empty: not checked. */
  ruleClasses?: readonly string[];
  /** Known hierarchy nodes (`US-WEST`); empty: not checked. */
  hierarchyNodes?: readonly string[];
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Messages for one extension value after merging; any `type: 'error'` message fails the extension. */
export function validateExtension(urn: string, value: Json, env: ValidationEnv): ConcurMessage[] {
  switch (urn) {
    case SPEND_USER_URN:
      return validateSpendUser(value, env);
    case SPEND_ROLE_URN:
      return validateRoles(value, env);
    case SPEND_APPROVER_URN:
      return validateReferences(value, env, urn, APPROVER_KEYS, 'approver');
    case SPEND_DELEGATE_URN:
      return validateReferences(value, env, urn, DELEGATE_KEYS, 'delegate');
    case SPEND_APPROVER_LIMIT_URN:
      return validateApproverLimits(value, env);
    case SPEND_USER_PREFERENCE_URN:
      return validateFlags(urn, value, USER_PREFERENCE_ENUMS);
    case SPEND_WORKFLOW_PREFERENCE_URN:
    case SPEND_INVOICE_PREFERENCE_URN:
      return validateFlags(urn, value, {});
    case PAYROLL_URN:
      return validatePayroll(value);
    case TRAVEL_USER_URN:
      return validateTravel(value, env);
    default:
      return [];
  }
}

/** The extension's HTTP-ish code: "404" when a referenced employee is missing, else "400". */
export function extensionErrorCode(messages: ConcurMessage[]): string {
  return messages.some((m) => m.type === 'error' && m.code === 'INVALID_USER') ? '404' : '400';
}

const invalidValue = (schemaPath: string): ConcurMessage => ({
  code: 'INVALID_VALUE',
  message: `Invalid Value: '${schemaPath}'`,
  schemaPath,
  type: 'error',
});
const invalidSize = (schemaPath: string): ConcurMessage => ({
  code: 'INVALID_VALUE',
  message: `Invalid '${schemaPath}' Size`,
  schemaPath,
  type: 'error',
});
const missingEmployee = (schemaPath: string): ConcurMessage => ({
  code: 'INVALID_USER',
  message: 'Employee does not exist',
  schemaPath,
  type: 'error',
});

const isBlank = (v: unknown): boolean => v === undefined || v === null || v === '';

/** A fixed-length uppercase code: wrong length → Size, wrong characters → Invalid Value. */
function checkCode(out: ConcurMessage[], value: unknown, path: string, length: number, pattern: RegExp): void {
  if (isBlank(value)) return;
  if (typeof value !== 'string') out.push(invalidValue(path));
  else if (value.length !== length) out.push(invalidSize(path));
  else if (!pattern.test(value)) out.push(invalidValue(path));
}

function checkMaxLength(out: ConcurMessage[], value: unknown, path: string, max: number): void {
  if (isBlank(value)) return;
  if (typeof value !== 'string') out.push(invalidValue(path));
  else if (value.length > max) out.push(invalidSize(path));
}

const REIMBURSEMENT_TYPES = ['ACCOUNTS_PAYABLE', 'ADP_PAYROLL', 'CONCUR_PAY', 'OTHER'];
const CUSTOM_FIELD_ID = /^(custom([1-9]|1\d|2[0-2])|orgUnit[1-6])$/;

function validateSpendUser(v: Json, env: ValidationEnv): ConcurMessage[] {
  const out: ConcurMessage[] = [];
  const p = (attr: string): string => `${SPEND_USER_URN}:${attr}`;
  for (const required of ['reimbursementCurrency', 'country', 'locale']) {
    if (isBlank(v[required])) out.push(invalidValue(p(required)));
  }
  checkCode(out, v.reimbursementCurrency, p('reimbursementCurrency'), 3, /^[A-Z]{3}$/);
  checkCode(out, v.country, p('country'), 2, /^[A-Z]{2}$/);
  checkCode(out, v.budgetCountryCode, p('budgetCountryCode'), 2, /^[A-Z]{2}$/);
  checkCode(out, v.locale, p('locale'), 5, /^[a-z]{2}[-_][A-Z]{2}$/);
  checkMaxLength(out, v.stateProvince, p('stateProvince'), 2);
  checkMaxLength(out, v.ledgerCode, p('ledgerCode'), 20);
  if (typeof v.ledgerCode === 'string' && v.ledgerCode !== '' && v.ledgerCode.length <= 20) {
    if (!env.ledgerCodes.includes(v.ledgerCode)) out.push(invalidValue(p('ledgerCode')));
  }
  checkMaxLength(out, v.cashAdvanceAccountCode, p('cashAdvanceAccountCode'), 20);
  if (!isBlank(v.reimbursementType) && !REIMBURSEMENT_TYPES.includes(String(v.reimbursementType))) {
    out.push(invalidValue(p('reimbursementType')));
  }
  for (const flag of ['testEmployee', 'nonEmployee']) {
    if (!isBlank(v[flag]) && typeof v[flag] !== 'boolean') out.push(invalidValue(p(flag)));
  }
  if (v.customData !== undefined) {
    if (!Array.isArray(v.customData)) out.push(invalidValue(p('customData')));
    else {
      for (const item of v.customData) {
        if (!isObject(item) || typeof item.id !== 'string') {
          out.push(invalidValue(p('customData')));
          continue;
        }
        const itemPath = p(`customData[id eq "${item.id}"]`);
        if (!CUSTOM_FIELD_ID.test(item.id)) {
          out.push(invalidValue(`${itemPath}.id`));
          continue;
        }
        const list = env.listItems[item.id];
        if (list && !isBlank(item.value) && !list.includes(String(item.value))) {
          out.push({
            code: 'INVALID_VALUE',
            message: 'Invalid List Item',
            schemaPath: `${itemPath}.value`,
            type: 'error',
          });
        }
      }
    }
  }
  if (v.biManager !== undefined && v.biManager !== null) {
    out.push(...checkReference(v.biManager, env, p('biManager')));
  }
  return out;
}

function validateRoles(v: Json, env: ValidationEnv): ConcurMessage[] {
  const path = `${SPEND_ROLE_URN}:roles`;
  if (v.roles === undefined) return [];
  if (!Array.isArray(v.roles)) return [invalidValue(path)];
  const out: ConcurMessage[] = [];
  for (const role of v.roles) {
    if (!isObject(role) || typeof role.roleName !== 'string' || role.roleName === '') {
      out.push(invalidValue(`${path}.roleName`));
      continue;
    }
    const rolePath = `${path}[roleName eq "${role.roleName}"]`;
    if (!env.roleCodes.includes(role.roleName)) {
      out.push({
        code: 'INVALID_VALUE',
        message: `Invalid Role: '${role.roleName}'`,
        schemaPath: `${rolePath}.roleName`,
        type: 'error',
      });
    }
    if (
      role.roleGroups !== undefined &&
      !(Array.isArray(role.roleGroups) && role.roleGroups.every((g) => typeof g === 'string'))
    ) {
      out.push(invalidValue(`${rolePath}.roleGroups`));
    } else if (Array.isArray(role.roleGroups)) {
      for (const g of role.roleGroups as string[]) out.push(...checkNode(g, env, `${rolePath}.roleGroups`));
    }
  }
  const names = v.roles.filter(isObject).map((r) => r.roleName);
  for (const [a, b] of exclusiveConflicts(names.filter((n): n is string => typeof n === 'string'))) {
    out.push({
      code: 'INVALID_VALUE',
      message: `Invalid Role: a user cannot hold both '${a}' and '${b}'`,
      schemaPath: `${path}[roleName eq "${b}"].roleName`,
      type: 'error',
    });
  }
  return out;
}

const APPROVER_KEYS = [
  'report',
  'cashAdvance',
  'request',
  'invoice',
  'purchaseRequest',
  'statement',
  'budget',
  'payment',
];
/** Only these approver kinds may have non-primary approvers. */
const NON_PRIMARY_KEYS = ['report', 'request'];
const DELEGATE_KEYS = ['expense', 'payment', 'purchaseRequest'];

/** Approver / Delegate: every referenced employee must exist in the company (and delegates be active). */
function validateReferences(
  v: Json,
  env: ValidationEnv,
  urn: string,
  keys: string[],
  field: 'approver' | 'delegate',
): ConcurMessage[] {
  const out: ConcurMessage[] = [];
  for (const [key, entries] of Object.entries(v)) {
    if (key === 'schemas') continue;
    if (!keys.includes(key)) {
      out.push({
        code: 'INVALID_INPUT',
        message: `Invalid attribute path [${key}]`,
        schemaPath: `${urn}:${key}`,
        type: 'error',
      });
      continue;
    }
    if (!Array.isArray(entries)) {
      out.push(invalidValue(`${urn}:${key}`));
      continue;
    }
    for (const entry of entries) {
      const ref = isObject(entry) ? entry[field] : undefined;
      if (!isObject(ref)) {
        out.push(invalidValue(`${urn}:${key}.${field}`));
        continue;
      }
      const base = `${urn}:${key}[${referenceFilter(field, ref)}]`;
      const messages = checkReference(ref, env, base);
      out.push(...messages);
      if (field === 'approver' && isObject(entry) && entry.primary === false && !NON_PRIMARY_KEYS.includes(key)) {
        out.push(invalidValue(`${base}.primary`));
      }
      if (field === 'delegate' && messages.length === 0) {
        const user = resolve(ref, env);
        if (user && user.resource.active === false) {
          out.push({ code: 'INVALID_USER', message: 'Employee is not active', schemaPath: base, type: 'error' });
        }
      }
    }
  }
  return out;
}

function referenceFilter(field: string, ref: Json): string {
  if (typeof ref.employeeNumber === 'string') return `${field}.employeeNumber eq "${ref.employeeNumber}"`;
  return `${field}.value eq "${String(ref.value)}"`;
}

function resolve(ref: Json, env: ValidationEnv): StoredUser | undefined {
  if (typeof ref.value === 'string' && ref.value !== '') return env.userById(ref.value);
  if (typeof ref.employeeNumber === 'string' && ref.employeeNumber !== '')
    return env.userByEmployeeNumber(ref.employeeNumber);
  return undefined;
}

/** A `{value | employeeNumber}` reference; when both are given they must name the same employee. */
function checkReference(ref: unknown, env: ValidationEnv, schemaPath: string): ConcurMessage[] {
  if (!isObject(ref)) return [invalidValue(schemaPath)];
  const hasValue = typeof ref.value === 'string' && ref.value !== '';
  const hasNumber = typeof ref.employeeNumber === 'string' && ref.employeeNumber !== '';
  if (!hasValue && !hasNumber) return [invalidValue(schemaPath)];
  const byValue = hasValue ? env.userById(ref.value as string) : undefined;
  const byNumber = hasNumber ? env.userByEmployeeNumber(ref.employeeNumber as string) : undefined;
  if ((hasValue && !byValue) || (hasNumber && !byNumber)) return [missingEmployee(schemaPath)];
  if (byValue && byNumber && byValue.resource.id !== byNumber.resource.id) return [invalidValue(schemaPath)];
  return [];
}

/**
 * A group or approval node must be a node of the hierarchy. Concur's own load error text, which
 * names the segments of the node (checked even for inactive people).
 */
function checkNode(node: string, env: ValidationEnv, schemaPath: string): ConcurMessage[] {
  const nodes = env.hierarchyNodes ?? [];
  if (nodes.length === 0 || node === '' || nodes.includes(node)) return [];
  const segments = node
    .split('-')
    .map((s, i) => `Segment${i + 1}=${s}`)
    .join(', ');
  return [
    {
      code: 'INVALID_VALUE',
      message: `An employee fails to resolve to a valid EmployeeHierarchyService configuration hierarchy node {${segments}}`,
      schemaPath,
      type: 'error',
    },
  ];
}

function validateApproverLimits(v: Json, env: ValidationEnv): ConcurMessage[] {
  const out: ConcurMessage[] = [];
  for (const key of ['authorizedApprover', 'costObjectApprover']) {
    const list = v[key];
    if (list === undefined) continue;
    const path = `${SPEND_APPROVER_LIMIT_URN}:${key}`;
    if (!Array.isArray(list)) {
      out.push(invalidValue(path));
      continue;
    }
    for (const item of list) {
      if (!isObject(item)) {
        out.push(invalidValue(path));
        continue;
      }
      if (item.approvalLimit !== undefined && typeof item.approvalLimit !== 'number')
        out.push(invalidValue(`${path}.approvalLimit`));
      if (typeof item.approvalGroup === 'string')
        out.push(...checkNode(item.approvalGroup, env, `${path}.approvalGroup`));
      checkCode(out, item.reimbursementCurrency, `${path}.reimbursementCurrency`, 3, /^[A-Z]{3}$/);
    }
  }
  return out;
}

const USER_PREFERENCE_ENUMS: Record<string, string[]> = {
  expenseAuditRequired: ['NEVER', 'REQUIRED', 'ALWAYS'],
  defaultReportPrintFormat: ['RECEIPTS', 'DETAILED', 'FAX'],
  showExpenseOnReport: ['ALL', 'PARENT', 'NOTHING'],
};

/** Preference extensions: enumerated strings where listed, booleans everywhere else. */
function validateFlags(urn: string, v: Json, enums: Record<string, string[]>): ConcurMessage[] {
  const out: ConcurMessage[] = [];
  for (const [key, value] of Object.entries(v)) {
    if (key === 'schemas' || value === null) continue;
    const allowed = enums[key];
    if (allowed ? !allowed.includes(String(value)) : typeof value !== 'boolean')
      out.push(invalidValue(`${urn}:${key}`));
  }
  return out;
}

function validatePayroll(v: Json): ConcurMessage[] {
  const adp = v.adp;
  if (adp === undefined) return [];
  if (!isObject(adp)) return [invalidValue(`${PAYROLL_URN}:adp`)];
  return ['companyCode', 'deductionCode', 'employeeFileNumber']
    .filter((k) => isBlank(adp[k]))
    .map((k) => invalidValue(`${PAYROLL_URN}:adp.${k}`));
}

function validateTravel(v: Json, env: ValidationEnv): ConcurMessage[] {
  const out: ConcurMessage[] = [];
  const p = (attr: string): string => `${TRAVEL_USER_URN}:${attr}`;
  const rc = v.ruleClass;
  const ruleClassOk =
    isObject(rc) &&
    (typeof rc.id === 'number' ||
      (typeof rc.id === 'string' && rc.id !== '') ||
      (typeof rc.name === 'string' && rc.name !== ''));
  // UPS needs exactly one rule class per travel user: a new travel user without one fails.
  if (!ruleClassOk)
    out.push({
      code: 'INVALID_VALUE',
      message: 'Rule class is required for a new travel user',
      schemaPath: p('ruleClass'),
      type: 'error',
    });
  else if (
    typeof rc.name === 'string' &&
    (env.ruleClasses ?? []).length > 0 &&
    !(env.ruleClasses ?? []).includes(rc.name)
  )
    out.push({
      code: 'INVALID_VALUE',
      message: `Rule class '${rc.name}' is invalid`,
      schemaPath: p('ruleClass'),
      type: 'error',
    });
  if (v.groups !== undefined && !(Array.isArray(v.groups) && v.groups.every((g) => Number.isInteger(g))))
    out.push(invalidValue(p('groups')));
  if (v.manager !== undefined && v.manager !== null) out.push(...checkReference(v.manager, env, p('manager')));
  if (v.customFields !== undefined) {
    const ok = Array.isArray(v.customFields) && v.customFields.every((f) => isObject(f) && typeof f.name === 'string');
    if (!ok) out.push(invalidValue(p('customFields')));
  }
  return out;
}
