import { concurErrorKind, type ConcurUser } from '../../shared/concur/index.ts';
import { isProvError, ProvError } from '../../shared/errors.ts';
import { decideIdentity, matchPerson, type IdentityDecision, type MatchKey } from '../../shared/identity/decide.ts';
import type { LookupResult } from '../../shared/identity/lookup.ts';
import { STOPPED_STATUSES, type RowState } from '../../shared/ledger/states.ts';
import { hasExtensionData, toExtensionOperations } from '../../shared/mapping/to-scim.ts';
import type { NormalizedRow } from '../../shared/mapping/types.ts';

/*
 * The identity stage's decisions for one row, as pure functions of what is known (the row, the
 * look-up, the ledger's answers): the processor gathers those facts, asks here, and runs the
 * effect (a Concur call, a ledger move). docs/architecture.md#identity-decisions.
 */

/**
 * Whether a pending row waits for its in-drop manager before it is written: one write with the
 * manager instead of a create now and a manager PATCH later. Not when the manager is in Concur
 * already (the link goes with the write), not in this drop (or is the row itself), nor when the
 * row is a conflict (it fails now, before anything is written). The ledger still refuses a wait
 * that would close a cycle of managers; the row is then written now and linked later
 * (`afterWrite`).
 */
export function waitForManager(input: {
  state: RowState;
  row: NormalizedRow;
  rowNumber: number;
  people: LookupResult;
  /** The manager's row in this drop (`ledger.rowForEmployeeNumber`), if any. */
  managerRow: number | undefined;
  matchOn?: MatchKey;
}): { wait: false } | { wait: true; managerRow: number; absent: boolean } {
  const { row, people, managerRow } = input;
  if (input.state !== 'pending') return { wait: false };
  const managerNumber = row.managerEmployeeNumber;
  if (managerNumber === undefined || people.byEmployeeNumber.has(managerNumber)) return { wait: false };
  if (managerRow === undefined || managerRow === input.rowNumber) return { wait: false };
  const match = matchPerson(row, people, input.matchOn);
  if (match.kind === 'conflict') return { wait: false };
  return { wait: true, managerRow, absent: match.kind === 'new' };
}

/** What `ledger.waitFor` answered about a row of this drop. */
export type WaitAnswer = { uuid: string } | { ended: true } | { waiting: true };

/** A reference by employee number (a manager, an approver): who it is, or why there is none. */
export type Reference = { kind: 'found'; uuid: string } | { kind: 'waiting' } | { kind: 'missing' } | { kind: 'none' };

/**
 * A reference from what is known: in Concur (the look-up), in this drop (the ledger's answer:
 * its uuid, ended without one, or not yet), or nowhere. A row naming itself has no reference.
 */
export function reference(input: {
  employeeNumber: string | undefined;
  people: LookupResult;
  rowNumber: number;
  targetRow: number | undefined;
  /** Asked only when the target is another row of the drop. */
  answer?: WaitAnswer;
}): Reference {
  if (input.employeeNumber === undefined) return { kind: 'none' };
  const known = input.people.byEmployeeNumber.get(input.employeeNumber);
  if (known) return { kind: 'found', uuid: known.id };
  if (input.targetRow === undefined || input.targetRow === input.rowNumber || input.answer === undefined)
    return { kind: 'missing' };
  if ('uuid' in input.answer) return { kind: 'found', uuid: input.answer.uuid };
  if ('ended' in input.answer) return { kind: 'missing' };
  return { kind: 'waiting' };
}

/** The effect that writes a row's identity. */
export type WriteStep =
  /** Nothing to write: an absent person to deactivate, or a row older than the person's last drop (`stale`). */
  | { kind: 'skip'; reason: string; stale?: true; uuid?: string }
  | { kind: 'fail'; error: ProvError }
  /** Nothing sent: the person is as the row says, or the row's whenExists leaves the profile alone. */
  | { kind: 'keep'; uuid: string; action: string; left?: boolean; reason?: string | undefined }
  | { kind: 'create' }
  | { kind: 'patch'; decision: Extract<IdentityDecision, { kind: 'patch' }>; action: string };

