import { csvLine } from '../shared/ledger/report.ts';

/*
 * A deterministic, realistic drop: an org tree (a CEO, managers every level, reports pointing at
 * managers that often come later in the file, as HR exports are not sorted by hierarchy), spend
 * approvers, travel managers, and a sprinkling of bad rows of the kinds HR files really have.
 * Same options, same bytes: demos, tests and benchmarks can rely on it.
 */

export const DEMO_COLUMNS = [
  'userName',
  'givenName',
  'familyName',
  'email',
  'employeeNumber',
  'active',
  'title',
  'timezone',
  'preferredLanguage',
  'costCenter',
  'department',
  'startDate',
  'managerEmployeeNumber',
  'spend.country',
  'spend.reimbursementCurrency',
  'spend.locale',
  'spend.roles',
  'spend.reportApproverEmployeeNumber',
  'travel.ruleClass',
  'travel.managerEmployeeNumber',
] as const;

export type DemoColumn = (typeof DEMO_COLUMNS)[number];
export type DemoRecord = Record<DemoColumn, string>;

export interface DemoDropOptions {
  /** People in the file (bad rows included). */
  people: number;
  /** Default 1. */
  seed?: number;
  /** One bad row in this many. Default 40 (2.5 %). */
  badEvery?: number;
  /** One person in this many already exists in Concur (see `existingUsers`). Default 12. */
  existingEvery?: number;
}

export type BadKind = 'email' | 'missingFamilyName' | 'duplicateEmployeeNumber' | 'date' | 'currency';

export interface DemoDrop {
  records: DemoRecord[];
  /** Row numbers (1-based, file order) of the bad rows, with their kind. */
  bad: { row: number; kind: BadKind }[];
  /** Employee numbers of people who manage someone. */
  managers: string[];
  /** People to create in Concur before the drop: some get changed, some deactivated by it. */
  existing: DemoRecord[];
  /** Existing people the drop deactivates (active=false). */
  deactivated: string[];
}

export const GIVEN = [
  'Ada',
  'Alan',
  'Grace',
  'Edsger',
  'Barbara',
  'Donald',
  'Frances',
  'John',
  'Margaret',
  'Ken',
  'Radia',
  'Tim',
  'Hedy',
  'Claude',
  'Sophie',
  'Linus',
  'Katherine',
  'Dennis',
  'Shafi',
  'Niklaus',
];
export const FAMILY = [
  'Lovelace',
  'Turing',
  'Hopper',
  'Dijkstra',
  'Liskov',
  'Knuth',
  'Allen',
  'Backus',
  'Hamilton',
  'Thompson',
  'Perlman',
  'Lee',
  'Lamarr',
  'Shannon',
  'Wilson',
  'Torvalds',
  'Johnson',
  'Ritchie',
  'Goldwasser',
  'Wirth',
];
const SITES = [
  { country: 'US', currency: 'USD', locale: 'en-US', tz: 'America/New_York', lang: 'en-US' },
  { country: 'US', currency: 'USD', locale: 'en-US', tz: 'America/Los_Angeles', lang: 'en-US' },
  { country: 'GB', currency: 'GBP', locale: 'en-GB', tz: 'Europe/London', lang: 'en-GB' },
  { country: 'DE', currency: 'EUR', locale: 'de-DE', tz: 'Europe/Berlin', lang: 'de-DE' },
  { country: 'FR', currency: 'EUR', locale: 'fr-FR', tz: 'Europe/Paris', lang: 'fr-FR' },
  { country: 'JP', currency: 'JPY', locale: 'ja-JP', tz: 'Asia/Tokyo', lang: 'ja-JP' },
];
const DEPARTMENTS = ['Engineering', 'Sales', 'Finance', 'Operations', 'Marketing', 'Support'];
const TITLES = ['Analyst', 'Engineer', 'Consultant', 'Specialist', 'Associate', 'Coordinator'];
const SPAN = 7;

