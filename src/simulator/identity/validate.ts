import { SimHttpError, type ConcurMessage } from '../errors.ts';
import { CORE_URN, ENTERPRISE_URN, SAP_URN, SETTINGS_URN, attrTable, canonicalKeys, isRecord } from './schema.ts';

// Turns a POST/PUT body (or a patched resource) into the stored Identity v4.1 resource:
// validation per reference §2.2 (every problem becomes one message of a single 400), server
// defaults, generated attributes, and meta. Unknown attributes and Spend/Travel URNs are dropped.

export type UserResource = Record<string, unknown> & { id: string; userName: string };

export interface BuildOptions {
  id: string;
  companyId: string;
  now: number;
  baseUrl: string;
  /** The stored resource when replacing or patching (keeps created, bumps version). */
  previous?: UserResource | undefined;
  /** Looks up a user of the same company (manager references). */
  findUser(id: string): UserResource | undefined;
}

const FORBIDDEN_USERNAME = /[%[#!*&()~'{^}\\/?><,;:"+=\]|]/;
const EMAIL_TYPES = ['work', 'home', 'work2', 'other', 'other2'];
const PHONE_TYPES = ['work', 'home', 'mobile', 'fax', 'pager', 'other', 'work2'];
const ADDRESS_TYPES = ['work', 'home', 'other', 'billing', 'bank', 'shipping'];
const RELATIONSHIPS = ['Spouse', 'Brother', 'Parent', 'Sister', 'Life Partner', 'Other'];
const ENTITLEMENTS = ['Expense', 'Invoice', 'Request', 'Travel', 'Locate', 'Analytics', 'Unified Analytics'];
const LEAVE_TYPES = ['voluntary', 'mandatory'];
const ENTERPRISE_DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z?)?$/;
const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** dateOfBirth: `YYYY-MM-DD`, or with a time as SAP's own create examples send it (`...T00:00:00.000`). */
const BIRTH_DATE_RE = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z?)?$/;
const MIN_ENTERPRISE_DATE = Date.UTC(1900, 0, 1);
const MAX_ENTERPRISE_DATE = Date.UTC(2079, 5, 6, 23, 59, 59, 999);

export const DEFAULT_TIMEZONE = 'America/New_York';
export const DEFAULT_LANGUAGE = 'en-US';
// Read-only: what Concur shows a user with no overrides (the v4.1 reference's examples; the
// currency symbol location is one of the swagger's `BeforeAmount` / `AfterAmount`).
const DEFAULT_LOCALE_OVERRIDES = {
  preferenceEndDayViewHour: 20,
  preferenceFirstDayOfWeek: 'Sunday',
  preferenceDateFormat: 'mm/dd/yyyy',
  preferenceCurrencySymbolLocation: 'BeforeAmount',
  preferenceHourMinuteSeparator: ':',
  preferenceDistance: 'mile',
  preferenceDefaultCalView: 'month',
  preference24Hour: 'H:mm AM/PM',
  preferenceNumberFormat: '1,000.00',
  preferenceStartDayViewHour: 8,
  preferenceNegativeCurrencyFormat: null,
  preferenceNegativeNumberFormat: null,
};

class Issues {
  readonly list: ConcurMessage[] = [];
  add(schemaPath: string, message: string, code = 'INVALID_VALUE'): void {
    this.list.push({ code, message, schemaPath, type: 'error' });
  }
}

function str(
  v: unknown,
  path: string,
  issues: Issues,
  opts: { required?: boolean; max?: number; min?: number } = {},
): string | undefined {
  if (v === undefined || v === null || v === '') {
    if (opts.required) issues.add(path, `Required attribute '${path}' is missing`, 'REQUIRED');
    return undefined;
  }
  if (typeof v !== 'string') {
    issues.add(path, `Invalid Value: '${path}' must be a string`);
    return undefined;
  }
  if (opts.max !== undefined && v.length > opts.max)
    issues.add(path, `Invalid '${path}' Size: at most ${opts.max} characters`);
  if (opts.min !== undefined && v.length < opts.min)
    issues.add(path, `Invalid '${path}' Size: at least ${opts.min} characters`);
  return v;
}

function bool(v: unknown, path: string, issues: Issues, required = false): boolean | undefined {
  if (v === undefined || v === null) {
    if (required) issues.add(path, `Required attribute '${path}' is missing`, 'REQUIRED');
    return undefined;
  }
  if (typeof v !== 'boolean') {
    issues.add(path, `Invalid Value: '${path}' must be a boolean`);
    return undefined;
  }
  return v;
}