/**
 * The write a decision asks for. After a create met a uniqueness 409 (`createdEarlier`: the person
 * exists, most likely our own create whose answer was lost) the person found is updated, never
 * created twice, and a row with nothing left to change counts as the create it was.
 */
export function writeStep(decision: IdentityDecision, createdEarlier = false): WriteStep {
  switch (decision.kind) {
    case 'skip':
      return { kind: 'skip', reason: decision.reason };
    case 'stale':
      return { kind: 'skip', reason: decision.reason, stale: true, uuid: decision.existing.id };
    case 'refuse':
      return { kind: 'fail', error: new ProvError('PROV_ERR_NOT_FOUND', decision.reason) };
    case 'leave':
      return { kind: 'keep', uuid: decision.existing.id, action: 'unchanged', left: true, reason: decision.reason };
    case 'create':
      // After a 409 the person was found: a present person is patched or kept, never created.
      if (createdEarlier) throw new Error('a present person is patched or unchanged');
      return { kind: 'create' };
    case 'unchanged':
      return { kind: 'keep', uuid: decision.existing.id, action: createdEarlier ? 'create' : 'unchanged' };
    case 'patch':
      return { kind: 'patch', decision, action: decision.action };
  }
}

/**
 * The write for a row and the person found (or nobody), with the manager's uuid when known and the
 * as-of of the last drop applied to that person when it is later than the row's.
 */
export function decideWrite(
  row: NormalizedRow,
  existing: ConcurUser | undefined,
  managerUuid: string | undefined,
  createdEarlier = false,
  lastAppliedAsOf?: number,
): WriteStep {
  return writeStep(decideIdentity(row, existing, managerUuid, lastAppliedAsOf), createdEarlier);
}

/**
 * A row just written without its manager, because the manager is a row of this drop still being
 * written (a cycle of managers ends here too), waits in `manager_wait` for the link. Not when the
 * row's whenExists left the profile alone: the manager is part of the profile.
 */
export function waitsForManagerLink(manager: Reference, profileLeft: boolean): boolean {
  return manager.kind === 'waiting' && !profileLeft;
}

/**
 * Where a row's identity stage ends: `identity_done` when something goes to the extension stage
 * (only the rights when the profile was left alone), else `unchanged` when nothing was written and
 * `done` when something was.
 */
export function identityEndState(input: {
  row: NormalizedRow;
  action: string | undefined;
  profileLeft: boolean;
}): 'unchanged' | 'done' | 'identity_done' {
  const sends = input.profileLeft
    ? toExtensionOperations(input.row, { rightsOnly: true }).length > 0
    : hasExtensionData(input.row);
  if (sends) return 'identity_done';
  return input.action === 'unchanged' ? 'unchanged' : 'done';
}

/**
 * Whether an error fails the row (Concur said no) or the whole job (BullMQ retries it). Concur
 * being unreliable is never the row's fault: a failure that outlived the call's retries (5xx, no
 * answer) fails the job until its last attempt; token trouble always fails the job (a second 401
 * is retried, a refused credential pauses the queue); Redis trouble always does.
 */
export function failsRow(err: unknown, lastAttempt: boolean): boolean {
  if (!isProvError(err) || err.code === 'PROV_ERR_REDIS' || err.code === 'PROV_ERR_LEDGER') return false;
  const kind = concurErrorKind(err);
  if (kind === 'auth') return false;
  if (kind === 'retryable') return lastAttempt && (err.details as { statusCode?: unknown }).statusCode !== undefined;
  return true;
}

/**
 * Whether the chunk goes on after a row: not once the drop stopped (the failure brake paused it
 * after this row's failure, or it was held, cancelled...): the rest waits for approve.
 */
export function chunkGoesOn(status: string | undefined): boolean {
  return status === undefined || !STOPPED_STATUSES.has(status);
}
