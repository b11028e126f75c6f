// What the simulator knows about the Identity v4.1 User resource (reference §2.2): schema URNs,
// attribute names (SCIM names are case-insensitive, so everything goes through `canonical*`),
// which attributes are multi-valued, filterable (§2.5) or dates.

export const CORE_URN = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const ENTERPRISE_URN = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const SAP_URN = 'urn:ietf:params:scim:schemas:extension:sap:2.0:User';
export const SETTINGS_URN = 'urn:ietf:params:scim:schemas:extension:settings:2.0:User';
export const PATCH_OP_URN = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const LIST_RESPONSE_URN = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const SEARCH_REQUEST_URN = 'urn:ietf:params:scim:api:messages:concur:2.0:SearchRequest';

/** Extension URNs that live on the identity resource (Spend/Travel belong to UPS). */
export const IDENTITY_EXTENSION_URNS = [ENTERPRISE_URN, SAP_URN, SETTINGS_URN] as const;
export type IdentityExtensionUrn = (typeof IDENTITY_EXTENSION_URNS)[number];

/** Attribute → its sub-attributes (empty list: simple attribute). */
type AttrTable = Record<string, readonly string[]>;

const CORE_ATTRS: AttrTable = {
  id: [],
  externalId: [],
  userName: [],
  name: [
    'formatted',
    'familyName',
    'givenName',
    'middleName',
    'middleInitial',
    'honorificPrefix',
    'honorificSuffix',
    'familyNamePrefix',
    'academicTitle',
    'legalName',
  ],
  displayName: [],
  nickName: [],
  title: [],
  active: [],
  preferredLanguage: [],
  timezone: [],
  dateOfBirth: [],
  emails: ['value', 'type', 'verified', 'notifications', 'display', 'primary'],
  phoneNumbers: ['value', 'type', 'display', 'primary', 'notifications', 'issuingCountry'],
  addresses: ['type', 'streetAddress', 'locality', 'region', 'postalCode', 'country'],
  emergencyContacts: [
    'name',
    'relationship',
    'phones',
    'streetAddress',
    'locality',
    'region',
    'postalCode',
    'country',
    'emails',
  ],
  entitlements: [],
  localeOverrides: [
    'preference24Hour',
    'preferenceDateFormat',
    'preferenceNumberFormat',
    'preferenceFirstDayOfWeek',
    'preferenceDistance',
    'preferenceDefaultCalView',
    'preferenceCurrencySymbolLocation',
    'preferenceHourMinuteSeparator',
    'preferenceStartDayViewHour',
    'preferenceEndDayViewHour',
    'preferenceNegativeCurrencyFormat',
    'preferenceNegativeNumberFormat',
  ],
  meta: ['resourceType', 'created', 'lastModified', 'version', 'location'],
  schemas: [],
};

const ENTERPRISE_ATTRS: AttrTable = {
  companyId: [],
  employeeNumber: [],
  costCenter: [],
  department: [],
  division: [],
  legalEntity: [],
  startDate: [],
  terminationDate: [],
  manager: ['value', 'employeeNumber', 'displayName', '$ref'],
  organization: [],
  leavesOfAbsence: ['startDate', 'endDate', 'type'],
};

const SAP_ATTRS: AttrTable = { userUuid: [] };
const SETTINGS_ATTRS: AttrTable = { theme: [] };

export const ATTRS_BY_URN: Record<string, AttrTable> = {
  [CORE_URN]: CORE_ATTRS,
  [ENTERPRISE_URN]: ENTERPRISE_ATTRS,
  [SAP_URN]: SAP_ATTRS,
  [SETTINGS_URN]: SETTINGS_ATTRS,
};

export const MULTI_VALUED = new Set([
  'emails',
  'phoneNumbers',
  'addresses',
  'emergencyContacts',
  'entitlements',
  'leavesOfAbsence',
]);

/** A resolved attribute path: `urn` undefined means the core schema. `attr` undefined = the whole extension. */
export interface AttrPath {
  urn: IdentityExtensionUrn | undefined;
  attr: string | undefined;
  sub: string | undefined;
}

function findKey(table: AttrTable, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(table).find((k) => k.toLowerCase() === lower);
}

function findSub(subs: readonly string[], name: string): string | undefined {
  const lower = name.toLowerCase();
  return subs.find((s) => s.toLowerCase() === lower);
}

/** Canonical extension URN for a case-insensitive prefix match, or undefined. */
export function matchUrn(text: string): string | undefined {
  const lower = text.toLowerCase();
  return Object.keys(ATTRS_BY_URN).find((u) => lower === u.toLowerCase() || lower.startsWith(`${u.toLowerCase()}:`));
}

