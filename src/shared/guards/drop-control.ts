import { randomBytes } from 'node:crypto';
import type { Queue } from 'bullmq';
import { ProvError } from '../errors.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { APPROVABLE_STATUSES, CANCELLABLE_STATUSES, OPEN_STATES, type DropStatus } from '../ledger/states.ts';
import { conflictHoldReason, deactivationHoldReason, type GuardLimits } from './limits.ts';
import type { Logger } from '../logger.ts';
import { enqueueIdentityChunks, identityChunks } from '../queues/identity.ts';

export interface DropControlDeps {
  ledger: Ledger;
  identityQueue: Pick<Queue, 'addBulk'>;
  log?: Logger;
  now?: () => number;
}

/** Re-processing any open row is safe (states.ts OPEN_STATES). */
const OPEN: ReadonlySet<string> = new Set(OPEN_STATES);

/**
 * Enqueues the drop's open rows in identity chunks. Job ids carry a nonce: a chunk whose earlier
 * job still exists (finished without work while the drop was paused) must run again.
 */
export async function enqueueOpenRows(deps: DropControlDeps, dropId: string): Promise<{ rows: number; jobs: number }> {
  const open: number[] = [];
  for await (const r of deps.ledger.iterateRowStates(dropId)) if (OPEN.has(r.state)) open.push(r.row);
  const nonce = `a${randomBytes(4).toString('hex')}`;
  const jobs = await enqueueIdentityChunks(deps.identityQueue, dropId, identityChunks(open), { nonce });
  return { rows: open.length, jobs };
}

export interface ApproveResult {
  dropId: string;
  /** The status the drop had. */
  previous: DropStatus;
  status: DropStatus;
  /** Rows enqueued for the identity stage. */
  rows: number;
}

/**
 * `provision approve DROP`: a planned, held or paused drop runs (the brake counts afresh from
 * now); a running one has its open rows enqueued again (recovery after a crash between the
 * status change and the enqueue). The status changes first, so no job finds the drop stopped.
 */
export async function approveDrop(
  deps: DropControlDeps,
  dropId: string,
  from: readonly DropStatus[] = APPROVABLE_STATUSES,
  verb = 'approved',
): Promise<ApproveResult> {
  const now = deps.now ?? Date.now;
  const approved = await deps.ledger.approve(dropId, from, now());
  if (approved.previous === undefined) throw new ProvError('PROV_ERR_LEDGER', `Unknown drop ${dropId}`);
  if (!approved.changed) {
    throw new ProvError(
      'PROV_ERR_LEDGER',
      `drop ${dropId} is ${approved.previous}: only ${from.join(', ')} drops can be ${verb}`,
      {
        details: { status: approved.previous },
      },
    );
  }
  const { rows } = approved.completed ? { rows: 0 } : await enqueueOpenRows(deps, dropId);
  const status = (await deps.ledger.dropStatus(dropId)) ?? 'running';
  deps.log?.info({ dropId, previous: approved.previous, rows }, 'drop approved');
  return { dropId, previous: approved.previous, status, rows };
}

export interface CancelResult {
  dropId: string;
  previous: DropStatus;
  status: 'cancelled';
  /** Rows this call ended as `cancelled`. */
  cancelled: number;
}

/**
 * `provision cancel DROP`: the drop ends `cancelled` and every row not settled yet ends
 * `cancelled`. The status changes first, so workers send nothing more for it; a repeat (after a
 * crash half-way) finishes the rows.
 */
export async function cancelDrop(
  deps: DropControlDeps,
  dropId: string,
  reason = 'drop cancelled by the operator',
): Promise<CancelResult> {
  const now = deps.now ?? Date.now;
  const t = now();
  const moved = await deps.ledger.setStatusIf(dropId, [...CANCELLABLE_STATUSES, 'cancelled'], 'cancelled', {
    reason,
    cancelledAt: t,
    completedAt: t,
  });
  if (moved.previous === undefined) throw new ProvError('PROV_ERR_LEDGER', `Unknown drop ${dropId}`);
  if (!moved.changed) {
    throw new ProvError(
      'PROV_ERR_LEDGER',
      `drop ${dropId} is ${moved.previous}: only ${CANCELLABLE_STATUSES.join(', ')} drops can be cancelled`,
      {
        details: { status: moved.previous },
      },
    );
  }
  const cancelled = await deps.ledger.cancelRows(dropId, reason);
  deps.log?.info({ dropId, previous: moved.previous, cancelled }, 'drop cancelled');
  return { dropId, previous: moved.previous, status: 'cancelled', cancelled };
}

