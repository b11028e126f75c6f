import type { Ledger } from './ledger.ts';

/*
 * The ledger by concern: each stage takes only the part it uses (docs/architecture.md#layers), so
 * a reader sees what a stage may do to a row and a test can hand it a small fake.
 */

/** Reading a drop's rows and moving them through the transition table: every stage. */
export type RowMoves = Pick<Ledger, 'getRows' | 'transition'>;

/** Rows waiting on other rows of their drop (a manager, an approver) and their release. */
export type RowWaits = Pick<
  Ledger,
  | 'deferFor'
  | 'deferMany'
  | 'waitFor'
  | 'peekReferences'
  | 'rowForEmployeeNumber'
  | 'releasedWaiters'
  | 'forgetReleasedWaiters'
>;

/** A drop's status and the guards that stop it (failure brake, conflict guard, deactivation guard). */
export type DropGuards = Pick<
  Ledger,
  'dropStatus' | 'checkBrake' | 'countConflict' | 'countReactivation' | 'setStatusIf'
>;

/** Extension batches: claiming rows for a Bulk request and recording its submission. */
export type BatchRecords = Pick<Ledger, 'claimBatch' | 'recordSubmission'>;

/** What the identity stage does to the ledger. */
export type IdentityLedger = RowMoves & RowWaits & DropGuards;

/** What the extension stage does to the ledger. */
export type ExtensionLedger = RowMoves & BatchRecords & Pick<Ledger, 'dropStatus' | 'transitionMany'>;

/** Settling a provision's rows: those still waiting on it move, per drop in one round trip. */
export type RowSettles = Pick<Ledger, 'settleProvisionRows'>;

/** What the status stage does to the ledger. */
export type StatusLedger = RowSettles;