/**
 * Parses `userName`, `name.givenName`, `urn:...:enterprise:2.0:User:manager.value`,
 * or a bare extension URN. Unprefixed names that are not core attributes fall back to
 * the enterprise extension (v4 filters use bare `employeeNumber`). Returns undefined if unknown.
 */
export function parseAttrPath(text: string): AttrPath | undefined {
  let urn: string = CORE_URN;
  let rest = text;
  const matched = matchUrn(text);
  if (matched) {
    urn = matched;
    if (text.length === matched.length) {
      return matched === CORE_URN
        ? undefined
        : { urn: matched as IdentityExtensionUrn, attr: undefined, sub: undefined };
    }
    rest = text.slice(matched.length + 1);
  } else if (text.toLowerCase().startsWith('urn:')) {
    return undefined;
  }
  const dot = rest.indexOf('.');
  const attrName = dot === -1 ? rest : rest.slice(0, dot);
  const subName = dot === -1 ? undefined : rest.slice(dot + 1);
  let table = ATTRS_BY_URN[urn] ?? CORE_ATTRS;
  let attr = findKey(table, attrName);
  if (!attr && !matched) {
    urn = ENTERPRISE_URN;
    table = ENTERPRISE_ATTRS;
    attr = findKey(table, attrName);
  }
  if (!attr) return undefined;
  let sub: string | undefined;
  if (subName !== undefined) {
    sub = findSub(table[attr] ?? [], subName);
    if (!sub) return undefined;
  }
  return { urn: urn === CORE_URN ? undefined : (urn as IdentityExtensionUrn), attr, sub };
}

export function formatAttrPath(p: AttrPath): string {
  const base = p.attr === undefined ? '' : p.sub ? `${p.attr}.${p.sub}` : p.attr;
  if (!p.urn) return base;
  return base ? `${p.urn}:${base}` : p.urn;
}

/** Filterable attributes (reference §2.5), as formatted canonical paths. */
const FILTERABLE = new Set([
  'active',
  'addresses.country',
  'addresses.locality',
  'addresses.region',
  'addresses.type',
  'emails.value',
  'emails.type',
  'emails.verified',
  'entitlements',
  'externalId',
  'id',
  'meta.created',
  'meta.lastModified',
  'name.familyName',
  'name.givenName',
  'nickName',
  'userName',
  ...[
    'costCenter',
    'department',
    'division',
    'employeeNumber',
    'startDate',
    'terminationDate',
    'manager.employeeNumber',
    'manager.value',
  ].map((a) => `${ENTERPRISE_URN}:${a}`),
  `${SAP_URN}:userUuid`,
]);

/** A parent of filterable sub-attributes (e.g. `emails`) is filterable for `pr`, `[...]` and `eq` on `value`. */
const FILTERABLE_PARENTS = new Set(['emails', 'addresses', `${ENTERPRISE_URN}:manager`]);

export function isFilterable(p: AttrPath): boolean {
  const f = formatAttrPath(p);
  return FILTERABLE.has(f) || FILTERABLE_PARENTS.has(f);
}

const DATE_ATTRS = new Set([
  'meta.created',
  'meta.lastModified',
  `${ENTERPRISE_URN}:startDate`,
  `${ENTERPRISE_URN}:terminationDate`,
]);

export function isDateAttr(p: AttrPath): boolean {
  return DATE_ATTRS.has(formatAttrPath(p));
}

/** Reads the values at a path (flattening multi-valued attributes). Missing → []. */
export function readPath(resource: Record<string, unknown>, p: AttrPath): unknown[] {
  const container = p.urn ? resource[p.urn] : resource;
  if (!isRecord(container)) return [];
  if (p.attr === undefined) return [container];
  const value = container[p.attr];
  if (value === undefined || value === null) return [];
  const items = Array.isArray(value) ? value : [value];
  if (!p.sub) return items;
  const sub = p.sub;
  return items.flatMap((item) => (isRecord(item) && item[sub] !== undefined && item[sub] !== null ? [item[sub]] : []));
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Canonicalizes keys of a body fragment against a table, dropping unknown keys. */
export function canonicalKeys(
  obj: Record<string, unknown>,
  table: AttrTable | readonly string[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const names = Array.isArray(table) ? (table as readonly string[]) : Object.keys(table);
  for (const [k, v] of Object.entries(obj)) {
    const lower = k.toLowerCase();
    const canon = names.find((n) => n.toLowerCase() === lower);
    if (canon) out[canon] = v;
  }
  return out;
}

export function attrTable(urn: string | undefined): AttrTable {
  return ATTRS_BY_URN[urn ?? CORE_URN] ?? CORE_ATTRS;
}