/** Drop statuses an operator may pause: only a running drop has anything to stop. */
export const PAUSABLE_STATUSES: readonly DropStatus[] = ['running'];

export interface PauseResult {
  dropId: string;
  previous: DropStatus;
  status: 'paused';
}

/**
 * Pauses a running drop by hand: workers send nothing more for it (jobs in flight finish their
 * call) until it is resumed with approve. `operatorPausedAt` tells this pause from the failure
 * brake's, which sets only `pausedAt`.
 */
export async function pauseDrop(
  deps: Pick<DropControlDeps, 'ledger' | 'log' | 'now'>,
  dropId: string,
  reason = 'paused by the operator',
): Promise<PauseResult> {
  const t = (deps.now ?? Date.now)();
  const moved = await deps.ledger.setStatusIf(dropId, PAUSABLE_STATUSES, 'paused', {
    reason,
    pausedAt: t,
    operatorPausedAt: t,
  });
  if (moved.previous === undefined) throw new ProvError('PROV_ERR_LEDGER', `Unknown drop ${dropId}`);
  if (!moved.changed) {
    throw new ProvError('PROV_ERR_LEDGER', `drop ${dropId} is ${moved.previous}: only running drops can be paused`, {
      details: { status: moved.previous },
    });
  }
  deps.log?.info({ dropId }, 'drop paused by the operator');
  return { dropId, previous: moved.previous, status: 'paused' };
}

export interface RunPlannedResult {
  dropId: string;
  previous: DropStatus;
  /** `held` when the plan trips a threshold, else `running` (or `complete` with nothing to send). */
  status: DropStatus;
  /** Identity jobs enqueued. */
  jobs: number;
  /** Why the drop was held instead of run. */
  reason?: string;
}

/**
 * Runs a planned drop from its ledger rows (the file is not read again): held when it trips the
 * deactivation threshold or its plan found too many identity conflicts, else running with its
 * open rows enqueued. `changed` is false when the drop was no longer planned (someone else ran it).
 */
export async function runPlannedDrop(
  deps: DropControlDeps & { guards: GuardLimits },
  dropId: string,
): Promise<RunPlannedResult & { changed: boolean }> {
  const now = deps.now ?? Date.now;
  const view = await deps.ledger.getDrop(dropId);
  if (!view) throw new ProvError('PROV_ERR_LEDGER', `Unknown drop ${dropId}`);
  const rows = view.meta.rows ?? 0;
  const reason =
    deactivationHoldReason(rows, Number(view.meta.deactivations ?? 0), deps.guards) ??
    conflictHoldReason(rows, plannedConflicts(view.meta.plan), deps.guards);
  if (reason) {
    const held = await deps.ledger.setStatusIf(dropId, ['planned'], 'held', { reason, heldAt: now() });
    if (!held.changed)
      return { dropId, changed: false, previous: held.previous ?? 'held', status: held.previous ?? 'held', jobs: 0 };
    deps.log?.warn({ dropId, reason }, 'planned drop held for approval');
    return { dropId, changed: true, previous: 'planned', status: 'held', jobs: 0, reason };
  }
  const released = await deps.ledger.approve(dropId, ['planned'], now());
  if (!released.changed) {
    const status = released.previous ?? 'running';
    return { dropId, changed: false, previous: status, status, jobs: 0 };
  }
  const { jobs } = released.completed ? { jobs: 0 } : await enqueueOpenRows(deps, dropId);
  deps.log?.info({ dropId, jobs }, 'planned drop running');
  return {
    dropId,
    changed: true,
    previous: 'planned',
    status: (await deps.ledger.dropStatus(dropId)) ?? 'running',
    jobs,
  };
}

/** The identity conflicts a stored plan found (0 without a plan). */
export function plannedConflicts(plan: string | undefined): number {
  if (!plan) return 0;
  try {
    const counts = JSON.parse(plan) as { conflict?: unknown };
    return typeof counts.conflict === 'number' ? counts.conflict : 0;
  } catch {
    return 0;
  }
}
