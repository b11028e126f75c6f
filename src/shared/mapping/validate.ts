import { echo } from '../safe-text.ts';
import { COUNTRY_CODES, CURRENCY_CODES, EXCLUSIVE_SPEND_ROLES, SPEND_ROLE_CODES } from './codes.ts';

/*
 * Field rules from Concur's documentation (docs/concur-api.md). Each check
 * returns the reason a value is wrong, or undefined. Reasons never quote names or emails (they
 * end up in reports and may reach logs); short codes and dates are quoted to help the fix.
 *
 * Lengths count UTF-16 code units (JavaScript `length`), after NFC normalization. Concur stores
 * these in Java strings / nvarchar columns, which count the same way, so a value that passes here
 * is never too long there; an emoji counts 2, a combining mark 1.
 */

/** Maximum lengths. Marked (guess) where the reference gives none and we chose a cap. */
export const LIMITS = {
  userName: 128, // (guess) User v1 LoginID limit
  givenName: 32,
  familyName: 32,
  middleName: 60,
  email: 255,
  employeeNumber: 48,
  externalId: 255, // (guess)
  title: 255,
  timezone: 64, // (guess)
  costCenter: 25,
  department: 255, // (guess) undocumented
  division: 48,
  ledgerCode: 20,
  cashAdvanceAccountCode: 20,
  stateProvince: 2,
  customData: 48, // (guess) User v1 Custom/OrgUnit field size
  ruleClassName: 255, // (guess)
  roleName: 64, // (guess)
} as const;

export const DATE_MIN = '1900-01-01';
export const DATE_MAX = '2079-06-06';

// C0/C1 controls (tab, CR and LF included: none belongs in a profile field).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// Lone surrogates: a well-formed pair is one code point under /u, so \p{Cs} only sees halves.
const LONE_SURROGATE = /\p{Cs}/u;
// Bidi overrides let a name display differently from what it is (spoofing); no real name needs them.
const BIDI_OVERRIDE = /[\u202a-\u202e\u2066-\u2069]/;

/** Generic text rules: no controls, no broken Unicode, no bidi overrides, at most `max` units. */
export function textProblem(value: string, max: number): string | undefined {
  if (CONTROL.test(value)) return 'contains a control character (tab, line break or other)';
  if (LONE_SURROGATE.test(value)) return 'contains a broken Unicode character (lone surrogate)';
  if (BIDI_OVERRIDE.test(value)) return 'contains a bidirectional override character';
  if (value.length > max) return `is ${value.length} characters long; the limit is ${max}`;
  return undefined;
}

const FORMULA_START = /^[=+\-@]/;

/**
 * Name-like fields (names, title, department, division) must not start with `= + - @`: a
 * spreadsheet opening a Concur export would run such a cell as a formula. We reject rather than
 * strip, so the HR source gets fixed and the Concur value matches it exactly.
 */
export function formulaProblem(value: string): string | undefined {
  return FORMULA_START.test(value)
    ? `starts with '${value[0]}', which spreadsheets run as a formula (formula injection); remove the leading character`
    : undefined;
}

