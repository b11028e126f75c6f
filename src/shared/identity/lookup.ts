import { ENTERPRISE_URN, LOOKUP_FILTER_PATH, scimString, type ConcurUser, type IdentityApi } from '../concur/index.ts';
import { IDENTITY_DIFF_ATTRIBUTES_WITH_ENTITLEMENTS, referencedEmployeeNumbers } from '../mapping/to-scim.ts';
import type { NormalizedRow } from '../mapping/types.ts';

export interface LookupResult {
  /** Keyed by lower-cased userName (Concur matches userName case-insensitively). */
  byUserName: Map<string, ConcurUser>;
  byEmployeeNumber: Map<string, ConcurUser>;
}

/** Longest filter per search: Concur documents no limit, so stay well under typical request caps. */
const MAX_FILTER_CHARS = 7_000;
const PAGE_SIZE = 1000;

/**
 * Looks up a chunk of people in as few calls as possible: one `.search` whose filter ORs every
 * row's userName and employeeNumber (and the previous ones of an explicit change), plus the
 * employee numbers the rows refer to (managers, approvers), split only when the filter would grow
 * too long.
 */
export async function lookupPeople(
  call: <T>(fn: () => Promise<T>) => Promise<T>,
  identity: Pick<IdentityApi, 'searchPages'>,
  rows: readonly NormalizedRow[],
  signal?: AbortSignal,
): Promise<LookupResult> {
  const result: LookupResult = { byUserName: new Map(), byEmployeeNumber: new Map() };
  if (rows.length === 0) return result;
  const terms = new Set<string>();
  for (const row of rows) {
    for (const userName of [row.userName, row.previousUserName]) {
      if (userName !== undefined) terms.add(`${LOOKUP_FILTER_PATH.userName} eq ${scimString(userName)}`);
    }
    for (const emp of [row.employeeNumber, row.previousEmployeeNumber, ...referencedEmployeeNumbers(row)]) {
      if (emp !== undefined) terms.add(`${LOOKUP_FILTER_PATH.employeeNumber} eq ${scimString(emp)}`);
    }
  }
  // Concur returns entitlements only when asked for, and asking names every attribute the diff reads.
  const attributes = rows.some((r) => r.entitlements !== undefined)
    ? { attributes: [...IDENTITY_DIFF_ATTRIBUTES_WITH_ENTITLEMENTS] }
    : {};
  for (const filter of joinWithin([...terms], ' or ', MAX_FILTER_CHARS)) {
    const users = await call(async () => {
      const found: ConcurUser[] = [];
      for await (const page of identity.searchPages(
        { filter, count: PAGE_SIZE, ...attributes },
        signal ? { signal } : {},
      ))
        found.push(...page.users);
      return found;
    });
    for (const user of users) {
      if (typeof user.userName === 'string') result.byUserName.set(user.userName.toLowerCase(), user);
      const emp = user[ENTERPRISE_URN]?.employeeNumber;
      if (typeof emp === 'string') result.byEmployeeNumber.set(emp, user);
    }
  }
  return result;
}

/** Joins terms into strings no longer than `max` (a single longer term stands alone). */
export function joinWithin(terms: readonly string[], separator: string, max: number): string[] {
  const out: string[] = [];
  let current = '';
  for (const term of terms) {
    if (current !== '' && current.length + separator.length + term.length > max) {
      out.push(current);
      current = '';
    }
    current = current === '' ? term : `${current}${separator}${term}`;
  }
  if (current !== '') out.push(current);
  return out;
}
