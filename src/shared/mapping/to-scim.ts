import type { PatchOperation } from '../concur/patch.ts';
import { CORE_USER_URN, ENTERPRISE_URN } from '../concur/schemas.ts';
import { SPEND_USER_FIELDS } from './template.ts';
import type { NormalizedRow } from './types.ts';

/*
 * NormalizedRow → what Concur receives: the Identity v4.1 create body, the PATCH operations that
 * bring an existing user in line, and the UPS extension payload. Absent row fields are never
 * sent and never diffed (an empty cell leaves Concur's value alone).
 */

export const SPEND_USER_URN = 'urn:ietf:params:scim:schemas:extension:spend:2.0:User';
export const SPEND_ROLE_URN = 'urn:ietf:params:scim:schemas:extension:spend:2.0:Role';
export const SPEND_APPROVER_URN = 'urn:ietf:params:scim:schemas:extension:spend:2.0:Approver';
export const TRAVEL_USER_URN = 'urn:ietf:params:scim:schemas:extension:travel:2.0:User';

/** Attributes a `.search` must return for `identityDiff` to see every field it compares. */
export const IDENTITY_DIFF_ATTRIBUTES: readonly string[] = [
  'userName',
  'active',
  'name',
  'emails',
  'title',
  'timezone',
  'preferredLanguage',
  'externalId',
  ENTERPRISE_URN,
];

/** Concur takes `YYYY-MM-DD'T'hh:mm:ss'Z'` for enterprise dates. */
export function toConcurDate(isoDate: string): string {
  return `${isoDate}T00:00:00Z`;
}

export interface CreateBodyOptions {
  /** The company UUID (from the JWT); required and immutable in Concur. */
  companyId: string;
  /** The manager's Concur uuid, once known; the worker resolves `row.managerEmployeeNumber`. */
  managerUuid?: string;
}

/** The Identity v4.1 `POST /Users` body (core + enterprise). */
export function toCreateBody(row: NormalizedRow, options: CreateBodyOptions): Record<string, unknown> {
  const name: Record<string, string> = { givenName: row.givenName, familyName: row.familyName };
  if (row.middleName !== undefined) name.middleName = row.middleName;
  const enterprise: Record<string, unknown> = { companyId: options.companyId, employeeNumber: row.employeeNumber };
  if (row.costCenter !== undefined) enterprise.costCenter = row.costCenter;
  if (row.department !== undefined) enterprise.department = row.department;
  if (row.division !== undefined) enterprise.division = row.division;
  if (row.startDate !== undefined) enterprise.startDate = toConcurDate(row.startDate);
  if (row.terminationDate !== undefined) enterprise.terminationDate = toConcurDate(row.terminationDate);
  if (options.managerUuid !== undefined) enterprise.manager = { value: options.managerUuid };

  const body: Record<string, unknown> = {
    schemas: [CORE_USER_URN, ENTERPRISE_URN],
    userName: row.userName,
    active: row.active ?? true,
    name,
    emails: [{ value: row.email, type: 'work' }],
  };
  if (row.externalId !== undefined) body.externalId = row.externalId;
  if (row.title !== undefined) body.title = row.title;
  if (row.timezone !== undefined) body.timezone = row.timezone;
  if (row.preferredLanguage !== undefined) body.preferredLanguage = row.preferredLanguage;
  body[ENTERPRISE_URN] = enterprise;
  return body;
}

/** One field that differs between Concur and the drop. */
export interface IdentityChange {
  op: 'add' | 'replace';
  path: string;
  old: unknown;
  new: unknown;
}

export interface DiffOptions {
  /** The manager's uuid when the row names a manager; without it the manager is not compared. */
  managerUuid?: string;
}

type Eq = (a: unknown, b: unknown) => boolean;
const same: Eq = (a, b) => a === b;
const sameIgnoringCase: Eq = (a, b) =>
  typeof a === 'string' && typeof b === 'string' && a.toLowerCase() === b.toLowerCase();
const sameDay: Eq = (a, b) => typeof a === 'string' && typeof b === 'string' && a.slice(0, 10) === b.slice(0, 10);

/**
 * What to PATCH so Concur matches the row: an empty list when nothing changed. `existing` is the
 * user as Concur returned it (read defensively: any field may be missing). userName, email and
 * preferredLanguage compare case-insensitively, dates by day, everything else exactly.
 */