// Concur's documented forbidden userName characters, plus the pipe.
const USERNAME_FORBIDDEN = /[%[\]#!*&()~'{^}\\/?><,;:"+=|]/;

// Invisible and bidirectional format characters (zero-width space and joiners, LRM/RLM, bidi
// embeddings and isolates, soft hyphen, BOM...): in an identifier they make one login or number
// look like another (`ad\u200bmin` shows as `admin`).
const FORMAT_CHAR = /\p{Cf}/u;

/** A key that must be exactly what it looks like: no invisible or bidirectional characters. */
export function identifierProblem(value: string): string | undefined {
  const m = FORMAT_CHAR.exec(value);
  if (!m) return undefined;
  const code = m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
  return `contains an invisible or bidirectional character (U+${code}), which would make it look like another`;
}

export function userNameProblem(value: string): string | undefined {
  const generic = textProblem(value, LIMITS.userName) ?? identifierProblem(value);
  if (generic) return generic;
  const bad = USERNAME_FORBIDDEN.exec(value);
  if (bad) return `contains '${bad[0]}', which Concur does not allow in a userName`;
  if (/\s/.test(value)) return 'contains whitespace';
  const at = value.indexOf('@');
  if (at <= 0 || at !== value.lastIndexOf('@') || at === value.length - 1) {
    return 'must have the form user@domain (exactly one @ with text on both sides)';
  }
  return undefined;
}

// WHATWG's e-mail rule (what browsers accept), plus a dot in the domain. ASCII only.
const EMAIL =
  /^[a-zA-Z0-9.!#$%&'*+/=?^_`{|}~-]+@[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)+$/;

export function emailProblem(value: string): string | undefined {
  if (value.length > LIMITS.email) return `is ${value.length} characters long; the limit is ${LIMITS.email}`;
  if (!EMAIL.test(value)) return 'is not an email address of the form name@example.com (ASCII only)';
  const local = value.slice(0, value.indexOf('@'));
  if (local.length > 64) return 'has a part before @ longer than 64 characters';
  return undefined;
}

const TRUE_WORDS = new Set(['true', 't', 'yes', 'y', '1']);
const FALSE_WORDS = new Set(['false', 'f', 'no', 'n', '0']);

/** `true/false/yes/no/y/n/t/f/1/0`, any case. Undefined when the word is none of these. */
export function parseBooleanWord(value: string): boolean | undefined {
  const v = value.trim().toLowerCase();
  if (TRUE_WORDS.has(v)) return true;
  if (FALSE_WORDS.has(v)) return false;
  return undefined;
}

/** True when y-m-d is a real calendar day. */
export function isCalendarDate(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  const days = [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return d <= (days[m - 1] ?? 0);
}

/** `YYYY-MM-DD`, a real day, within Concur's 1900-01-01..2079-06-06. */
export function dateProblem(value: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return `${echo(value, 40)} is not a date in the form YYYY-MM-DD`;
  if (!isCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]))) return `'${value}' is not a real calendar date`;
  if (value < DATE_MIN || value > DATE_MAX) return `'${value}' is outside Concur's range ${DATE_MIN}..${DATE_MAX}`;
  return undefined;
}

const AS_OF = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * An `asOf` cell: an ISO 8601 date (`2026-11-20`, midnight UTC) or date-time (`2026-11-20T17:30Z`,
 * `2026-11-20T17:30:00+01:00`; without a zone: UTC) → epoch ms, or why it is not one.
 */
export function parseAsOf(value: string): { value: number } | { reason: string } {
  const m = AS_OF.exec(value);
  if (!m)
    return { reason: `${echo(value, 40)} is not an ISO 8601 date or date-time (2026-11-20 or 2026-11-20T17:30:00Z)` };
  if (!isCalendarDate(Number(m[1]), Number(m[2]), Number(m[3])))
    return { reason: `'${value}' is not a real calendar date` };
  const zone =
    m[7] === undefined ? 'Z' : m[7].toUpperCase() === 'Z' ? 'Z' : m[7].replace(/^([+-]\d{2})(\d{2})$/, '$1:$2');
  const iso = `${m[1]}-${m[2]}-${m[3]}T${m[4] ?? '00'}:${m[5] ?? '00'}:${m[6] ?? '00'}${zone}`;
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms) || Number(m[4] ?? 0) > 23 || Number(m[5] ?? 0) > 59 || Number(m[6] ?? 0) > 59)
    return { reason: `'${value}' is not a real time` };
  return { value: ms };
}

export function currencyProblem(value: string): string | undefined {
  if (!/^[A-Z]{3}$/.test(value)) return `${echo(value, 40)} is not a 3-letter ISO 4217 currency code`;
  if (!CURRENCY_CODES.has(value)) return `'${value}' is not a current ISO 4217 currency code`;
  return undefined;
}

export function countryProblem(value: string): string | undefined {
  if (!/^[A-Z]{2}$/.test(value)) return `${echo(value, 40)} is not a 2-letter ISO 3166 country code`;
  if (!COUNTRY_CODES.has(value)) return `'${value}' is not an assigned ISO 3166-1 alpha-2 country code`;
  return undefined;
}

