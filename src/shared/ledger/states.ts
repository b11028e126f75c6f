/**
 * Row lifecycle (docs/architecture.md#row-lifecycle). Every row ends in exactly one terminal
 * state; the ledger refuses to move a row out of a terminal state, so a retried job can never
 * count a row twice.
 */
export const TERMINAL_STATES = [
  'done',
  'unchanged',
  'invalid',
  /** A legacy employee import line whose record type no v4 API holds (cards, bank accounts...): reported, never sent. */
  'unsupported',
  'identity_failed',
  'extension_failed',
  'timed_out',
  'cancelled',
] as const;

export const ACTIVE_STATES = [
  /** Ingested, waiting for the identity stage. */
  'pending',
  /** Waiting for an in-drop manager: not written yet, or written and waiting for the manager link. */
  'manager_wait',
  /** Identity in place; extension data waits for the extension stage. */
  'identity_done',
  /** Claimed by an extension batch; the Bulk request may or may not have been sent. */
  'extension_batched',
  /** Bulk accepted: has a provision id; waiting for the status stage. */
  'extension_submitted',
] as const;

export type TerminalState = (typeof TERMINAL_STATES)[number];
export type ActiveState = (typeof ACTIVE_STATES)[number];
export type RowState = TerminalState | ActiveState;

export const ROW_STATES: readonly RowState[] = [...ACTIVE_STATES, ...TERMINAL_STATES];

/**
 * The moves a row may make: from -> the states it may go to. The ledger's Lua checks every move
 * against this table (it is rendered into the scripts' prelude), so a move missing here is refused
 * whatever the caller asks. A move to the state a row is already in is no move: it changes nothing
 * but may add to the row's outcome. Rows start as `pending`, `invalid` or `unsupported` (ingest);
 * terminal states go nowhere.
 */
export const TRANSITIONS = {
  pending: ['manager_wait', 'identity_done', 'done', 'unchanged', 'identity_failed', 'cancelled'],
  manager_wait: ['identity_done', 'done', 'unchanged', 'identity_failed', 'cancelled'],
  identity_done: ['extension_batched', 'identity_failed', 'cancelled'],
  // Back to identity_done: the drop stopped (brake, hold) before the Bulk went; approve picks it up.
  extension_batched: ['extension_submitted', 'identity_done', 'done', 'extension_failed', 'cancelled'],
  extension_submitted: ['done', 'extension_failed', 'timed_out', 'cancelled'],
  done: [],
  unchanged: [],
  invalid: [],
  unsupported: [],
  identity_failed: [],
  extension_failed: [],
  timed_out: [],
  cancelled: [],
} as const satisfies Record<RowState, readonly RowState[]>;

/** The states ingest records rows in; every later state is reached through the table. */
export const INITIAL_STATES = ['pending', 'invalid', 'unsupported'] as const satisfies readonly RowState[];

/** Whether the table lets a row move from `from` to `to` (a different state). */
export function canMove(from: RowState, to: RowState): boolean {
  return (TRANSITIONS[from] as readonly RowState[]).includes(to);
}

export function isTerminal(state: string): state is TerminalState {
  return (TERMINAL_STATES as readonly string[]).includes(state);
}

/*
 * Groups of row states, defined here once for every reader (CLI, server, drop page, replay, the
 * failure brake, approve).
 */

/** Rows that failed: the drop page's and the CLI summary's `failed`, the rows the page lists by default. */
export const FAILED_STATES = ['invalid', 'identity_failed', 'extension_failed', 'timed_out'] as const;

/**
 * Rows that failed or were cancelled: `ingest --wait` exits 1 when a drop ends with any
 * (docs/errors.md#exit-codes). Cancelled rows are not `failed` (the CLI summary and the drop page
 * count FAILED_STATES) but were not provisioned either.
 */
export const NOT_PROVISIONED_STATES = [...FAILED_STATES, 'cancelled'] as const;

/** Rows that failed after they were sent (or at the deadline): what `provision replay` re-runs by default. */
export const REPLAYABLE_STATES = ['identity_failed', 'extension_failed', 'timed_out'] as const;

/** Terminal rows that were never sent to Concur: the failure brake leaves them out of the rows it judges. */
export const NEVER_SENT_STATES = ['invalid', 'unsupported', 'cancelled'] as const;

/** The failures the failure brake counts: rows Concur (or its deadline) failed. */
export const BRAKE_FAILED_STATES = REPLAYABLE_STATES;

/**
 * Rows the identity stage still owes work (never started, waiting for a manager, or waiting for a
 * reference before the extension hand-off): what approve and the stranded-rows repair enqueue.
 */
export const OPEN_STATES = ['pending', 'manager_wait', 'identity_done'] as const;

/** Terminal states whose record is forgotten: replay only re-runs failures, which keep theirs. */
export const RECORD_FORGOTTEN_STATES = ['done', 'unchanged', 'cancelled'] as const;

/**
 * Drop lifecycle. `planned`: recorded by `ingest --plan`, nothing enqueued; `held`: over a
 * deactivation threshold, nothing enqueued; `paused`: the failure brake stopped the workers. All
 * three wait for `provision approve` (or end with `provision cancel`).
 */
export const DROP_STATUSES = [
  'ingesting',
  'running',
  'held',
  'paused',
  'complete',
  'cancelled',
  'rejected',
  'planned',
] as const;
export type DropStatus = (typeof DROP_STATUSES)[number];

/** Drops whose rows will not change again: the only ones `provision prune` may delete. */
export const FINISHED_STATUSES: ReadonlySet<DropStatus> = new Set<DropStatus>(['complete', 'cancelled', 'rejected']);

/** Drop statuses in which workers send nothing: the rows wait for `approve` (or end with `cancel`). */
export const STOPPED_STATUSES: ReadonlySet<string> = new Set<DropStatus>([
  'planned',
  'held',
  'paused',
  'cancelled',
  'rejected',
]);

/** Drop statuses `provision approve` takes (running: re-enqueue rows after a crash). */
export const APPROVABLE_STATUSES: readonly DropStatus[] = ['planned', 'held', 'paused', 'running'];

/** Drop statuses `provision cancel` ends. */
export const CANCELLABLE_STATUSES: readonly DropStatus[] = ['planned', 'held', 'paused', 'running'];
