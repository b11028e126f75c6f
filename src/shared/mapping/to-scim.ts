import type { PatchOperation } from '../concur/patch.ts';
import { CORE_USER_URN, ENTERPRISE_URN } from '../concur/schemas.ts';
import { SPEND_USER_FIELDS } from './template.ts';
import type { NormalizedRow, RowOperation, TemplateRow } from './types.ts';

/*
 * NormalizedRow → what Concur receives: the Identity v4.1 create body, the PATCH operations that
 * bring an existing user in line, and the UPS extension payload. Absent row fields are never
 * sent and never diffed (an empty cell leaves Concur's value alone).
 */

export const SPEND_USER_URN = 'urn:ietf:params:scim:schemas:extension:spend:2.0:User';
export const SPEND_ROLE_URN = 'urn:ietf:params:scim:schemas:extension:spend:2.0:Role';
export const SPEND_APPROVER_URN = 'urn:ietf:params:scim:schemas:extension:spend:2.0:Approver';
export const TRAVEL_USER_URN = 'urn:ietf:params:scim:schemas:extension:travel:2.0:User';
export const SAP_USER_URN = 'urn:ietf:params:scim:schemas:extension:sap:2.0:User';

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
  'nickName',
  'dateOfBirth',
  'phoneNumbers',
  'addresses',
  ENTERPRISE_URN,
  SAP_USER_URN,
];

/** What a search must name to see entitlements (Concur returns them only when asked). */
export const IDENTITY_DIFF_ATTRIBUTES_WITH_ENTITLEMENTS: readonly string[] = [
  ...IDENTITY_DIFF_ATTRIBUTES,
  'entitlements',
];

/** The fields a person cannot be created without; empty when the row has them all. */
export function missingCreateFields(row: NormalizedRow): string[] {
  return (['userName', 'givenName', 'familyName', 'email'] as const).filter((f) => row[f] === undefined);
}

/** True when the row names the person in full (every template row does). */
export function canCreate(row: NormalizedRow): row is TemplateRow {
  return missingCreateFields(row).length === 0;
}

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

/** The Identity v4.1 `POST /Users` body (core + enterprise, and SAP's extension when the row has a Global ID). */
export function toCreateBody(row: TemplateRow, options: CreateBodyOptions): Record<string, unknown> {
  const name: Record<string, string> = { givenName: row.givenName, familyName: row.familyName };
  if (row.middleName !== undefined) name.middleName = row.middleName;
  if (row.honorificPrefix !== undefined) name.honorificPrefix = row.honorificPrefix;
  if (row.honorificSuffix !== undefined) name.honorificSuffix = row.honorificSuffix;
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
    emails: [
      { value: row.email, type: 'work' },
      ...(row.otherEmails ?? []).map((e) => ({ value: e.value, type: e.type })),
    ],
  };
  if (row.externalId !== undefined) body.externalId = row.externalId;
  if (row.title !== undefined) body.title = row.title;
  if (row.timezone !== undefined) body.timezone = row.timezone;
  if (row.preferredLanguage !== undefined) body.preferredLanguage = row.preferredLanguage;
  if (row.nickName !== undefined) body.nickName = row.nickName;
  if (row.dateOfBirth !== undefined) body.dateOfBirth = row.dateOfBirth;
  if (row.phoneNumbers?.length) body.phoneNumbers = row.phoneNumbers.map(phoneItem);
  if (row.addresses?.length) body.addresses = row.addresses.map((a) => ({ ...a }));
  const entitlements = createEntitlements(row);
  if (entitlements.length > 0) body.entitlements = entitlements;
  body[ENTERPRISE_URN] = enterprise;
  if (row.sapUserUuid !== undefined) {
    body.schemas = [CORE_USER_URN, ENTERPRISE_URN, SAP_USER_URN];
    body[SAP_USER_URN] = { userUuid: row.sapUserUuid };
  }
  return body;
}

/** Concur wants exactly one primary mobile number: the only mobile a row can carry is it. */
function phoneItem(p: { type: string; value: string }): Record<string, unknown> {
  return p.type === 'mobile' ? { value: p.value, type: p.type, primary: true } : { value: p.value, type: p.type };
}

function createEntitlements(row: NormalizedRow): string[] {
  const e = row.entitlements;
  if (!e) return [];
  const revoked = new Set(e.revoke ?? []);
  return [...new Set([...(e.grant ?? []), ...(e.onCreate ?? [])])].filter((x) => !revoked.has(x));
}

/** One field that differs between Concur and the drop. */
export interface IdentityChange {
  op: 'add' | 'replace' | 'remove';
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

  if (desired.userNameRule !== 'createOnly') compare('userName', existing.userName, desired.userName, sameIgnoringCase);
  compare('active', existing.active, desired.active);
  compare('name.givenName', name.givenName, desired.givenName);
  compare('name.familyName', name.familyName, desired.familyName);
  compare('name.middleName', name.middleName, desired.middleName);
  compare('name.honorificPrefix', name.honorificPrefix, desired.honorificPrefix);
  compare('name.honorificSuffix', name.honorificSuffix, desired.honorificSuffix);