/**
 * Locale / language tags like `en-US`: `en_us` and `EN-us` are accepted and rewritten to `en-US`.
 * Returns the canonical tag or a reason.
 */
export function canonicalLocale(value: string): { value: string } | { reason: string } {
  const m = /^([a-zA-Z]{2})[-_]([a-zA-Z]{2})$/.exec(value);
  if (!m) return { reason: `${echo(value, 40)} is not a locale of the form en-US` };
  return { value: `${m[1]!.toLowerCase()}-${m[2]!.toUpperCase()}` };
}

/** An IANA (Olson) zone such as `America/New_York`; returned with the canonical letter case. */
export function canonicalTimezone(value: string): { value: string } | { reason: string } {
  const generic = textProblem(value, LIMITS.timezone);
  if (generic) return { reason: generic };
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(value)) {
    return { reason: `${echo(value, 40)} is not an IANA time zone name such as America/New_York` };
  }
  // Building an Intl.DateTimeFormat is costly (a third of ingest CPU when done per row); a drop
  // has few distinct zones, so each name is resolved once per process.
  let resolved = RESOLVED_ZONES.get(value);
  if (resolved === undefined) {
    try {
      resolved = new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone;
    } catch {
      resolved = null;
    }
    if (RESOLVED_ZONES.size < 10_000) RESOLVED_ZONES.set(value, resolved);
  }
  if (resolved === null) return { reason: `${echo(value, 40)} is not a known IANA time zone` };
  // Keep aliases as written (Asia/Calcutta stays), only fix the letter case.
  return { value: resolved.toLowerCase() === value.toLowerCase() ? resolved : value };
}

/** Time zone name as written → Intl's canonical name, or null when Intl does not know it. */
const RESOLVED_ZONES = new Map<string, string | null>();

/**
 * stateProvince: Concur stores the 2-character subdivision code (`WA`). A full ISO 3166-2 code
 * (`US-WA`) is accepted and shortened. Returns the code or a reason.
 */
export function canonicalStateProvince(value: string): { value: string } | { reason: string } {
  const upper = value.toUpperCase();
  const full = /^[A-Z]{2}-([A-Z0-9]{1,3})$/.exec(upper);
  const code = full ? full[1]! : upper;
  if (!/^[A-Z0-9]{1,2}$/.test(code)) {
    return {
      reason: `${echo(value, 40)} is not a subdivision code of at most ${LIMITS.stateProvince} letters or digits`,
    };
  }
  return { value: code };
}

/** Role codes such as EXP_APPROVER: one of Concur's published Spend role codes. */
export function roleProblem(value: string): string | undefined {
  if (!/^[A-Z0-9_]+$/.test(value))
    return `${echo(value, 40)} is not a role code (letters, digits and _ only, e.g. EXP_APPROVER)`;
  if (value.length > LIMITS.roleName) return `role code is longer than ${LIMITS.roleName} characters`;
  if (!SPEND_ROLE_CODES.has(value))
    return `'${value}' is not a Concur Spend role code (the codes are listed in docs/concur-api.md#spend-role-codes)`;
  return undefined;
}

/** A set of role codes a user cannot hold together (Concur refuses the pair), or undefined. */
export function exclusiveRolesProblem(codes: readonly string[]): string | undefined {
  for (const group of EXCLUSIVE_SPEND_ROLES) {
    const held = group.filter((c) => codes.includes(c));
    if (held.length > 1) return `a user cannot hold both ${held.slice(0, 2).join(' and ')} (Concur refuses the pair)`;
  }
  return undefined;
}

/** Travel group ids and rule class ids: positive 32-bit integers. */
export function positiveIntProblem(value: string): string | undefined {
  if (!/^\d{1,10}$/.test(value) || Number(value) < 1 || Number(value) > 2_147_483_647) {
    return `${echo(value, 40)} is not a positive integer id`;
  }
  return undefined;
}
