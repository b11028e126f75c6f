import { TRAVEL_USER_URN } from '../../../shared/mapping/to-scim.ts';
import type { AddressData, NormalizedRow, RowOperation, TypedValue } from '../../../shared/mapping/types.ts';
import type { EmployeeImportOptions } from './codes.ts';
import { APPLY_ORDER } from './layouts.ts';
import { SPEND_ROLE_URN, type Fragment, type ImportSettings } from './records.ts';

/*
 * Every record of one person → one row: 320 first (the ID change), then 300/305/310 and the
 * other records in the order Concur applies them, lines of one type in file order (the later
 * line wins). Identity fields become row fields (the identity stage PATCHes what differs);
 * everything UPS holds becomes the row's UPS operations.
 */

const rank = (type: string): number => {
  const i = APPLY_ORDER.indexOf(type);
  return i === -1 ? APPLY_ORDER.length : i;
};

export function buildPerson(
  rowNumber: number,
  fragments: Fragment[],
  settings: ImportSettings,
  options: EmployeeImportOptions,
): NormalizedRow {
  const sorted = [...fragments].sort((a, b) => rank(a.type) - rank(b.type) || a.line - b.line);
  const fields = new Map<string, unknown>();
  const clears = new Map<string, true>();
  const phones = new Map<string, string>();
  const emails = new Map<string, string>();
  const addresses = new Map<string, Record<string, string>>();
  const entitlements = new Map<string, 'grant' | 'revoke' | 'onCreate'>();
  const roles = new Map<string, { grant: boolean; groups: Set<string>; rights: boolean }>();
  const ops: RowOperation[] = [];
  const refs = new Set<string>();
  const warnings: string[] = [];
  let employeeNumber = sorted[0]!.key;
  let previousEmployeeNumber: string | undefined;
  let loginFrom320: string | undefined;

  for (const f of sorted) {
    if (f.type === '320') {
      if (f.newKey !== undefined) {
        previousEmployeeNumber = f.key;
        employeeNumber = f.newKey;
      }
      if (typeof f.set?.userName === 'string') loginFrom320 = f.set.userName;
    }
    for (const [k, v] of Object.entries(f.set ?? {})) {
      if (k === 'userName' && loginFrom320 !== undefined && f.type !== '320' && v !== loginFrom320) {
        warnings.push(`line ${f.line}: the Login ID differs from the 320 record's new Login ID; the 320 wins`);
        continue;
      }
      fields.set(k, v);
      clears.delete(identityPath(k));
    }
    for (const path of f.clear ?? []) {
      clears.set(path, true);
      forgetCleared(path, fields, phones, emails, addresses);
    }
    for (const [type, value] of Object.entries(f.phones ?? {})) phones.set(type, value);
    for (const [type, value] of Object.entries(f.emails ?? {})) emails.set(type, value);
    for (const [type, parts] of Object.entries(f.addresses ?? {}))
      addresses.set(type, { ...(addresses.get(type) ?? {}), ...parts });
    for (const e of f.grant ?? []) entitlements.set(e, 'grant');
    for (const e of f.revoke ?? []) entitlements.set(e, 'revoke');
    for (const e of f.onCreate ?? []) if (!entitlements.has(e)) entitlements.set(e, 'onCreate');
    for (const r of f.roles ?? []) {
      const current = roles.get(r.name);
      const groups = r.grant && current?.grant ? current.groups : new Set<string>();
      if (r.group !== undefined) groups.add(r.group);
      roles.set(r.name, { grant: r.grant, groups, rights: r.rights === true || (current?.rights ?? false) });
    }
    ops.push(...(f.ops ?? []));
    for (const r of f.refs ?? []) refs.add(r);
    warnings.push(...(f.warnings ?? []));
  }

  const row: NormalizedRow = { rowNumber, employeeNumber };
  if (previousEmployeeNumber !== undefined) row.previousEmployeeNumber = previousEmployeeNumber;
  for (const [k, v] of fields) (row as unknown as Record<string, unknown>)[k] = v;
  if (phones.size > 0) row.phoneNumbers = [...phones].map(([type, value]): TypedValue => ({ type, value }));
  if (emails.size > 0) row.otherEmails = [...emails].map(([type, value]): TypedValue => ({ type, value }));
  if (addresses.size > 0) row.addresses = [...addresses].map(([type, parts]): AddressData => ({ type, ...parts }));
  if (clears.size > 0) row.clearIdentity = [...clears.keys()];
  if (entitlements.size > 0) {
    const of = (kind: string) => [...entitlements].filter(([, k]) => k === kind).map(([e]) => e);
    row.entitlements = {};
    if (of('grant').length > 0) row.entitlements.grant = of('grant');
    if (of('revoke').length > 0) row.entitlements.revoke = of('revoke');
    if (of('onCreate').length > 0) row.entitlements.onCreate = of('onCreate');
  }

  const roleOps = roleOperations(roles, settings);
  const travelOp = ops.find((o) => o.op === 'add' && o.path === TRAVEL_USER_URN);
  const namesClass = ops.some(
    (o) => o.op === 'add' && o.path === TRAVEL_USER_URN && (o.value as Record<string, unknown>).ruleClass !== undefined,
  );
  // UPS needs a rule class for a new travel user; the legacy job used the default class.
  const defaultClass: RowOperation[] =
    travelOp && !namesClass && options.defaultRuleClass !== undefined
      ? [{ op: 'add', path: TRAVEL_USER_URN, value: { ruleClass: { name: options.defaultRuleClass } }, onCreate: true }]
      : [];
  const all = [
    ...defaultClass,
    ...ops.filter((o) => !isRemovalOfRights(o)),
    ...roleOps,
    ...ops.filter(isRemovalOfRights),
  ];
  if (all.length > 0) row.upsOperations = all;
  refs.delete(employeeNumber);
  if (refs.size > 0) row.upsReferences = [...refs];
  if (row.userName !== undefined) row.userNameRule = loginFrom320 !== undefined ? 'explicit' : 'createOnly';
  if (settings.existingRecordHandling === 'WARN') row.whenExists = 'warn';
  if (settings.existingRecordHandling === 'IGNORE') row.whenExists = 'ignore';
  row.lines = sorted.map((f) => f.line).sort((a, b) => a - b);
  if (warnings.length > 0) row.warnings = warnings;
  return row;
}

