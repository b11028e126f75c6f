import { ENTERPRISE_URN, type ConcurUser } from '../concur/index.ts';
import { ProvError } from '../errors.ts';
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
  /**
   * Present, and the row is older than the last drop applied to the person: nothing is written
   * (docs/safety.md#an-older-drop-never-undoes-a-newer-one).
   */
  | { kind: 'stale'; existing: ConcurUser; reason: string }
  | { kind: 'create' }
  | { kind: 'unchanged'; existing: ConcurUser }
  | {
      kind: 'patch';
      existing: ConcurUser;
      changes: IdentityChange[];
      action: 'update' | 'deactivate';
      /** Set when the row turns an inactive person active: counted by the deactivation guard. */
      reactivating?: true;
    };

/** The key a row is matched to a Concur person on (`MATCH_ON`, docs/matching.md). */
export type MatchKey = 'employeeNumber' | 'userName';

/** Who a row is, in Concur: a person to update, nobody (create), or a conflict that stops the row. */
export type PersonMatch =
  | { kind: 'match'; user: ConcurUser }
  | { kind: 'new' }
  /** `field`: the row's field the conflict is about. */
  | { kind: 'conflict'; error: ProvError; field: ConflictField };

export type ConflictField = 'userName' | 'employeeNumber' | 'previousEmployeeNumber' | 'previousUserName';

/**
 * The matching policy (docs/matching.md). The row is about the person its key names (`MATCH_ON`:
 * employeeNumber by default), or, for an explicit change, the person its `previousEmployeeNumber`
 * / `previousUserName` names. It is a conflict, and nothing is written, when:
 * - the row's employeeNumber or userName belongs to another person than that one (a recycled
 *   login, a rehire with a new number, two people swapping logins, a clash of the two keys);
 * - the previous key of an explicit change still names another person;
 * - writing the row would change the person's other key without the matching previous column
 *   (a key never changes as a side effect of matching).
 * - an explicit change names a person Concur does not have (by the previous nor the new key).
 */
export function matchPerson(
  row: NormalizedRow,
  people: LookupResult,
  matchOn: MatchKey = 'employeeNumber',
): PersonMatch {
  const byNumber = (n: string | undefined) => (n === undefined ? undefined : people.byEmployeeNumber.get(n));
  const byName = (u: string | undefined) => (u === undefined ? undefined : people.byUserName.get(u.toLowerCase()));
  const numberHolder = byNumber(row.employeeNumber);
  const nameHolder = byName(row.userName);
  const previousByNumber = byNumber(row.previousEmployeeNumber);
  const previousByName = byName(row.previousUserName);
  // An explicit change names the person by the old key; the new key finds them once it is done.
  const subject = matchOn === 'employeeNumber' ? (previousByNumber ?? numberHolder) : (previousByName ?? nameHolder);
  const conflict = (field: ConflictField, message: string, others: ConcurUser[]): PersonMatch => ({
    kind: 'conflict',
    field,
    error: new ProvError('PROV_ERR_IDENTITY_CONFLICT', `${message}; nothing was written`, {
      details: {
        employeeNumber: row.employeeNumber,
        people: [...(subject ? [subject] : []), ...others].map(personRef),
      },
    }),
  });
  const them = (u: ConcurUser) => describePerson(u);
  // Two searches may return the same person as two objects: people are compared by uuid.
  const other = (u: ConcurUser | undefined): u is ConcurUser => u !== undefined && u.id !== subject?.id;

  if (other(nameHolder)) {
    return conflict(
      'userName',
      subject
        ? `the row's userName belongs to ${them(nameHolder)}, but the row is ${them(subject)} (swapped logins?): two people cannot share a userName`
        : `the row's userName belongs to ${them(nameHolder)}, and no Concur person has employeeNumber ${row.employeeNumber} (a recycled login, or a rehire with a new number?): give the row another userName, or change that person's employeeNumber explicitly with previousEmployeeNumber`,
      [nameHolder],
    );
  }
  if (other(numberHolder)) {
    return conflict(
      'employeeNumber',
      subject
        ? `employeeNumber ${row.employeeNumber} belongs to ${them(numberHolder)}, but the row is ${them(subject)}: two people cannot share an employeeNumber`
        : `employeeNumber ${row.employeeNumber} belongs to ${them(numberHolder)}, and no Concur person has the row's userName (a login change?): to change that person's userName, give previousUserName with the current one`,
      [numberHolder],
    );
  }
  const nobody =
    matchOn === 'employeeNumber'
      ? `no Concur person has employeeNumber ${row.employeeNumber}`
      : "no Concur person has the row's userName";
  const rowIs = subject ? `the row is ${them(subject)}` : nobody;
  if (other(previousByNumber)) {
    return conflict(
      'previousEmployeeNumber',
      `previousEmployeeNumber ${row.previousEmployeeNumber} is still ${them(previousByNumber)}, but ${rowIs}`,
      [previousByNumber],
    );
  }
  if (other(previousByName)) {
    return conflict('previousUserName', `previousUserName belongs to ${them(previousByName)}, but ${rowIs}`, [
      previousByName,
    ]);
  }
  if (!subject) {
    if (row.previousEmployeeNumber !== undefined || row.previousUserName !== undefined) {
      const named =
        row.previousEmployeeNumber !== undefined
          ? `employeeNumber ${row.previousEmployeeNumber}`
          : 'the previousUserName';
      return conflict(
        row.previousEmployeeNumber !== undefined ? 'previousEmployeeNumber' : 'previousUserName',
        `the row changes the key of the Concur person with ${named}, but no Concur person has it (nor the row's own keys)`,
        [],
      );
    }
    return { kind: 'new' };
  }
  const currentNumber = employeeNumberOf(subject);
  if (
    currentNumber !== undefined &&
    currentNumber !== row.employeeNumber &&
    currentNumber !== row.previousEmployeeNumber
  ) {
    return conflict(
      'employeeNumber',
      `${rowIs}, and writing the row would change its employeeNumber to ${row.employeeNumber}: to change it, give previousEmployeeNumber ${currentNumber}`,
      [],
    );
  }
  const currentName = typeof subject.userName === 'string' ? subject.userName.toLowerCase() : undefined;
  if (
    currentName !== undefined &&
    row.userName !== undefined &&
    row.userNameRule === undefined &&
    currentName !== row.userName.toLowerCase() &&
    currentName !== row.previousUserName?.toLowerCase()
  ) {
    return conflict(
      'userName',
      `${rowIs}, and writing the row would change that person's userName: to change it, give previousUserName with the current one`,
      [],
    );
  }
  return { kind: 'match', user: subject };
}