  const emails = Array.isArray(existing.emails) ? existing.emails.map(asRecord) : [];
  const work = emails.find((e) => e.type === 'work');
  if (desired.email === undefined) {
    // Nothing to compare: the row does not say.
  } else if (work === undefined) {
    changes.push({ op: 'add', path: 'emails', old: undefined, new: [{ value: desired.email, type: 'work' }] });
  } else {
    compare('emails[type eq "work"].value', work.value, desired.email, sameIgnoringCase);
  }
  for (const e of desired.otherEmails ?? []) {
    const old = emails.find((x) => x.type === e.type)?.value;
    compare(`emails[type eq "${e.type}"].value`, old, e.value, sameIgnoringCase);
  }
  const phones = Array.isArray(existing.phoneNumbers) ? existing.phoneNumbers.map(asRecord) : [];
  for (const p of desired.phoneNumbers ?? []) {
    const old = phones.find((x) => x.type === p.type);
    if (old?.value === p.value) continue;
    changes.push({ op: 'replace', path: `phoneNumbers[type eq "${p.type}"]`, old: old?.value, new: phoneItem(p) });
  }
  const addresses = Array.isArray(existing.addresses) ? existing.addresses.map(asRecord) : [];
  for (const a of desired.addresses ?? []) {
    const old = addresses.find((x) => x.type === a.type) ?? {};
    const differing = Object.fromEntries(
      Object.entries(a).filter(([k, v]) => k !== 'type' && v !== undefined && old[k] !== v),
    );
    if (Object.keys(differing).length > 0)
      changes.push({ op: 'replace', path: `addresses[type eq "${a.type}"]`, old: undefined, new: differing });
  }
  compare('nickName', existing.nickName, desired.nickName);
  compare('dateOfBirth', existing.dateOfBirth, desired.dateOfBirth);
  if (desired.entitlements) {
    const had = Array.isArray(existing.entitlements) ? existing.entitlements.map(String) : [];
    const revoke = new Set(desired.entitlements.revoke ?? []);
    const next = [...new Set([...had, ...(desired.entitlements.grant ?? [])])].filter((x) => !revoke.has(x));
    const sameSet = next.length === had.length && next.every((x) => had.includes(x));
    if (!sameSet) changes.push({ op: 'replace', path: 'entitlements', old: had, new: next });
  }
  if (desired.sapUserUuid !== undefined)
    compare(`${SAP_USER_URN}:userUuid`, asRecord(existing[SAP_USER_URN]).userUuid, desired.sapUserUuid);
  for (const path of desired.clearIdentity ?? []) {
    const old = readIdentityPath(existing, path);
    if (old !== undefined) changes.push({ op: 'remove', path, old, new: undefined });
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
  return changes.map((c) =>
    c.op === 'remove' ? { op: c.op, path: c.path } : { op: c.op, path: c.path, value: c.new },
  );
}

const CLEAR_PATH = /^(\w+)(?:\[type eq "(\w+)"\])?(?:\.(\w+))?$/;

/** The value at a clearable identity path (`nickName`, `name.middleName`, `phoneNumbers[type eq "fax"]`...). */
export function readIdentityPath(user: Record<string, unknown>, path: string): unknown {
  if (path.startsWith(`${SAP_USER_URN}:`)) return asRecord(user[SAP_USER_URN])[path.slice(SAP_USER_URN.length + 1)];
  const m = CLEAR_PATH.exec(path);
  if (!m) return undefined;
  const [, attr = '', type, sub] = m;
  const value = user[attr];
  if (type === undefined) return sub === undefined ? value : asRecord(value)[sub];
  const item = Array.isArray(value) ? value.map(asRecord).find((x) => x.type === type) : undefined;
  return sub === undefined || item === undefined ? item : item[sub];
}

/** The row's spend/travel data keyed by extension URN, or undefined when it has none. */
export type ExtensionPayload = Record<string, Record<string, unknown>>;

export function hasExtensionData(row: NormalizedRow): boolean {
  return row.spend !== undefined || row.travel !== undefined || (row.upsOperations?.length ?? 0) > 0;
}

export interface ExtensionOptions {
  /** The identity stage created the person (operations marked `onCreate` go only then). */
  created?: boolean;
  /** The person existed and the row's `whenExists` left the profile alone: only rights go. */
  rightsOnly?: boolean;
}

/**
 * Every UPS PatchOp operation for the row's extensions: the `spend`/`travel` payload as one `add`,
 * then the row's own operations. Empty when there is nothing to send.
 */
export function toExtensionOperations(row: NormalizedRow, options: ExtensionOptions = {}): PatchOperation[] {
  const ops: PatchOperation[] = [];
  const payload = options.rightsOnly ? undefined : toExtensionPayload(row);
  if (payload) ops.push({ op: 'add', value: payload });
  for (const o of row.upsOperations ?? []) {
    if (options.rightsOnly && !o.rights) continue;
    if (o.onCreate && !options.created) continue;
    ops.push(patchOperation(o));
  }
  return ops;
}

function patchOperation(o: RowOperation): PatchOperation {
  return o.value === undefined ? { op: o.op, path: o.path } : { op: o.op, path: o.path, value: o.value };
}

/** Employee numbers the row's extensions point at: they must exist before the extensions go. */
export function extensionReferences(row: NormalizedRow): string[] {
  const refs = [
    row.spend?.reportApproverEmployeeNumber,
    row.travel?.managerEmployeeNumber,
    ...(row.upsReferences ?? []),
  ];
  return [...new Set(refs.filter((r): r is string => r !== undefined && r !== row.employeeNumber))];
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
  const refs = [row.managerEmployeeNumber, ...extensionReferences(row)];
  return [...new Set(refs.filter((r): r is string => r !== undefined && r !== row.employeeNumber))];
}

function asRecord(v: unknown): Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}