function oneOf(v: string | undefined, allowed: readonly string[], path: string, issues: Issues): string | undefined {
  if (v === undefined) return undefined;
  const found = allowed.find((a) => a.toLowerCase() === v.toLowerCase());
  if (!found) issues.add(path, `Invalid Value: '${path}' must be one of ${allowed.join(', ')}`);
  return found;
}

function arrayOf(v: unknown, path: string, issues: Issues): Record<string, unknown>[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every(isRecord)) {
    issues.add(path, `Invalid Value: '${path}' must be an array of objects`);
    return [];
  }
  return v;
}

function validDay(y: number, m: number, d: number): boolean {
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/** `YYYY-MM-DDThh:mm:ss.SSS` as Concur returns enterprise dates (no zone). */
export function formatEnterpriseDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 23);
}

function enterpriseDate(v: unknown, path: string, issues: Issues): string | undefined {
  const s = str(v, path, issues);
  if (s === undefined) return undefined;
  const m = ENTERPRISE_DATE_RE.exec(s);
  if (!m) {
    issues.add(path, `Invalid Value: '${path}' must look like YYYY-MM-DDThh:mm:ssZ`);
    return undefined;
  }
  const [y, mo, d, h = '0', mi = '0', se = '0', frac = '0'] = m.slice(1) as string[];
  const ms = Date.UTC(
    Number(y),
    Number(mo) - 1,
    Number(d),
    Number(h),
    Number(mi),
    Number(se),
    Number(frac.padEnd(3, '0').slice(0, 3)),
  );
  if (!validDay(Number(y), Number(mo), Number(d)) || Number(h) > 23 || Number(mi) > 59 || Number(se) > 59) {
    issues.add(path, `Invalid Value: '${path}' is not a valid date`);
    return undefined;
  }
  if (ms < MIN_ENTERPRISE_DATE || ms > MAX_ENTERPRISE_DATE) {
    issues.add(path, `Invalid Value: '${path}' must be between 1900-01-01 and 2079-06-06`);
    return undefined;
  }
  return formatEnterpriseDate(ms);
}

/** A calendar day, stored as `YYYY-MM-DD` (a time part, where `pattern` allows one, is dropped). */
function day(v: unknown, path: string, issues: Issues, required = false, pattern = DAY_RE): string | undefined {
  const s = str(v, path, issues, { required });
  if (s === undefined) return undefined;
  const m = pattern.exec(s);
  if (!m || !validDay(Number(m[1]), Number(m[2]), Number(m[3]))) {
    issues.add(path, `Invalid Value: '${path}' must be a date YYYY-MM-DD`);
    return undefined;
  }
  return `${m[1]}-${m[2]}-${m[3]}`;
}

// Building an Intl.DateTimeFormat is slow enough to show in the create benchmark: cache answers.
const timezoneCache = new Map<string, boolean>();

function validTimezone(tz: string): boolean {
  let ok = timezoneCache.get(tz);
  if (ok === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      ok = true;
    } catch {
      ok = false;
    }
    if (timezoneCache.size < 1000) timezoneCache.set(tz, ok);
  }
  return ok;
}

function dropUndefined<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

function onePerType(items: { type?: unknown }[], path: string, issues: Issues): void {
  const seen = new Set<string>();
  for (const item of items) {
    if (typeof item.type !== 'string') continue;
    if (seen.has(item.type))
      issues.add(`${path}.type`, `Invalid Value: '${path}' has more than one entry of type '${item.type}'`);
    seen.add(item.type);
  }
}

function emails(v: unknown, issues: Issues): Record<string, unknown>[] {
  if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) {
    issues.add('emails', "Required attribute 'emails' is missing", 'REQUIRED');
    return [];
  }
  const out = arrayOf(v, 'emails', issues).map((raw) => {
    const e = canonicalKeys(raw, attrTable(undefined).emails ?? []);
    return dropUndefined({
      value: str(e.value, 'emails.value', issues, { required: true, max: 255 }),
      type: oneOf(str(e.type, 'emails.type', issues, { required: true }), EMAIL_TYPES, 'emails.type', issues),
      verified: bool(e.verified, 'emails.verified', issues) ?? false,
      notifications: bool(e.notifications, 'emails.notifications', issues) ?? false,
      primary: bool(e.primary, 'emails.primary', issues),
    });
  });
  onePerType(out, 'emails', issues);
  return out;
}

