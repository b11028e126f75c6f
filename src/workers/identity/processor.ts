import type { Job } from 'bullmq';
import {
  ENTERPRISE_URN,
  concurErrorKind,
  patch,
  type ConcurUser,
  type IdentityApi,
} from '../../shared/concur/index.ts';
import { isProvError } from '../../shared/errors.ts';
import type { RowOutcome } from '../../shared/ledger/ledger.ts';
import type { IdentityLedger, RowMoves, RowWaits } from '../../shared/ledger/ports.ts';
import type { RowState } from '../../shared/ledger/states.ts';
import type { Logger } from '../../shared/logger.ts';
import type { ScriptCall } from '../../shared/lua.ts';
import { activeChangeHoldReason, conflictHoldReason, type GuardLimits } from '../../shared/guards/limits.ts';
import type { PersonAsOf } from '../../shared/identity/as-of.ts';
import { findExisting, type MatchKey } from '../../shared/identity/decide.ts';
import {
  canCreate,
  extensionReferences,
  toCreateBody,
  toPatchOperations,
  type IdentityChange,
} from '../../shared/mapping/to-scim.ts';
import type { FieldChange } from '../../shared/ledger/report.ts';
import type { NormalizedRow } from '../../shared/mapping/types.ts';
import { IDENTITY_CHUNK_ROWS, IDENTITY_QUEUE, identityJobSchema } from '../../shared/queues/identity.ts';
import { parseJobData } from '../../shared/queues/common.ts';
import { withConcurRetries, type RetryPolicy } from '../../shared/concur/retry.ts';
import type { RecentWrites } from '../../shared/identity/recent-writes.ts';
import { sleep as defaultSleep } from '../../shared/rate-limiter.ts';
import {
  chunkGoesOn,
  decideWrite,
  failsRow,
  identityEndState,
  reference,
  waitForManager,
  waitsForManagerLink,
  type Reference,
} from './decisions.ts';
import { confirmRecentWrites, resolveCreateConflict, resolveRenameConflict, type ConfirmDeps } from './confirm.ts';
import { lookupPeople, type LookupResult } from './lookup.ts';
import { ChunkReferences } from './references.ts';

