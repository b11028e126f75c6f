import currencyCodes from 'currency-codes';
import { COUNTRY_CODES, CURRENCY_CODES } from '../../../shared/mapping/codes.ts';
import {
  employeeImportOptionsSchema,
  type EmployeeImportOptions,
} from '../../../shared/mapping/employee-import-options.ts';

export { employeeImportOptionsSchema, type EmployeeImportOptions };

/*
 * Every code translation from the legacy file to the v4 APIs, in one place (docs/employee-import.md
 * "Code translations" prints this table). Where SAP's own sources disagree, the choice is a
 * mapping option (EMPLOYEE_IMPORT_OPTIONS) with the documented default.
 */

export type Translation = { value: string } | { reason: string };

/** The translations the docs list: legacy value → v4 value. */
export const TRANSLATIONS = {
  yesNo: { Y: true, N: false },
  audit: { REQ: 'REQUIRED', ALW: 'ALWAYS', NVR: 'NEVER' },
  reimbursement: { ADPPAYR: 'ADP_PAYROLL', CNQRPAY: 'CONCUR_PAY', APCHECK: 'ACCOUNTS_PAYABLE', PMTSERV: 'OTHER' },
  gender: { M: 'Male', F: 'Female' },
  delegateProduct: { EXP: 'expense', PMT: 'payment', PUR: 'purchaseRequest' },
  approvalType: { EXP: 'report', PMT: 'payment', REQ: 'request', PUR: 'purchaseRequest' },
  country: { UK: 'GB' },
} as const;

/**
 * Legacy 400 role codes → Concur's spend role codes (matched by the role names SAP prints in the
 * import spec and in the role catalogue). Codes already in the catalogue pass through unchanged.
 */
export const ROLE_CODES: Readonly<Record<string, string>> = {
  ACCT_AUDIT_MGR: 'EXP_PROCESSOR_AUDIT',
  ACCT_CLERK: 'EXP_PROCESSOR',
  ACCT_MANAGER: 'EXP_PROCESSOR_ADMIN',
  CARD_ADMIN: 'EXP_CARD_ADMIN',
  CASHADV_ADMIN: 'EXP_CASHADVANCE_ADMIN',
  EMPLOYEE_ADMIN: 'SHD_EMPLOYEE_ADMIN',
  EMP_ADM_BI_PER: 'REPORTING_EMPLOYEE_ADMIN',
  EMP_ADM_EXP_PER: 'EXP_EMPLOYEE_ADMIN',
  EMP_ADM_PMT_PER: 'INV_EMPLOYEE_ADMIN',
  EXP_ADMIN: 'EXP_CONFIG_ADMIN',
  EXP_ADMIN_RO: 'EXP_CONFIG_ADMIN_RO',
  EXP_PROXY_LOGON: 'EXP_PROXY_USER',
  GROUP_ANALYST: 'REPORTING_CAS_ANALYST',
  INVOICE_RCVR: 'INV_RECEIPT_PROCESSOR',
  PAYMENT_AUDITOR: 'INV_PROCESSOR_AUDIT',
  PMT_ACCT_CLERK: 'INV_PROCESSOR',
  PMT_ACCT_MGR: 'INV_PROCESSOR_MANAGER',
  PMT_ADMIN: 'INV_CONFIG_ADMIN',
  PMT_ADMIN_RO: 'INV_CONFIG_ADMIN_RO',
  PMT_AP_USER: 'INV_AP_USER',
  PMT_PROXY_LOGON: 'INV_PROXY_USER',
  PMT_VENDOR_APPROVER: 'INV_VENDOR_ADMIN',
  REQ_ADMIN: 'REQ_CONFIG_ADMIN',
  REQ_ADMIN_RO: 'REQ_CONFIG_ADMIN_RO',
  REQ_PROCESSOR1: 'REQ_PROCESSOR',
  REQ_PROCESSOR2: 'REQ_PROCESSOR_ADMIN',
  REQ_PROCESSOR3: 'REQ_PROCESSOR_AUDIT',
  REQ_PROXY_LOGON: 'REQ_PROXY_USER',
  RISK_PROCESSOR: 'REQ_RISK_ADMIN',
  RPTNET_BUS_AUTH: 'REPORTING_BUSINESS_AUTHOR',
  RPTNET_CONSUMER: 'REPORTING_CONSUMER',
  STMT_ACCT_CLERK: 'STATEMENT_PROCESSOR',
  STMT_ACCT_MGR: 'STATEMENT_PROCESSOR_ADMIN',
  STMT_ACCT_AUDT: 'STATEMENT_PROCESSOR_AUDITOR',
  PUR_PROXY_LOGON: 'INV_PURCH_REQ_PROXY_USER',
  SHARED_ADMIN: 'SHD_CONFIG_ADMIN',
  SHARED_ADMIN_RO: 'SHD_CONFIG_ADMIN_RO',
};

export const DEFAULT_EMPLOYEE_IMPORT_OPTIONS: EmployeeImportOptions = employeeImportOptionsSchema.parse({});

/** `en_US` → `en-US`; the language lower-cased, the region upper-cased. */
export function translateLocale(raw: string): Translation {
  const m = /^([A-Za-z]{2})[_-]([A-Za-z]{2})$/.exec(raw);
  if (!m) return { reason: `'${raw}' is not a locale code like en_US` };
  return { value: `${m[1]!.toLowerCase()}-${m[2]!.toUpperCase()}` };
}

/** ISO 3166 alpha-2, upper-cased; `UK` (SAP's own 305 example) means `GB`. */
export function translateCountry(raw: string): Translation {
  const up = raw.toUpperCase();
  const code = (TRANSLATIONS.country as Record<string, string>)[up] ?? up;
  return COUNTRY_CODES.has(code) ? { value: code } : { reason: `'${raw}' is not an ISO 3166 alpha-2 country code` };
}

/** `US-WA` (the form SAP's other imports use) → `WA`; at most 2 letters or digits remain. */
export function translateSubCode(raw: string): Translation {
  const code = raw.toUpperCase().replace(/^[A-Z]{2}-/, '');
  return /^[A-Z0-9]{1,2}$/.test(code)
    ? { value: code }
    : { reason: `'${raw}' is not a country sub code like US-WA or WA` };
}

/** ISO 4217: alpha as is (upper-cased), numeric (`840`) → alpha (`USD`). */
export function translateCurrency(raw: string): Translation {
  if (/^\d{1,3}$/.test(raw)) {
    const alpha = currencyCodes.number(raw.padStart(3, '0'))?.code;
    return alpha && CURRENCY_CODES.has(alpha)
      ? { value: alpha }
      : { reason: `'${raw}' is not an ISO 4217 numeric currency code in use` };
  }
  const up = raw.toUpperCase();
  return CURRENCY_CODES.has(up) ? { value: up } : { reason: `'${raw}' is not an ISO 4217 currency code in use` };
}

/** A value from one of the TRANSLATIONS tables, matched case-insensitively. */
export function translateFrom(table: Readonly<Record<string, string>>, raw: string, what: string): Translation {
  const v = table[raw.toUpperCase()];
  return v === undefined ? { reason: `'${raw}' is not ${what} (${Object.keys(table).join(', ')})` } : { value: v };
}

/** A legacy 400 role code → a spend role code (already-v4 codes pass through). */
export function translateRole(raw: string): string {
  const up = raw.toUpperCase();
  return ROLE_CODES[up] ?? up;
}
