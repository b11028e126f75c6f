import { randomBytes } from 'node:crypto';
import type { Queue } from 'bullmq';
import { ProvError } from '../errors.ts';
import type { Ledger } from '../ledger/ledger.ts';
import { APPROVABLE_STATUSES, CANCELLABLE_STATUSES, OPEN_STATES, type DropStatus } from '../ledger/states.ts';
import type { Logger } from '../logger.ts';
import { enqueueIdentityChunks, identityChunks } from '../queues/identity.ts';

export interface ReleaseDeps {
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
export async function enqueueOpenRows(deps: ReleaseDeps, dropId: string): Promise<{ rows: number; jobs: number }> {
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
export async function approveDrop(deps: ReleaseDeps, dropId: string): Promise<ApproveResult> {
  const now = deps.now ?? Date.now;
  const approved = await deps.ledger.approve(dropId, APPROVABLE_STATUSES, now());
  if (approved.previous === undefined) throw new ProvError('PROV_ERR_LEDGER', `Unknown drop ${dropId}`);
  if (!approved.changed) {
    throw new ProvError(
      'PROV_ERR_LEDGER',
      `drop ${dropId} is ${approved.previous}: only ${APPROVABLE_STATUSES.join(', ')} drops can be approved`,
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
  deps: ReleaseDeps,
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