/** The person the row matches, undefined for a new one; a conflict throws its ProvError. */
export function findExisting(
  row: NormalizedRow,
  people: LookupResult,
  matchOn: MatchKey = 'employeeNumber',
): ConcurUser | undefined {
  const match = matchPerson(row, people, matchOn);
  if (match.kind === 'conflict') throw match.error;
  return match.kind === 'match' ? match.user : undefined;
}

/**
 * Why a row as of `rowAsOf` must not be written to a person a drop as of `lastAppliedAsOf` was
 * applied to (the later one wins; the same time is the same drop, or a replay: written), or
 * undefined. Either time unknown: no order to keep.
 */
export function staleReason(rowAsOf: number | undefined, lastAppliedAsOf: number | undefined): string | undefined {
  if (rowAsOf === undefined || lastAppliedAsOf === undefined || rowAsOf >= lastAppliedAsOf) return undefined;
  return `older than the last drop applied to this person (row as of ${new Date(rowAsOf).toISOString()}, last applied as of ${new Date(lastAppliedAsOf).toISOString()}): nothing written`;
}

/**
 * Create, PATCH exactly what differs (a deactivation when the row turns an active person
 * inactive, a re-activation the other way), nothing, or skip. `managerUuid` is the manager's uuid
 * when it is known now; `lastAppliedAsOf` the as-of of the last drop applied to the present person.
 */
export function decideIdentity(
  row: NormalizedRow,
  existing: ConcurUser | undefined,
  managerUuid?: string,
  lastAppliedAsOf?: number,
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
  const stale = staleReason(row.asOf, lastAppliedAsOf);
  if (stale) return { kind: 'stale', existing, reason: stale };
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
  const reactivating = row.active === true && existing.active === false;
  return {
    kind: 'patch',
    existing,
    changes,
    action: deactivating ? 'deactivate' : 'update',
    ...(reactivating ? { reactivating: true as const } : {}),
  };
}

function employeeNumberOf(user: ConcurUser): string | undefined {
  const n = (user[ENTERPRISE_URN] as { employeeNumber?: unknown } | undefined)?.employeeNumber;
  return typeof n === 'string' && n !== '' ? n : undefined;
}

/** A person in a message: uuid and employeeNumber (logins and names stay out of messages and logs). */
function describePerson(user: ConcurUser): string {
  const n = employeeNumberOf(user);
  return `Concur user ${user.id} (${n === undefined ? 'no employeeNumber' : `employeeNumber ${n}`}${
    user.active === false ? ', inactive' : ''
  })`;
}

function personRef(user: ConcurUser): Record<string, unknown> {
  return { id: user.id, employeeNumber: employeeNumberOf(user) ?? null, active: user.active !== false };
}