function phoneNumbers(v: unknown, issues: Issues): Record<string, unknown>[] | undefined {
  if (v === undefined || v === null) return undefined;
  const out = arrayOf(v, 'phoneNumbers', issues).map((raw) => {
    const p = canonicalKeys(raw, attrTable(undefined).phoneNumbers ?? []);
    return dropUndefined({
      value: str(p.value, 'phoneNumbers.value', issues, { required: true, max: 64 }),
      type: oneOf(
        str(p.type, 'phoneNumbers.type', issues, { required: true }),
        PHONE_TYPES,
        'phoneNumbers.type',
        issues,
      ),
      display: str(p.display, 'phoneNumbers.display', issues),
      primary: bool(p.primary, 'phoneNumbers.primary', issues),
      notifications: bool(p.notifications, 'phoneNumbers.notifications', issues),
      issuingCountry: str(p.issuingCountry, 'phoneNumbers.issuingCountry', issues, { max: 2 }),
    });
  });
  const mobiles = out.filter((p) => p.type === 'mobile');
  if (mobiles.length > 0 && mobiles.filter((p) => p.primary === true).length !== 1) {
    issues.add('phoneNumbers.primary', "Invalid Value: exactly one 'mobile' phone number must be primary");
  }
  return out;
}

function addresses(v: unknown, issues: Issues): Record<string, unknown>[] | undefined {
  if (v === undefined || v === null) return undefined;
  const out = arrayOf(v, 'addresses', issues).map((raw) => {
    const a = canonicalKeys(raw, attrTable(undefined).addresses ?? []);
    const country = str(a.country, 'addresses.country', issues);
    if (country !== undefined && !/^[A-Za-z]{2}$/.test(country))
      issues.add('addresses.country', "Invalid Value: 'addresses.country' must be an ISO 3166 alpha-2 code");
    return dropUndefined({
      type: oneOf(str(a.type, 'addresses.type', issues, { required: true }), ADDRESS_TYPES, 'addresses.type', issues),
      streetAddress: str(a.streetAddress, 'addresses.streetAddress', issues, { max: 255 }),
      locality: str(a.locality, 'addresses.locality', issues, { max: 30 }),
      region: str(a.region, 'addresses.region', issues, { max: 30 }),
      postalCode: str(a.postalCode, 'addresses.postalCode', issues, { max: 20 }),
      country: country?.toUpperCase(),
    });
  });
  onePerType(out, 'addresses', issues);
  return out;
}

function emergencyContacts(v: unknown, issues: Issues): Record<string, unknown>[] | undefined {
  if (v === undefined || v === null) return undefined;
  const items = arrayOf(v, 'emergencyContacts', issues);
  if (items.length > 1) issues.add('emergencyContacts', "Invalid Value: at most one 'emergencyContacts' entry");
  return items.map((raw) => {
    const c = canonicalKeys(raw, attrTable(undefined).emergencyContacts ?? []);
    return dropUndefined({
      ...c,
      name: str(c.name, 'emergencyContacts.name', issues, { required: true, max: 255 }),
      relationship: oneOf(
        str(c.relationship, 'emergencyContacts.relationship', issues, { required: true }),
        RELATIONSHIPS,
        'emergencyContacts.relationship',
        issues,
      ),
    });
  });
}

function entitlements(v: unknown, issues: Issues): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) {
    issues.add('entitlements', "Invalid Value: 'entitlements' must be an array");
    return undefined;
  }
  const out: string[] = [];
  for (const item of v) {
    const raw = isRecord(item) ? item.value : item;
    const found = oneOf(str(raw, 'entitlements', issues, { required: true }), ENTITLEMENTS, 'entitlements', issues);
    if (found && !out.includes(found)) out.push(found);
  }
  return out;
}

