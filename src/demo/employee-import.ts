import { LAYOUTS } from '../producers/sources/employee-import/layouts.ts';
import { FAMILY, GIVEN, prng } from './generate.ts';

/*
 * A realistic legacy employee import (SAP's StandardEmployeeImport flat file), deterministic for
 * a seed: the 100 record, a 305 per person (UK for GB, numeric currencies, en_US locales, US-WA
 * sub codes), 350 travel addenda far below their 305, travel-only 310 + 350 people, 315 global
 * IDs, 320 ID changes, 360 / 370 settings, 400 legacy role codes with groups, 500 / 550 delegates
 * and 700 / 710 / 720 approver rights naming people further down, 750 removals, updates with blank
 * cells (unchanged) and $BLANK$ (cleared), Active=N deactivations, unsupported records (cards, bank
 * accounts, cars, analytics) and a few lines in error. `existing` are the people Concur holds
 * before the file arrives (to be seeded with everything the file then updates or clears).
 */

export interface EmployeeImportPerson {
  employeeNumber: string;
  userName: string;
  email: string;
  givenName: string;
  middleName?: string;
  familyName: string;
  country: string;
  currency: string;
  locale: string;
  stateProvince?: string;
  ledgerCode: string;
  cashAdvanceAccountCode?: string;
  orgUnit1?: string;
  custom1?: string;
  active: boolean;
  /** Travel profile (350): set for travel users. */
  travel?: {
    ruleClass: string;
    gender: 'Male' | 'Female';
    title: string;
    workPhone: string;
    mobile: string;
    fax?: string;
  };
  travelOnly?: boolean;
  /** What else the file gives them (for tests that check Concur person by person). */
  reportApprover?: string;
  secondReportApprover?: string;
  globalId?: string;
  roles?: { roleName: string; roleGroups: string[] }[];
  approverLimits?: Record<string, unknown>[];
  costObjectApprover?: Record<string, unknown>[];
  delegate?: { employeeNumber: string; canPrepare: boolean; canSubmit: boolean; canReceiveEmail: boolean };
  /** ADP payroll (reimbursement type ADPPAYR). */
  adp?: { employeeFileNumber: string; companyCode: string; deductionCode: string };
  /** Request User (Y in every 305). */
  entitlements: string[];
}

export interface EmployeeImportDemo {
  /** The file's text (CRLF, comma-separated, no header). */
  text: string;
  /** Every person the file names, as the file leaves them. */
  people: EmployeeImportPerson[];
  /** People who exist in Concur before the file (with their state then). */
  existing: EmployeeImportPerson[];
  /** Expected by the generator: counts a run ends with. */
  expected: { people: number; invalidLines: number; unsupportedLines: number; deactivated: string[] };
  /** 320 changes: old employee number → new one (and new login). */
  idChanges: { from: string; to: string; userName: string }[];
}

export interface EmployeeImportDemoOptions {
  people: number;
  seed?: number;
  /** Field delimiter. Default `,`. */
  delimiter?: ',' | '|';
  /** Added to every person's number (several files of distinct people). Default 0. */
  offset?: number;
  /** Leave out the 100 record (a block appended to a file that has one). */
  noHeader?: boolean;
}

const SITES = [
  { country: 'US', file: 'US', currency: 'USD', fileCurrency: '840', locale: 'en_US', sub: 'US-WA', ledger: 'US01' },
  { country: 'GB', file: 'UK', currency: 'GBP', fileCurrency: 'GBP', locale: 'en_GB', sub: '', ledger: 'UK01' },
  { country: 'DE', file: 'DE', currency: 'EUR', fileCurrency: '978', locale: 'de_DE', sub: '', ledger: 'DE01' },
];
export const DEMO_RULE_CLASSES = ['Standard', 'Executive'];
export const DEMO_ORG_UNITS = ['SALES', 'ENG', 'FIN'];

/** One record's line: `values` by 1-based position, every other position blank (as real files pad). */
export function recordLine(type: string, values: Record<number, string>, delimiter = ','): string {
  const layout = LAYOUTS.get(type);
  const count = layout?.fields.length ?? Math.max(2, ...Object.keys(values).map(Number));
  const cells = Array.from({ length: count }, (_, i) => (i === 0 ? type : (values[i + 1] ?? '')));
  return cells
    .map((c) => (c.includes(delimiter) || c.includes('"') ? `"${c.replace(/"/g, '""')}"` : c))
    .join(delimiter);
}

