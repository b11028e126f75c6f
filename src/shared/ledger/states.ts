/**
 * Row lifecycle. Every row ends in exactly one terminal state; the ledger refuses to move a
 * row out of a terminal state, so a retried job can never count a row twice.
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
  /** Identity written, waiting for an in-drop manager to exist before the manager link. */
  'manager_wait',
  /** Identity in place; extension data waits for the extension stage. */
  'identity_done',
  /** Taken into an extension batch; the Bulk request may or may not have been sent. */
  'extension_batched',
  /** Bulk accepted: has a provision id; waiting for the status stage. */
  'extension_submitted',
] as const;

export type TerminalState = (typeof TERMINAL_STATES)[number];
export type ActiveState = (typeof ACTIVE_STATES)[number];
export type RowState = TerminalState | ActiveState;

export const ROW_STATES: readonly RowState[] = [...ACTIVE_STATES, ...TERMINAL_STATES];

export function isTerminal(state: string): state is TerminalState {
  return (TERMINAL_STATES as readonly string[]).includes(state);
}

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