/** mulberry32: small, fast, and the same on every platform. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const empNo = (i: number): string => `E${String(100000 + i)}`;

export function generateDrop(options: DemoDropOptions): DemoDrop {
  const n = Math.max(1, Math.floor(options.people));
  const random = prng(options.seed ?? 1);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const badEvery = options.badEvery ?? 40;
  const existingEvery = options.existingEvery ?? 12;

  // Person i (1-based) reports to person ceil((i - 1) / SPAN): a tree SPAN wide.
  const managerOf = (i: number): number | undefined => (i === 1 ? undefined : Math.ceil((i - 1) / SPAN));
  const isManager = (i: number): boolean => (i - 1) * SPAN + 2 <= n;
  const people: DemoRecord[] = [];
  for (let i = 1; i <= n; i += 1) {
    const given = pick(GIVEN);
    const family = pick(FAMILY);
    const site = pick(SITES);
    const user = `${given}.${family}.${i}@demo.example.com`.toLowerCase();
    const mgr = managerOf(i);
    const manager = mgr === undefined ? '' : empNo(mgr);
    const travel = random() < 0.5;
    people.push({
      userName: user,
      givenName: given,
      familyName: family,
      email: user,
      employeeNumber: empNo(i),
      active: 'true',
      title: i === 1 ? 'Chief Executive Officer' : isManager(i) ? `${pick(DEPARTMENTS)} Manager` : pick(TITLES),
      timezone: site.tz,
      preferredLanguage: site.lang,
      costCenter: `CC${100 + (i % 40)}`,
      department: pick(DEPARTMENTS),
      startDate: `20${String(10 + Math.floor(random() * 15))}-${String(1 + Math.floor(random() * 12)).padStart(2, '0')}-${String(1 + Math.floor(random() * 28)).padStart(2, '0')}`,
      managerEmployeeNumber: manager,
      'spend.country': site.country,
      'spend.reimbursementCurrency': site.currency,
      'spend.locale': site.locale,
      'spend.roles': isManager(i) ? 'EXP_USER;EXP_APPROVER' : 'EXP_USER',
      'spend.reportApproverEmployeeNumber': manager,
      'travel.ruleClass': travel ? 'Standard' : '',
      'travel.managerEmployeeNumber': travel ? manager : '',
    });
  }

  // File order: shuffled, so many reports come before their managers.
  const order = people.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const records = order.map((i) => ({ ...people[i]! }));

  const managers = people.filter((_, i) => isManager(i + 1)).map((p) => p.employeeNumber);
  const managerSet = new Set(managers);
  const bad: DemoDrop['bad'] = [];
  const kinds: BadKind[] = ['email', 'missingFamilyName', 'duplicateEmployeeNumber', 'date', 'currency'];
  // Bad rows only among people who manage nobody, so the rest of the tree stays valid.
  records.forEach((r, idx) => {
    if (idx === 0 || (idx + 1) % badEvery !== 0 || managerSet.has(r.employeeNumber)) return;
    const kind = kinds[bad.length % kinds.length]!;
    if (kind === 'email') r.email = 'not-an-email';
    else if (kind === 'missingFamilyName') r.familyName = '';
    else if (kind === 'date') r.startDate = '2023-02-30';
    else if (kind === 'currency') r['spend.reimbursementCurrency'] = 'XYZ';
    else {
      // A second person under an earlier row's employee number: the later row is the invalid one.
      r.employeeNumber = records[idx - 1]!.employeeNumber;
    }
    bad.push({ row: idx + 1, kind });
  });

  const badRows = new Set(bad.map((b) => b.row));
  const existing: DemoRecord[] = [];
  const deactivated: string[] = [];
  records.forEach((r, idx) => {
    if (badRows.has(idx + 1) || managerSet.has(r.employeeNumber) || (idx + 1) % existingEvery !== 0) return;
    // Concur holds them with an older title: the drop updates them.
    existing.push({ ...r, title: `Former ${r.title}` });
    if (existing.length % 5 === 0) {
      r.active = 'false';
      deactivated.push(r.employeeNumber);
    }
  });
  return { records, bad, managers, existing, deactivated };
}

/** The drop as CSV text (header first, CRLF, formula-safe cells). */
export function toCsv(records: readonly DemoRecord[]): string {
  return [csvLine(DEMO_COLUMNS), ...records.map((r) => csvLine(DEMO_COLUMNS.map((c) => r[c])))].join('');
}

/** An Identity v4.1 create body for a person who already exists before the drop. */
export function existingUserBody(r: DemoRecord, companyId: string): Record<string, unknown> {
  return {
    schemas: [
      'urn:ietf:params:scim:schemas:core:2.0:User',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
    ],
    userName: r.userName,
    active: true,
    title: r.title,
    name: { givenName: r.givenName, familyName: r.familyName },
    emails: [{ value: r.email, type: 'work' }],
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { employeeNumber: r.employeeNumber, companyId },
  };
}