function name(v: unknown, issues: Issues): Record<string, unknown> {
  if (!isRecord(v)) {
    issues.add('name', "Required attribute 'name' is missing", 'REQUIRED');
    return {};
  }
  const n = canonicalKeys(v, attrTable(undefined).name ?? []);
  const out: Record<string, unknown> = dropUndefined({
    familyName: str(n.familyName, 'name.familyName', issues, { required: true, max: 32 }),
    givenName: str(n.givenName, 'name.givenName', issues, { required: true, max: 32 }),
    middleName: str(n.middleName, 'name.middleName', issues, { max: 60 }),
    middleInitial: str(n.middleInitial, 'name.middleInitial', issues, { max: 1 }),
    honorificPrefix: str(n.honorificPrefix, 'name.honorificPrefix', issues, { min: 1, max: 60 }),
    honorificSuffix: str(n.honorificSuffix, 'name.honorificSuffix', issues, { min: 1, max: 60 }),
    familyNamePrefix: str(n.familyNamePrefix, 'name.familyNamePrefix', issues, { max: 28 }),
    academicTitle: str(n.academicTitle, 'name.academicTitle', issues, { max: 60 }),
    legalName: str(n.legalName, 'name.legalName', issues, { max: 255 }),
  });
  // Concur's documented format is "Doe, John " (family, given, middle).
  out.formatted = `${String(out.familyName ?? '')}, ${String(out.givenName ?? '')} ${String(out.middleName ?? '')}`;
  return out;
}

/** displayName Concur generates: nickName (else givenName) + familyName. */
export function generatedDisplayName(resource: Record<string, unknown>): string {
  const n = isRecord(resource.name) ? resource.name : {};
  const first = typeof resource.nickName === 'string' && resource.nickName ? resource.nickName : n.givenName;
  return `${String(first ?? '')} ${String(n.familyName ?? '')}`.trim();
}

function enterprise(v: unknown, issues: Issues, opts: BuildOptions): Record<string, unknown> {
  const e = isRecord(v) ? canonicalKeys(v, attrTable(ENTERPRISE_URN)) : {};
  if (v !== undefined && !isRecord(v))
    issues.add(ENTERPRISE_URN, `Invalid Value: '${ENTERPRISE_URN}' must be an object`);
  const companyId = str(e.companyId, `${ENTERPRISE_URN}:companyId`, issues);
  if (companyId !== undefined && companyId.toLowerCase() !== opts.companyId.toLowerCase()) {
    issues.add(
      `${ENTERPRISE_URN}:companyId`,
      "Invalid Value: 'companyId' is immutable and must be the token's company",
      'MUTABILITY',
    );
  }
  const createdMs =
    opts.previous && isRecord(opts.previous.meta) ? Date.parse(String(opts.previous.meta.created)) : opts.now;
  const out: Record<string, unknown> = dropUndefined({
    companyId: opts.companyId,
    employeeNumber: str(e.employeeNumber, `${ENTERPRISE_URN}:employeeNumber`, issues, { max: 48 }),
    costCenter: str(e.costCenter, `${ENTERPRISE_URN}:costCenter`, issues, { max: 25 }),
    department: str(e.department, `${ENTERPRISE_URN}:department`, issues, { max: 255 }),
    division: str(e.division, `${ENTERPRISE_URN}:division`, issues, { max: 48 }),
    legalEntity: str(e.legalEntity, `${ENTERPRISE_URN}:legalEntity`, issues, { max: 255 }),
    startDate: enterpriseDate(e.startDate, `${ENTERPRISE_URN}:startDate`, issues) ?? formatEnterpriseDate(createdMs),
    terminationDate: enterpriseDate(e.terminationDate, `${ENTERPRISE_URN}:terminationDate`, issues),
  });
  if (e.manager !== undefined && e.manager !== null) {
    const m = isRecord(e.manager) ? canonicalKeys(e.manager, attrTable(ENTERPRISE_URN).manager ?? []) : {};
    const value = str(m.value, `${ENTERPRISE_URN}:manager.value`, issues, { required: true });
    if (value !== undefined) {
      const manager = opts.findUser(value);
      if (!manager) {
        issues.add(
          `${ENTERPRISE_URN}:manager.value`,
          `Invalid Value: manager '${value}' does not exist`,
          'INVALID_USER',
        );
      } else {
        const ment = isRecord(manager[ENTERPRISE_URN]) ? manager[ENTERPRISE_URN] : {};
        out.manager = dropUndefined({
          value: manager.id,
          employeeNumber: ment.employeeNumber,
          displayName: manager.displayName,
        });
      }
    }
  }
  if (e.leavesOfAbsence !== undefined && e.leavesOfAbsence !== null) {
    const base = `${ENTERPRISE_URN}:leavesOfAbsence`;
    out.leavesOfAbsence = arrayOf(e.leavesOfAbsence, base, issues).map((raw) => {
      const l = canonicalKeys(raw, attrTable(ENTERPRISE_URN).leavesOfAbsence ?? []);
      return dropUndefined({
        startDate: day(l.startDate, `${base}.startDate`, issues, true),
        endDate: day(l.endDate, `${base}.endDate`, issues),
        type: oneOf(str(l.type, `${base}.type`, issues), LEAVE_TYPES, `${base}.type`, issues),
      });
    });
  }
  return out;
}