export function generateEmployeeImport(options: EmployeeImportDemoOptions): EmployeeImportDemo {
  const rand = prng(options.seed ?? 1);
  const d = options.delimiter ?? ',';
  const n = Math.max(12, options.people);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const offset = options.offset ?? 0;
  const emp = (i: number) => `EI${String(offset + i).padStart(6, '0')}`;
  // The first person Concur already has changes Employee ID and login (a 320); others name them by the new ID.
  const moved = 6;
  const ref = (i: number) => (i === moved ? `${emp(i)}N` : emp(i));
  const people: EmployeeImportPerson[] = [];
  const existing: EmployeeImportPerson[] = [];
  const head: string[] = options.noHeader
    ? []
    : [recordLine('100', { 2: '0', 3: 'SSO', 4: 'UPDATE', 5: 'EN', 6: 'N', 7: 'N' }, d)];
  const later: string[] = [];
  const last: string[] = [];
  let invalidLines = 0;
  let unsupportedLines = 0;
  const deactivated: string[] = [];
  const idChanges: EmployeeImportDemo['idChanges'] = [];

  for (let i = 1; i <= n; i++) {
    const site = SITES[i % SITES.length]!;
    const given = pick(GIVEN);
    const family = pick(FAMILY);
    const id = emp(i);
    const userName = `${given}.${family}.${offset + i}@example.com`.toLowerCase();
    const isExisting = i % 6 === 0;
    const travelOnly = i % 11 === 5 && !isExisting;
    const p: EmployeeImportPerson = {
      employeeNumber: id,
      userName,
      email: userName,
      givenName: given,
      familyName: family,
      country: site.country,
      currency: site.currency,
      locale: site.locale.replace('_', '-'),
      ledgerCode: site.ledger,
      active: true,
      ...(travelOnly ? { travelOnly } : {}),
      entitlements: travelOnly ? ['Travel'] : ['Expense', 'Request'],
    };
    if (site.sub) p.stateProvince = site.sub.slice(3);
    const approver = i > 1 ? ref(i - 1) : '';
    // An approver further down the file: the row must wait for that person.
    const laterApprover = i + 2 <= n ? ref(i + 2) : '';
    if (isExisting) {
      // Concur already has this person with a middle name, a cash advance code and custom 1; the
      // file clears the middle name and the cash advance code, keeps custom 1 (blank), and
      // deactivates one in two of them.
      const before: EmployeeImportPerson = {
        ...p,
        middleName: 'Q',
        cashAdvanceAccountCode: `CA${i}`,
        custom1: `K${i}`,
        orgUnit1: 'FIN',
      };
      existing.push(before);
      p.custom1 = before.custom1;
      p.orgUnit1 = 'FIN';
      p.active = i % 12 !== 0;
      if (!p.active) deactivated.push(id);
    } else if (!travelOnly) {
      p.middleName = i % 2 === 0 ? 'J' : undefined;
      p.cashAdvanceAccountCode = `CA${i}`;
      p.orgUnit1 = pick(DEMO_ORG_UNITS);
      p.custom1 = `C${i % 50}`;
    }
    if (!p.middleName) delete p.middleName;

    if (travelOnly) {
      head.push(
        recordLine(
          '310',
          { 2: id, 3: userName, 4: given, 6: family, 7: userName, 9: site.locale, 14: 'Y', 15: 'Y' },
          d,
        ),
      );
    } else {
      const v: Record<number, string> = {
        2: given,
        3: isExisting ? '$BLANK$' : (p.middleName ?? ''),
        4: family,
        5: id,
        6: userName,
        8: userName,
        9: site.locale,
        10: site.file,
        11: site.sub,
        12: site.ledger,
        13: site.fileCurrency,
        14: isExisting ? '$BLANK$' : (p.cashAdvanceAccountCode ?? ''),
        15: p.active ? 'Y' : 'N',
        16: isExisting ? '' : (p.orgUnit1 ?? ''),
        22: isExisting ? '' : (p.custom1 ?? ''),
        45: 'Y',
        47: 'N',
        59: approver,
        63: 'Y',
        64: i % 4 === 0 ? 'Y' : 'N',
        76: 'REQ',
        78: 'Y',
        80: laterApprover,
        90: i % 5 === 0 ? 'ADPPAYR' : 'CNQRPAY',
        ...(i % 5 === 0 ? { 91: `F${i}`, 92: 'ACME', 93: 'D1' } : { 91: '', 92: '', 93: '' }),
      };
      if (i % 9 === 0) v[7] = 'Welcome1';
      head.push(recordLine('305', v, d));
      if (approver) p.reportApprover = approver;
      if (i % 5 === 0) p.adp = { employeeFileNumber: `F${i}`, companyCode: 'ACME', deductionCode: 'D1' };
      if (laterApprover) p.secondReportApprover = laterApprover;
      if (i % 4 === 0) p.roles = [{ roleName: 'EXP_APPROVER', roleGroups: [] }];
    }
    if (i % 2 === 0 || travelOnly) {
      const t = {
        ruleClass: pick(DEMO_RULE_CLASSES),
        gender: i % 2 === 0 ? ('Female' as const) : ('Male' as const),
        title: `Analyst ${i % 7}`,
        workPhone: `+1 206 555 ${String(1000 + i).slice(-4)}`,
        mobile: `+1 425 555 ${String(2000 + i).slice(-4)}`,
      };
      p.travel = t;
      later.push(
        recordLine(
          '350',
          {
            2: id,
            3: 'Dr',
            5: given.slice(0, 3),
            7: t.gender[0]!,
            8: '19800131',
            9: travelOnly ? '' : approver,
            10: t.title,
            11: t.workPhone,
            15: t.mobile,
            13: isExisting ? '$BLANK$' : '',
            18: t.ruleClass,
            21: `${i} Main St`,
            22: 'Seattle',
            23: 'WA',
            24: '98101',
            25: 'US',
            33: `GLCODE=${1000 + i}`,
          },
          d,
        ),
      );
    }
    // Invoice and statement settings need a spend user: never for a travel-only (310) person.
    if (i % 10 === 3 && !travelOnly) {
      later.push(recordLine('360', { 2: id, 3: 'Y', 4: 'Y', 16: 'Y', 19: approver }, d));
      p.entitlements = [...p.entitlements, 'Invoice'];
      p.roles = [...(p.roles ?? []), { roleName: 'INV_APPROVER', roleGroups: [] }];
    }
    if (i % 10 === 4 && !travelOnly) {
      later.push(recordLine('370', { 2: id, 3: 'Y', 5: approver }, d));
      p.roles = [...(p.roles ?? []), { roleName: 'STATEMENT_USER', roleGroups: [] }];
    }
    if (i % 7 === 0) {
      p.globalId = `gid-${i}-0000-aaaa`;
      later.push(recordLine('315', { 2: id, 3: p.globalId }, d));
    }
    if (i % 8 === 1 && !travelOnly) {
      last.push(recordLine('400', { 2: id, 3: 'ACCT_CLERK', 4: 'US', 5: 'WEST' }, d));
      p.roles = [...(p.roles ?? []), { roleName: 'EXP_PROCESSOR', roleGroups: ['US-WEST'] }];
    }
    // A delegate must be active: never someone the file deactivates.
    const delegateActive = (i + 2) % 6 !== 0 || (i + 2) % 12 !== 0;
    if (i % 8 === 2 && !travelOnly && laterApprover && delegateActive) {
      last.push(recordLine('550', { 2: id, 3: laterApprover, 4: 'EXP', 5: 'Y', 6: 'Y', 12: 'Y' }, d));
      p.delegate = { employeeNumber: laterApprover, canPrepare: true, canSubmit: true, canReceiveEmail: true };
    }
    if (i % 8 === 3 && !travelOnly) {
      last.push(recordLine('700', { 2: 'EXP', 3: id, 4: 'US', 14: 'N', 15: '5000.00', 16: '840' }, d));
      p.approverLimits = [
        {
          approvalType: 'report',
          approvalGroup: 'US',
          exceptionApprovalAuthority: false,
          approvalLimit: 5000,
          reimbursementCurrency: 'USD',
        },
      ];
    }
    if (i % 8 === 4 && !travelOnly) {
      last.push(recordLine('710', { 2: 'REQ', 3: id, 4: 'US', 5: 'WEST', 17: '1' }, d));
      last.push(recordLine('720', { 2: 'PMT', 3: id, 17: '2' }, d));
      p.costObjectApprover = [{ approvalType: 'request', approvalGroup: 'US-WEST', level: 1 }];
      p.approverLimits = [{ approvalType: 'payment', approvalGroup: '', level: 2 }];
    }
    if (i % 8 === 5 && !travelOnly) {
      // Granted, then taken away by a 750 further down: Concur ends without it.
      last.push(recordLine('700', { 2: 'PMT', 3: id, 4: 'US' }, d));
      last.push(recordLine('750', { 2: 'PMT', 3: id, 4: 'US' }, d));
      p.approverLimits = [];
    }
    if (i % 13 === 0) {
      last.push(recordLine('650', { 2: id, 3: `${given} ${family}` }, d));
      unsupportedLines += 1;
    }
    if (i % 17 === 0) {
      last.push(recordLine('810', { 2: id }, d));
      unsupportedLines += 1;
    }
    if (i % 19 === 0) {
      last.push(recordLine('910', { 2: id }, d));
      unsupportedLines += 1;
    }
    if (i % 23 === 0) {
      // A mistake in a line: the person's other records still go.
      later.push(recordLine('350', { 2: id, 8: '19801345' }, d));
      invalidLines += 1;
    }
    people.push(p);
  }
  // The ID change: a new employee number and login, on the file's second line (before the 305s).
  const before = existing.find((p) => p.employeeNumber === emp(moved));
  if (before) {
    const to = ref(moved);
    const userName = before.userName.replace('@', '.new@');
    head.splice(options.noHeader ? 0 : 1, 0, recordLine('320', { 2: before.employeeNumber, 3: to, 4: userName }, d));
    idChanges.push({ from: before.employeeNumber, to, userName });
    const now = people.find((p) => p.employeeNumber === before.employeeNumber)!;
    now.employeeNumber = to;
    now.userName = userName;
  }
  last.push(recordLine('1000', { 2: emp(1) }, d));
  unsupportedLines += 1;
  const text = `${[...head, ...later, ...last].join('\r\n')}\r\n`;
  return {
    text,
    people,
    existing,
    expected: { people: people.length, invalidLines, unsupportedLines, deactivated },
    idChanges,
  };
}

