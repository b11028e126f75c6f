import type { ConcurUser } from '../concur/index.ts';
import { identityDiff, missingCreateFields, type IdentityChange } from '../mapping/to-scim.ts';
import type { NormalizedRow } from '../mapping/types.ts';
import type { LookupResult } from './lookup.ts';

/**
 * What the identity stage does with one row, given what Concur holds. The identity worker and the
 * plan (`ingest --plan`) both decide here, so a plan says what the run then does.
 */
export type IdentityDecision =
  /** Absent and `active=false`: nothing to deactivate. */
  | { kind: 'skip'; reason: string }
  /** Absent, and the row cannot create the person (a legacy record that only updates someone). */
  | { kind: 'refuse'; reason: string }
  /** Present, and the row's `whenExists` (legacy WARN / IGNORE) leaves the person's profile alone. */
  | { kind: 'leave'; existing: ConcurUser; reason: string | undefined }
  | { kind: 'create' }
  | { kind: 'unchanged'; existing: ConcurUser }
  | { kind: 'patch'; existing: ConcurUser; changes: IdentityChange[]; action: 'update' | 'deactivate' };

/** The row's userName and employeeNumber point at two different Concur users. */
export class IdentityClashError extends Error {
  override readonly name = 'IdentityClashError';
}

/** The person by userName, else by employeeNumber; a clash of the two throws IdentityClashError. */
export function findExisting(row: NormalizedRow, people: LookupResult): ConcurUser | undefined {
  const byName = row.userName === undefined ? undefined : people.byUserName.get(row.userName.toLowerCase());
  const byNumber = people.byEmployeeNumber.get(row.employeeNumber);
  if (byName && byNumber && byName.id !== byNumber.id) {
    throw new IdentityClashError(
      `userName ${row.userName} belongs to Concur user ${byName.id} but employeeNumber ${row.employeeNumber} to user ${byNumber.id}`,
    );
  }
  return byName ?? byNumber;
}

/**
 * Create, PATCH exactly what differs (a deactivation when the row turns an active person
 * inactive), nothing, or skip. `managerUuid` is the manager's uuid when it is known now.
 */
export function decideIdentity(
  row: NormalizedRow,
  existing: ConcurUser | undefined,
  managerUuid?: string,
): IdentityDecision {
  if (!existing) {
    if (row.active === false) return { kind: 'skip', reason: 'not in Concur: nothing to deactivate' };
    const missing = missingCreateFields(row);
    if (missing.length > 0)
      return {
        kind: 'refuse',
        reason: `employee ${row.employeeNumber} is not in Concur, and the row has no ${missing.join(', ')} to create them`,
      };
    return { kind: 'create' };
  }
  if (row.whenExists !== undefined) {
    const reason =
      row.whenExists === 'warn'
        ? 'exists in Concur; the file says WARN for existing people: profile left as it is'
        : undefined;
    return { kind: 'leave', existing, reason };
  }
  const changes = identityDiff(existing as Record<string, unknown>, row, managerUuid ? { managerUuid } : {});
  if (changes.length === 0) return { kind: 'unchanged', existing };
  const deactivating = row.active === false && existing.active !== false;
  return { kind: 'patch', existing, changes, action: deactivating ? 'deactivate' : 'update' };
}
