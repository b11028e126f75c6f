import { ProvError } from '../errors.ts';
import type { Actor, Decision, DecisionAction } from '../ledger/decisions.ts';
import type { DropStatus } from '../ledger/states.ts';
import type { GuardLimits } from './limits.ts';
import { approveDrop, cancelDrop, pauseDrop, runPlannedDrop, type DropControlDeps } from './drop-control.ts';

export interface DecideDeps extends DropControlDeps {
  /** The deactivation and conflict thresholds a planned drop is run against. */
  guards: GuardLimits;
}

export interface DecideResult {
  dropId: string;
  previous: DropStatus;
  status: DropStatus;
  /** Rows enqueued (approve, resume), identity jobs enqueued (run) or rows cancelled (cancel). */
  rows?: number;
  /** Why a run plan was held instead (its thresholds). */
  reason?: string;
  decision: Decision;
}

/** The statuses `resume` takes: a drop the brake or an operator paused. */
const RESUMABLE: readonly DropStatus[] = ['paused'];

/**
 * Takes one decision on a drop (the same code as `provision approve` / `cancel` / `pause`) and
 * records it in the ledger with who took it, when and from where (docs/operations.md#decisions).
 * A decision the drop's status does not allow throws PROV_ERR_LEDGER and records nothing.
 */
export async function decide(
  deps: DecideDeps,
  dropId: string,
  action: DecisionAction,
  actor: Actor,
): Promise<DecideResult> {
  const now = deps.now ?? Date.now;
  let outcome: { previous: DropStatus; status: DropStatus; rows?: number; reason?: string };
  switch (action) {
    case 'approve':
      outcome = await approveDrop(deps, dropId);
      break;
    case 'resume':
      outcome = await approveDrop(deps, dropId, RESUMABLE, 'resumed');
      break;
    case 'cancel': {
      const c = await cancelDrop(deps, dropId);
      outcome = { previous: c.previous, status: c.status, rows: c.cancelled };
      break;
    }
    case 'pause':
      outcome = await pauseDrop(deps, dropId);
      break;
    case 'run': {
      const r = await runPlannedDrop(deps, dropId);
      if (!r.changed) {
        throw new ProvError('PROV_ERR_LEDGER', `drop ${dropId} is ${r.previous}: only planned drops can be run`, {
          details: { status: r.previous },
        });
      }
      outcome = { previous: r.previous, status: r.status, rows: r.jobs, ...(r.reason ? { reason: r.reason } : {}) };
      break;
    }
  }
  const decision: Decision = {
    action,
    ...actor,
    at: new Date(now()).toISOString(),
    previous: outcome.previous,
    status: outcome.status,
    ...(outcome.rows === undefined ? {} : { rows: outcome.rows }),
  };
  await deps.ledger.recordDecision(dropId, decision);
  return { dropId, ...outcome, decision };
}