/** 750/760 lines: removals of approval rights go after every addition (SAP applies them last). */
function isRemovalOfRights(o: RowOperation): boolean {
  return o.op === 'remove' && o.rights === true;
}

/**
 * Granted roles as one `add` each for the profile and the rights (400) records, taken-away roles
 * as filtered removes. Under REPLACE a 400 role's groups replace the ones Concur holds (SAP:
 * except PMT_VENDOR_APPROVER, which never honours REPLACE).
 */
function roleOperations(
  roles: Map<string, { grant: boolean; groups: Set<string>; rights: boolean }>,
  settings: ImportSettings,
): RowOperation[] {
  const out: RowOperation[] = [];
  const added: Record<'profile' | 'rights', { roleName: string; roleGroups: string[] }[]> = { profile: [], rights: [] };
  for (const [name, r] of roles) {
    const path = `${SPEND_ROLE_URN}:roles[roleName eq ${JSON.stringify(name)}]`;
    if (!r.grant) {
      out.push({ op: 'remove', path, ...(r.rights ? { rights: true as const } : {}) });
      continue;
    }
    if (r.rights && settings.existingRecordHandling === 'REPLACE' && name !== 'INV_VENDOR_ADMIN')
      out.push({ op: 'remove', path, rights: true });
    added[r.rights ? 'rights' : 'profile'].push({ roleName: name, roleGroups: [...r.groups] });
  }
  if (added.profile.length > 0) out.push({ op: 'add', path: `${SPEND_ROLE_URN}:roles`, value: added.profile });
  if (added.rights.length > 0)
    out.push({ op: 'add', path: `${SPEND_ROLE_URN}:roles`, value: added.rights, rights: true });
  return out;
}

/** The identity path a row field is cleared at (see records.ts clearPath). */
function identityPath(field: string): string {
  return ['middleName', 'honorificPrefix', 'honorificSuffix'].includes(field) ? `name.${field}` : field;
}

/** A clear after a set of the same attribute wins: the set is forgotten. */
function forgetCleared(
  path: string,
  fields: Map<string, unknown>,
  phones: Map<string, string>,
  emails: Map<string, string>,
  addresses: Map<string, Record<string, string>>,
): void {
  const typed = /^(\w+)\[type eq "(\w+)"\](?:\.(\w+))?$/.exec(path);
  if (typed) {
    const [, attr, type = '', sub] = typed;
    if (attr === 'phoneNumbers') phones.delete(type);
    else if (attr === 'emails') emails.delete(type);
    else if (attr === 'addresses' && sub !== undefined) delete addresses.get(type)?.[sub];
    return;
  }
  fields.delete(path.replace(/^name\./, ''));
}