export interface IdentityProcessorDeps {
  ledger: IdentityLedger;
  identity: Pick<IdentityApi, 'create' | 'patch' | 'get' | 'searchPages'>;
  /** Blocks the shared identity limiter for Retry-After (every process pauses). */
  block(ms: number): Promise<number>;
  companyId: string;
  /** Hands rows whose identity is in place (and whose references exist) to the extension stage. */
  handoff: { ready(dropId: string, rows: number[]): Promise<void> };
  /** Re-enqueues rows released from waiting (their manager or approver now exists or ended). */
  requeue(dropId: string, rows: readonly number[]): Promise<void>;
  retry: RetryPolicy;
  log: Logger;
  random?: () => number;
  /**
   * The mass-failure brake (MAX_FAILURE_PERCENT after GUARD_MIN_ROWS settled rows): checked when a
   * chunk starts and after each failed row. Without it the drop status is still honoured.
   */
  brake?: Pick<GuardLimits, 'minRows' | 'maxFailurePercent'>;
  /**
   * The conflict guard (MAX_CONFLICTS, MAX_CONFLICT_PERCENT): a running drop pauses once it has more
   * identity conflicts than this since it was last approved.
   */
  conflictGuard?: Pick<GuardLimits, 'minRows' | 'maxConflicts' | 'maxConflictPercent'>;
  /** The key rows are matched on (MATCH_ON, docs/matching.md). Default: employeeNumber. */
  matchOn?: MatchKey;
  /**
   * People this pipeline wrote within the search lag: re-read by id, never trusted from search.
   * Without it every search result is taken as current.
   */
  recent?: Pick<RecentWrites, 'remember' | 'confirmCall' | 'stale'>;
  /**
   * The as-of time of the last drop applied to each person: a row older than it writes nothing
   * (docs/safety.md#an-older-drop-never-undoes-a-newer-one). Without it every row is written.
   */
  asOf?: Pick<PersonAsOf, 'claim' | 'claimCall'>;
  /**
   * The deactivation guard at run time (MAX_DEACTIVATIONS, MAX_DEACTIVATION_PERCENT): re-activations
   * count like deactivations, and a drop past the limit is held before the next one is written.
   */
  activeGuard?: Pick<GuardLimits, 'minRows' | 'maxDeactivations' | 'maxDeactivationPercent'>;
  /** How long Concur's search may lag (CONFLICT_RESOLVE_MAX_MS). Default 300 000. */
  conflictResolveMaxMs?: number;
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface IdentityJobResult {
  processed: number;
  skipped: number;
}

/** Longest a released row waits for more to fill its job before it is re-enqueued. */
const RELEASE_FLUSH_MS = 100;

/** Which pending rows of a chunk were asked to wait for their manager up front, and which now wait. */
interface ChunkDeferral {
  asked: ReadonlySet<number>;
  waiting: ReadonlySet<number>;
}

type LedgerRow = { row: number; state: RowState; data: NormalizedRow | undefined; outcome: RowOutcome };

/**
 * The identity stage for one chunk of rows: one batched look-up, then per row create, PATCH only
 * what changed, deactivate, or nothing. Every step is safe to repeat: a retried job finds the
 * users it already created and rows that are already further along are left alone.
 */
export function createIdentityProcessor(deps: IdentityProcessorDeps) {
  const now = deps.now ?? Date.now;
  return async function processIdentityJob(
    job: Pick<Job, 'data' | 'id' | 'attemptsMade'> & { opts?: Pick<Job['opts'], 'attempts'> },
    _token?: string,
    signal?: AbortSignal,
  ): Promise<IdentityJobResult> {
    const { dropId, rows } = parseJobData(identityJobSchema, IDENTITY_QUEUE, job);
    const log = deps.log.child({ queue: 'identity', jobId: job.id, dropId, attempt: job.attemptsMade });
    // Concur still failing after a call's retries fails the rows only when the job has no attempt left.
    const lastAttempt = job.opts === undefined || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    const loaded = (await deps.ledger.getRows<NormalizedRow>(dropId, rows)) as LedgerRow[];
    const work = loaded.filter(
      (r) => r.state === 'pending' || r.state === 'manager_wait' || r.state === 'identity_done',
    );
    /**
     * Rows released from waiting (their manager or approver now has a uuid or ended) are gathered
     * and re-enqueued together, then taken out of the waiter sets of their targets (which kept them
     * in case this worker died first): full jobs that share one look-up, instead of a small job per
     * released row. Sent once a job's worth is gathered or the first has waited RELEASE_FLUSH_MS,
     * so a level of the org tree still starts while a slow (rate-limited) chunk goes on.
     */
    const gathered = { rows: new Set<number>(), targets: new Set<number>(), since: 0 };
    const requeueGathered = async (): Promise<void> => {
      if (gathered.rows.size === 0) return;
      const released = [...gathered.rows];
      const targets = [...gathered.targets];
      gathered.rows.clear();
      gathered.targets.clear();
      await deps.requeue(dropId, released);
      await deps.ledger.forgetReleasedWaiters(dropId, targets, released);
    };
    const requeueReleased = async (released: readonly number[], targets: readonly number[]): Promise<void> => {
      if (released.length === 0) return;
      if (gathered.rows.size === 0) gathered.since = now();
      for (const row of released) gathered.rows.add(row);
      for (const row of targets) gathered.targets.add(row);
      await requeueIfDue();
    };
    /** Checked after every row too: a slow chunk does not keep what it released until its end. */
    const requeueIfDue = async (): Promise<void> => {
      if (
        gathered.rows.size >= IDENTITY_CHUNK_ROWS ||
        (gathered.rows.size > 0 && now() - gathered.since >= RELEASE_FLUSH_MS)
      )
        await requeueGathered();
    };
    // Waiters an earlier attempt released but died before re-enqueueing (kill -9 in between).
    await requeueReleased(await deps.ledger.releasedWaiters(dropId, rows), rows);
    await requeueGathered();
    if (work.length === 0) return { processed: 0, skipped: loaded.length };
    // A planned, held, paused or cancelled drop sends nothing: its rows stay where they are and
    // `provision approve` enqueues them again.
    if (await stopped(dropId)) {
      log.info('drop is not running; rows left for approve');
      return { processed: 0, skipped: loaded.length };
    }

    const call = <T>(fn: () => Promise<T>): Promise<T> =>
      withConcurRetries(
        fn,
        deps.retry,
        { block: deps.block, log, ...(deps.random ? { random: deps.random } : {}) },
        signal,
      );
    const confirm: ConfirmDeps = {
      lookup: (row) => lookupPeople(call, deps.identity, [row], signal),
      get: (id) => getUser(id, call, deps.identity),
      ...(deps.matchOn ? { matchOn: deps.matchOn } : {}),
      maxMs: deps.conflictResolveMaxMs ?? 300_000,
      now: deps.now ?? Date.now,
      sleep: deps.sleep ?? defaultSleep,
    };
    // A deferred row the first look-up did not find is created without a second one.
    const needsLookup = work.filter((r) => notWrittenYet(r) && r.data && r.outcome.absent !== true);
    let people: LookupResult;
    try {
      people = await lookupPeople(
        call,
        deps.identity,
        needsLookup.map((r) => r.data!),
        signal,
      );
      if (deps.recent) people = await confirmRecentWrites(people, deps.recent, confirm.get);
    } catch (err) {
      if (!failsRow(err, lastAttempt)) throw err;
      // The look-up itself failed for good (e.g. 400 on the filter): every row of the chunk fails.
      for (const r of needsLookup) await requeueReleased(await fail(dropId, r.row, err), [r.row]);
      people = { byUserName: new Map(), byEmployeeNumber: new Map() };
      if (await stopped(dropId)) {
        await requeueGathered();
        return { processed: needsLookup.length, skipped: loaded.length - needsLookup.length };
      }
    }
    const refs = await ChunkReferences.peek(
      deps.ledger,
      dropId,
      work.flatMap((r) => (r.data ? [r.data] : [])),
      people,
    );
    const deferral = await deferForManagers(dropId, work, people, refs);

    const ready: number[] = [];
    let processed = 0;
    for (const r of work) {
      signal?.throwIfAborted();
      processed += 1;
      if (!r.data) {
        await requeueReleased(await fail(dropId, r.row, new Error('the row has no stored record')), [r.row]);
        continue;
      }
      try {
        const outcome = await processRow(dropId, r, people, refs, deferral, call, confirm, signal);
        await requeueReleased(outcome.released, [r.row]);
        if (outcome.ready) ready.push(r.row);
        await requeueIfDue();
        if (outcome.held) {
          // The deactivation guard held the drop: this row and the rest of the chunk wait for approve.
          processed -= 1;
          log.warn('drop held by the deactivation guard (re-activations); the rest of the chunk waits for approve');
          break;
        }
      } catch (err) {
        if (!failsRow(err, lastAttempt)) throw err;
        await requeueReleased(await fail(dropId, r.row, err), [r.row]);
        // The brake may have paused the drop: the rest of the chunk waits for approve.
        if (await stopped(dropId)) {
          log.warn('drop paused by the failure brake; the rest of the chunk waits for approve');
          break;
        }
      }
    }
    await requeueGathered();
    if (ready.length > 0) await deps.handoff.ready(dropId, ready);
    return { processed, skipped: loaded.length - processed };
  };

  /** Concur's answer for a write to `user`, to be recorded with the row's move. */
  function recordAnswer(answered: ScriptCall[], user: ConcurUser): void {
    const record = deps.recent?.confirmCall(user);
    if (record) answered.push(record);
  }

  /** One O(1) script: applies the failure brake and says whether the drop stopped accepting work. */
  async function stopped(dropId: string): Promise<boolean> {
    const status = deps.brake ? await deps.ledger.checkBrake(dropId, deps.brake) : await deps.ledger.dropStatus(dropId);
    return !chunkGoesOn(status);
  }

  async function processRow(
    dropId: string,
    r: LedgerRow,
    people: LookupResult,
    refs: ChunkReferences,
    deferral: ChunkDeferral,
    call: <T>(fn: () => Promise<T>) => Promise<T>,
    confirm: ConfirmDeps,
    signal: AbortSignal | undefined,
  ): Promise<{ released: number[]; ready: boolean; held?: true }> {
    const row = r.data!;
    const released: number[] = [];
    let uuid = r.outcome.uuid;
    const state: RowState = r.state;
    let action = r.outcome.action;
    const warnings = Array.isArray(r.outcome.warnings) ? [...r.outcome.warnings] : [];
    /** Set once this run wrote the identity (with the manager when it could). */
    let wroteNow = false;
    /** The person existed and the row's `whenExists` left their profile alone (rights still go). */
    let profileLeft = r.outcome.profileLeft === true;
    /** What this run's PATCH changed, old → new: for the report's `--changes` (never logged). */
    let changes: FieldChange[] | undefined;
    /**
     * What Concur answered for this row's writes (recent-write versions, the as-of of a created
     * person): recorded with the row's next move, in the same round trip. Every path that writes
     * ends in a move.
     */
    const answered: ScriptCall[] = [];
    const move = (to: RowState, patch: RowOutcome) =>
      deps.ledger.transition(dropId, r.row, to, { from: [state], patch, also: answered.splice(0) });
    /** The outcome of a written identity (the look-up's `absent` mark has served). */
    const written = (): RowOutcome => ({
      uuid,
      action,
      warnings,
      absent: null,
      ...(profileLeft ? { profileLeft } : {}),
      ...(changes && changes.length > 0 ? { changes } : {}),
    });

    if (notWrittenYet(r)) {
      // A manager further down the drop: wait for it and write once, with the manager.
      if (state === 'pending' && deferral.waiting.has(r.row)) return { released, ready: false };
      if (state === 'pending' && !deferral.asked.has(r.row) && (await deferToManager(dropId, r.row, row, people, refs)))
        return { released, ready: false };
      const manager = row.managerEmployeeNumber
        ? await resolveReference(r.row, row.managerEmployeeNumber, people, refs)
        : { kind: 'none' as const };
      if (manager.kind === 'missing')
        warnings.push(
          `manager ${row.managerEmployeeNumber} not found in Concur or this drop; created without a manager`,
        );
      const managerUuid = manager.kind === 'found' ? manager.uuid : undefined;
      const write = await writeIdentity(dropId, r.row, row, people, managerUuid, answered, call, confirm, signal);
      if (write.kind === 'held') return { released, ready: false, held: true };
      if (write.kind === 'skip') {
        const t = await move('unchanged', {
          action: write.stale ? 'older' : 'none',
          warnings: [...warnings, write.reason],
          absent: null,
          ...(write.uuid ? { uuid: write.uuid } : {}),
          // The report's message of a row that was not written because it is older.
          ...(write.stale ? { note: write.reason } : {}),
        });
        return { released: t.releasedWaiters, ready: false };
      }
      uuid = write.uuid;
      action = write.action;
      changes = write.changes;
      if (write.left) {
        profileLeft = true;
        if (write.reason) warnings.push(write.reason);
      }
      if (waitsForManagerLink(manager, profileLeft)) {
        // Written without the manager; the link follows once the manager exists.
        const t = await move('manager_wait', written());
        released.push(...t.releasedWaiters);
        if (t.result !== 'ok' && t.result !== 'same') return { released, ready: false };
        // The manager may have finished between our look-up and the wait registration.
        return {
          released: [...released, ...(await recheckWait(dropId, r.row, row.managerEmployeeNumber!, refs))],
          ready: false,
        };
      }
      wroteNow = true;
    }

    if (state === 'manager_wait' && !wroteNow) {
      const manager = await resolveReference(r.row, row.managerEmployeeNumber!, people, refs);
      if (manager.kind === 'waiting') return { released, ready: false };
      if (manager.kind === 'found' && uuid) {
        await deps.recent?.remember(uuid);
        const linked = await call(() =>
          deps.identity.patch(uuid!, patch().replace(`${ENTERPRISE_URN}:manager.value`, manager.uuid)),
        );
        recordAnswer(answered, linked);
        if (action === 'unchanged') action = 'update';
      } else {
        warnings.push(`manager ${row.managerEmployeeNumber} was not provisioned; left without a manager`);
      }
    }

    if (state === 'pending' || state === 'manager_wait') {
      const to = identityEndState({ row, action, profileLeft });
      if (to !== 'identity_done') {
        const t = await move(to, written());
        return { released: [...released, ...t.releasedWaiters], ready: false };
      }
      const t = await move('identity_done', written());
      released.push(...t.releasedWaiters);
      if (t.result !== 'ok' && t.result !== 'same') return { released, ready: false };
    }

    // identity_done: the extensions go once every person they point at exists.
    for (const ref of extensionReferences(row)) {
      const res = await resolveReference(r.row, ref, people, refs);
      if (res.kind === 'waiting') return { released, ready: false };
    }
    return { released, ready: true };
  }

  /**
   * Waits for an in-drop manager that has not been written yet, instead of writing this row now
   * and patching its manager later: one write instead of two for the common org tree.
   */
  async function deferToManager(
    dropId: string,
    row: number,
    data: NormalizedRow,
    people: LookupResult,
    refs: ChunkReferences,
  ): Promise<boolean> {
    const decision = await managerWait(row, data, people, refs);
    if (!decision.wait) return false;
    return deps.ledger.deferFor(dropId, decision.managerRow, row, { absent: decision.absent });
  }

  /** Whether a pending row waits for its in-drop manager (asked only when it may matter). */
  async function managerWait(
    row: number,
    data: NormalizedRow,
    people: LookupResult,
    refs: ChunkReferences,
  ): Promise<ReturnType<typeof waitForManager>> {
    const managerNumber = data.managerEmployeeNumber;
    // A manager in Concur already is never waited for.
    if (managerNumber === undefined || people.byEmployeeNumber.has(managerNumber)) return { wait: false };
    return waitForManager({
      state: 'pending',
      row: data,
      rowNumber: row,
      people,
      managerRow: await refs.rowOf(managerNumber),
      ...(deps.matchOn ? { matchOn: deps.matchOn } : {}),
    });
  }

  /**
   * The chunk's pending rows whose manager is another chunk's row still to be written wait for it,
   * asked in one round trip when the chunk starts instead of one per row. A manager among this
   * chunk's own rows is left to the row's turn (`deferToManager`): by then it is written.
   */
  async function deferForManagers(
    dropId: string,
    work: readonly LedgerRow[],
    people: LookupResult,
    refs: ChunkReferences,
  ): Promise<ChunkDeferral> {
    const inChunk = new Set(work.map((r) => r.row));
    const asks: { targetRow: number; row: number; absent: boolean }[] = [];
    for (const r of work) {
      if (r.state !== 'pending' || !r.data) continue;
      const decision = await managerWait(r.row, r.data, people, refs);
      if (decision.wait && !inChunk.has(decision.managerRow))
        asks.push({ targetRow: decision.managerRow, row: r.row, absent: decision.absent });
    }
    const answers = asks.length > 0 ? await deps.ledger.deferMany(dropId, asks) : [];
    return {
      asked: new Set(asks.map((a) => a.row)),
      waiting: new Set(asks.filter((_, i) => answers[i]).map((a) => a.row)),
    };
  }

  /**
   * Create, update or deactivate the person; `skip` when there is nothing to do for an absent
   * person, or the row is older than the last drop applied to them (`stale`); `held` when writing
   * it would pass the deactivation guard (nothing written).
   */
  async function writeIdentity(
    dropId: string,
    rowNumber: number,
    row: NormalizedRow,
    people: LookupResult,
    managerUuid: string | undefined,
    /** Where Concur's answers go to be recorded with the row's move. */
    answered: ScriptCall[],
    call: <T>(fn: () => Promise<T>) => Promise<T>,
    confirm: ConfirmDeps,
    signal: AbortSignal | undefined,
  ): Promise<
    | {
        kind: 'written';
        uuid: string;
        action: string;
        left?: boolean;
        reason?: string | undefined;
        changes?: FieldChange[];
      }
    | { kind: 'skip'; reason: string; stale?: true; uuid?: string }
    | { kind: 'held' }
  > {
    /** The write for a present person, once they are claimed for this row's as-of. */
    const decideFor = async (existing: ConcurUser | undefined, createdEarlier = false) => {
      const claim =
        existing && row.asOf !== undefined && deps.asOf ? await deps.asOf.claim(existing.id, row.asOf) : undefined;
      return decideWrite(row, existing, managerUuid, createdEarlier, claim?.stale ? claim.last : undefined);
    };
    let step = await decideFor(findExisting(row, people, deps.matchOn));
    if (step.kind === 'create' && canCreate(row)) {
      try {
        const created = await call(() =>
          deps.identity.create(
            toCreateBody(row, { companyId: deps.companyId, ...(managerUuid ? { managerUuid } : {}) }),
          ),
        );
        // The person is new: no later as-of can be recorded, so the claim's answer is not needed.
        recordAnswer(answered, created);
        if (row.asOf !== undefined && deps.asOf) answered.push(deps.asOf.claimCall(created.id, row.asOf));
        return { kind: 'written', uuid: created.id, action: 'create' };
      } catch (err) {
        // A uniqueness 409: the person exists (often our own create whose answer was lost). Found
        // once search catches up, read by id, then updated: never a second user.
        if (concurErrorKind(err) !== 'conflict' || !isProvError(err)) throw err;
        step = await decideFor(await resolveCreateConflict(row, err, confirm, signal), true);
      }
    }
    if (step.kind === 'skip') return step;
    if (step.kind === 'fail') throw step.error;
    if (step.kind === 'keep') return { ...step, kind: 'written' };
    if (step.kind !== 'patch') throw new Error('a present person is patched or unchanged');
    const { existing, changes } = step.decision;
    const action = step.action;
    if (step.decision.reactivating && (await reactivationHolds(dropId, rowNumber))) return { kind: 'held' };
    // Recorded before sending: a PATCH whose answer is lost may still have been applied.
    await deps.recent?.remember(existing.id);
    try {
      const patched = await call(() =>
        deps.identity.patch(existing.id, {
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: toPatchOperations(changes),
        }),
      );
      recordAnswer(answered, patched);
    } catch (err) {
      const renaming = changes.some((c) => c.path === 'userName');
      if (!renaming || concurErrorKind(err) !== 'conflict' || !isProvError(err)) throw err;
      await resolveRenameConflict(row, err, confirm, signal);
    }
    return { kind: 'written', uuid: existing.id, action, changes: changes.map(fieldChange) };
  }

  /**
   * A reference by employee number: found in Concur (look-up), or in this drop (wait for that
   * row's uuid), or missing. Waiting registers this row to be released by the target's transition.
   */
  async function resolveReference(
    row: number,
    employeeNumber: string,
    people: LookupResult,
    refs: ChunkReferences,
  ): Promise<Reference> {
    const known = { employeeNumber, people, rowNumber: row };
    if (people.byEmployeeNumber.has(employeeNumber)) return reference({ ...known, targetRow: undefined });
    const targetRow = await refs.rowOf(employeeNumber);
    const answer =
      targetRow === undefined || targetRow === row ? undefined : await refs.waitFor(employeeNumber, targetRow, row);
    return reference({ ...known, targetRow, ...(answer ? { answer } : {}) });
  }

  /** After registering a wait, look again: the target may have got its uuid in between. */
  async function recheckWait(
    dropId: string,
    row: number,
    employeeNumber: string,
    refs: ChunkReferences,
  ): Promise<number[]> {
    const targetRow = await refs.rowOf(employeeNumber);
    if (targetRow === undefined) return [row];
    const res = await deps.ledger.waitFor(dropId, targetRow, row);
    return 'waiting' in res ? [] : [row];
  }

  async function fail(dropId: string, row: number, err: unknown): Promise<number[]> {
    const e = err as { message?: string; code?: string; details?: Record<string, unknown> };
    const patchOut: RowOutcome = { error: e.message ?? String(err), code: e.code ?? 'PROV_ERR_INTERNAL', absent: null };
    const messages = e.details?.messages;
    if (Array.isArray(messages) && messages.length > 0) patchOut.concurMessages = messages;
    const t = await deps.ledger.transition(dropId, row, 'identity_failed', { patch: patchOut });
    if (t.result === 'ok' && patchOut.code === 'PROV_ERR_IDENTITY_CONFLICT') await guardConflicts(dropId);
    return t.releasedWaiters;
  }

  /**
   * Counts the row's re-activation and, past the deactivation guard's limits, holds the drop
   * (docs/safety.md, deactivation threshold): true when the row must not be written now.
   */
  async function reactivationHolds(dropId: string, row: number): Promise<boolean> {
    if (!deps.activeGuard) return false;
    const counted = await deps.ledger.countReactivation(dropId, row);
    const reason = activeChangeHoldReason(counted.rows, counted.deactivations, counted.reactivations, deps.activeGuard);
    if (!reason) return false;
    const held = await deps.ledger.setStatusIf(dropId, ['running'], 'held', { reason, heldAt: Date.now() });
    if (held.changed)
      deps.log.warn({ dropId, reactivations: counted.reactivations }, 'drop held by the deactivation guard');
    return true;
  }

  /** Counts a conflict and pauses the drop when there are too many (a file keyed wrongly). */
  async function guardConflicts(dropId: string): Promise<void> {
    if (!deps.conflictGuard) return;
    const counted = await deps.ledger.countConflict(dropId);
    if (counted.status !== 'running') return;
    const reason = conflictHoldReason(counted.rows, counted.conflicts, deps.conflictGuard);
    if (!reason) return;
    const paused = await deps.ledger.setStatusIf(dropId, ['running'], 'paused', { reason, pausedAt: Date.now() });
    if (paused.changed) deps.log.warn({ dropId, conflicts: counted.conflicts }, 'drop paused by the conflict guard');
  }
}

/**
 * A job that failed every attempt: its rows that are not settled yet end `identity_failed` with
 * the job's last error, so the drop can still complete and the report says why.
 */
export async function settleFailedIdentityJob(
  ledger: Pick<RowMoves, 'transition'> & Pick<RowWaits, 'releasedWaiters' | 'forgetReleasedWaiters'>,
  job: Pick<Job, 'data'>,
  err: Error,
  requeue: IdentityProcessorDeps['requeue'],
): Promise<void> {
  const parsed = identityJobSchema.safeParse(job.data);
  if (!parsed.success) return;
  const { dropId, rows } = parsed.data;
  for (const row of rows) {
    await ledger.transition(dropId, row, 'identity_failed', {
      // The job's own code (a 503 storm ends PROV_ERR_RETRYABLE): the failure brake's advice follows it.
      patch: {
        error: `the identity job failed every attempt: ${err.message}`,
        code: isProvError(err) ? err.code : 'PROV_ERR_INTERNAL',
      },
    });
  }
  // Rows waiting for these ones go on without them (as "missing"), instead of waiting forever.
  const waiting = await ledger.releasedWaiters(dropId, rows);
  if (waiting.length === 0) return;
  await requeue(dropId, waiting);
  await ledger.forgetReleasedWaiters(dropId, rows, waiting);
}

/** GET /Users/{id} through the call's retries; undefined when Concur has no such user. */
async function getUser(
  id: string,
  call: <T>(fn: () => Promise<T>) => Promise<T>,
  identity: Pick<IdentityApi, 'get'>,
): Promise<ConcurUser | undefined> {
  try {
    return await call(() => identity.get(id));
  } catch (err) {
    if (concurErrorKind(err) === 'not_found') return undefined;
    throw err;
  }
}

/** A row whose identity has not been written: new, or deferred until its manager exists. */
function notWrittenYet(r: LedgerRow): boolean {
  return r.state === 'pending' || (r.state === 'manager_wait' && r.outcome.uuid === undefined);
}

/** A PATCH change as the report shows it: enterprise fields without their URN. */
function fieldChange(c: IdentityChange): FieldChange {
  const field = c.path.startsWith(`${ENTERPRISE_URN}:`) ? c.path.slice(ENTERPRISE_URN.length + 1) : c.path;
  return { field, old: c.old ?? null, new: c.new ?? null };
}