/** Builds the stored resource or throws one 400 with every validation message. */
export function buildUserResource(body: unknown, opts: BuildOptions): UserResource {
  if (!isRecord(body))
    throw SimHttpError.scim(400, 'Request body must be a JSON object', { scimType: 'invalidSyntax' });
  const issues = new Issues();
  const core = canonicalKeys(body, attrTable(undefined));
  const ext = (urn: string): unknown => Object.entries(body).find(([k]) => k.toLowerCase() === urn.toLowerCase())?.[1];

  const userName = str(core.userName, 'userName', issues, { required: true, max: 255 });
  if (userName !== undefined && FORBIDDEN_USERNAME.test(userName)) {
    issues.add('userName', "Invalid Value: 'userName' contains a forbidden character");
  }
  const active = bool(core.active, 'active', issues, true);
  const nameOut = name(core.name, issues);
  const emailsOut = emails(core.emails, issues);
  const nickName = str(core.nickName, 'nickName', issues, { max: 60 });
  const timezone = str(core.timezone, 'timezone', issues, { max: 64 }) ?? DEFAULT_TIMEZONE;
  if (!validTimezone(timezone)) issues.add('timezone', "Invalid Value: 'timezone' is not an Olson time zone");
  const language = str(core.preferredLanguage, 'preferredLanguage', issues, { max: 10 }) ?? DEFAULT_LANGUAGE;
  if (!/^[a-z]{2}(?:[-_][A-Za-z]{2})?$/.test(language))
    issues.add('preferredLanguage', "Invalid Value: 'preferredLanguage' must look like en-US");

  const resource: Record<string, unknown> = dropUndefined({
    schemas: [CORE_URN, ENTERPRISE_URN, SAP_URN],
    id: opts.id,
    externalId: str(core.externalId, 'externalId', issues, { max: 255 }),
    userName,
    name: nameOut,
    displayName:
      str(core.displayName, 'displayName', issues, { max: 60 }) ?? generatedDisplayName({ name: nameOut, nickName }),
    nickName,
    title: str(core.title, 'title', issues, { max: 255 }),
    active,
    emails: emailsOut,
    phoneNumbers: phoneNumbers(core.phoneNumbers, issues),
    addresses: addresses(core.addresses, issues),
    emergencyContacts: emergencyContacts(core.emergencyContacts, issues),
    entitlements: entitlements(core.entitlements, issues),
    dateOfBirth: day(core.dateOfBirth, 'dateOfBirth', issues, false, BIRTH_DATE_RE),
    preferredLanguage: language,
    timezone,
    localeOverrides: { ...DEFAULT_LOCALE_OVERRIDES },
    [ENTERPRISE_URN]: enterprise(ext(ENTERPRISE_URN), issues, opts),
  });

  const sap = ext(SAP_URN);
  if (isRecord(sap)) {
    const s = canonicalKeys(sap, attrTable(SAP_URN));
    const userUuid = str(s.userUuid, `${SAP_URN}:userUuid`, issues, { max: 36 });
    if (userUuid !== undefined) resource[SAP_URN] = { userUuid };
  }
  const settings = ext(SETTINGS_URN);
  if (isRecord(settings)) {
    const theme = str(canonicalKeys(settings, attrTable(SETTINGS_URN)).theme, `${SETTINGS_URN}:theme`, issues, {
      max: 64,
    });
    if (theme !== undefined) {
      resource[SETTINGS_URN] = { theme };
      (resource.schemas as string[]).push(SETTINGS_URN);
    }
  }

  if (issues.list.length > 0) {
    const mutability = issues.list.some((m) => m.code === 'MUTABILITY');
    throw SimHttpError.scim(400, issues.list.map((m) => m.message).join('; '), {
      scimType: mutability ? 'mutability' : 'invalidValue',
      messages: issues.list,
    });
  }

  const prevMeta = opts.previous && isRecord(opts.previous.meta) ? opts.previous.meta : undefined;
  const nowIso = new Date(opts.now).toISOString();
  resource.meta = {
    resourceType: 'User',
    created: prevMeta?.created ?? nowIso,
    lastModified: nowIso,
    version: prevMeta ? Number(prevMeta.version ?? 0) + 1 : 0,
    location: `${opts.baseUrl}/profile/identity/v4.1/Users/${opts.id}`,
  };
  return resource as UserResource;
}