/** Spend roles the demo file grants (the simulator's catalogue must hold them). */
export const DEMO_ROLES = ['EXP_APPROVER', 'EXP_PROCESSOR', 'INV_APPROVER', 'STATEMENT_USER'];
/** Hierarchy nodes the demo file's 400 / 700-family segments name. */
export const DEMO_HIERARCHY = ['US', 'US-WEST'];

/**
 * The simulated tenant's configuration the demo file expects: its travel rule classes, its
 * hierarchy nodes, its org unit list and the roles it grants (added to the simulator's catalogue).
 */
export async function configureSimulatorForEmployeeImport(simUrl: string): Promise<void> {
  const current = (await (await fetch(`${simUrl}/_sim/config`)).json()) as {
    spendRoleCodes: string[];
    spendListItems: Record<string, string[]>;
    spendLedgerCodes?: string[];
  };
  const res = await fetch(`${simUrl}/_sim/config`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      travelRuleClasses: DEMO_RULE_CLASSES,
      hierarchyNodes: DEMO_HIERARCHY,
      spendRoleCodes: [...new Set([...current.spendRoleCodes, ...DEMO_ROLES])],
      spendListItems: { ...current.spendListItems, orgUnit1: DEMO_ORG_UNITS },
      spendLedgerCodes: [...new Set([...(current.spendLedgerCodes ?? []), ...SITES.map((s) => s.ledger)])],
    }),
  });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`the simulator refused the demo configuration (${res.status})`);
}

/** `employee_<entity>_<YYYYMMDDHHMMSS>.txt`, the name customers' files have. */
export function employeeImportFileName(entity: string, at: Date): string {
  const stamp = at.toISOString().replace(/\D/g, '').slice(0, 14);
  return `employee_${entity}_${stamp}.txt`;
}