export function identityDiff(
  existing: Record<string, unknown>,
  desired: NormalizedRow,
  options: DiffOptions = {},
): IdentityChange[] {
  const changes: IdentityChange[] = [];
  const compare = (path: string, old: unknown, value: unknown, eq: Eq = same, sent: unknown = value) => {
    if (value === undefined || eq(old, value)) return;
    changes.push({ op: 'replace', path, old, new: sent });
  };
  const name = asRecord(existing.name);
  const ent = asRecord(existing[ENTERPRISE_URN]);

  compare('userName', existing.userName, desired.userName, sameIgnoringCase);
  compare('active', existing.active, desired.active);
  compare('name.givenName', name.givenName, desired.givenName);
  compare('name.familyName', name.familyName, desired.familyName);
  compare('name.middleName', name.middleName, desired.middleName);

  const emails = Array.isArray(existing.emails) ? existing.emails.map(asRecord) : [];
  const work = emails.find((e) => e.type === 'work');
  if (work === undefined) {
    changes.push({ op: 'add', path: 'emails', old: undefined, new: [{ value: desired.email, type: 'work' }] });
  } else {
    compare('emails[type eq "work"].value', work.value, desired.email, sameIgnoringCase);
  }

  compare('externalId', existing.externalId, desired.externalId);
  compare('title', existing.title, desired.title);
  compare('timezone', existing.timezone, desired.timezone);
  compare('preferredLanguage', existing.preferredLanguage, desired.preferredLanguage, sameIgnoringCase);

  const e = (attr: string) => `${ENTERPRISE_URN}:${attr}`;
  compare(e('employeeNumber'), ent.employeeNumber, desired.employeeNumber);
  compare(e('costCenter'), ent.costCenter, desired.costCenter);
  compare(e('department'), ent.department, desired.department);
  compare(e('division'), ent.division, desired.division);
  const date = (d: string | undefined) => (d === undefined ? undefined : toConcurDate(d));
  compare(e('startDate'), ent.startDate, desired.startDate, sameDay, date(desired.startDate));
  compare(e('terminationDate'), ent.terminationDate, desired.terminationDate, sameDay, date(desired.terminationDate));
  if (options.managerUuid !== undefined) {
    compare(e('manager.value'), asRecord(ent.manager).value, options.managerUuid, sameIgnoringCase);
  }
  return changes;
}

/** The SCIM PatchOp `Operations` for a diff. */
export function toPatchOperations(changes: readonly IdentityChange[]): PatchOperation[] {
  return changes.map((c) => ({ op: c.op, path: c.path, value: c.new }));
}

/** The row's spend/travel data keyed by extension URN, or undefined when it has none. */
export type ExtensionPayload = Record<string, Record<string, unknown>>;

export function hasExtensionData(row: NormalizedRow): boolean {
  return row.spend !== undefined || row.travel !== undefined;
}

/**
 * The UPS payload for the row's extensions. References stay employee numbers (UPS resolves them
 * in the company), so the pipeline only has to wait until those users exist.
 */
export function toExtensionPayload(row: NormalizedRow): ExtensionPayload | undefined {
  const out: ExtensionPayload = {};
  const s = row.spend;
  if (s) {
    const user: Record<string, unknown> = {};
    for (const key of SPEND_USER_FIELDS) if (s[key] !== undefined) user[key] = s[key];
    if (s.customData) user.customData = Object.entries(s.customData).map(([id, value]) => ({ id, value }));
    if (Object.keys(user).length > 0) out[SPEND_USER_URN] = user;
    if (s.roles) out[SPEND_ROLE_URN] = { roles: s.roles.map((roleName) => ({ roleName })) };
    if (s.reportApproverEmployeeNumber !== undefined) {
      out[SPEND_APPROVER_URN] = {
        report: [{ approver: { employeeNumber: s.reportApproverEmployeeNumber }, primary: true }],
      };
    }
  }
  const t = row.travel;
  if (t) {
    const travel: Record<string, unknown> = {};
    if (t.ruleClass) travel.ruleClass = { ...t.ruleClass };
    if (t.groups) travel.groups = [...t.groups];
    if (t.managerEmployeeNumber !== undefined) travel.manager = { employeeNumber: t.managerEmployeeNumber };
    out[TRAVEL_USER_URN] = travel;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * Employee numbers the row points at (manager, report approver, travel manager), without
 * duplicates, so the pipeline can hold the row until those people exist in Concur.
 */
export function referencedEmployeeNumbers(row: NormalizedRow): string[] {
  const refs = [row.managerEmployeeNumber, row.spend?.reportApproverEmployeeNumber, row.travel?.managerEmployeeNumber];
  return [...new Set(refs.filter((r): r is string => r !== undefined && r !== row.employeeNumber))];
}

function asRecord(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
