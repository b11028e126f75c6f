import type { DropView } from './ledger.ts';
import { FAILED_STATES, TERMINAL_STATES } from './states.ts';

/** Statuses in which no row moves until an operator acts: they show no ETA. */
const WAITING_STATUSES: ReadonlySet<string> = new Set(['planned', 'held', 'paused']);

/**
 * How a finished drop went, for its colour and exit code: `ok` (no row failed), `partial`
 * (some rows failed or were cancelled), `failed` (no row got through: never shown green).
 */
export type DropOutcome = 'ok' | 'partial' | 'failed';

/** A drop's progress: what `status`, the server and the drop page show. O(1) from the counters. */
export interface DropProgress {
  dropId: string;
  file: string;
  status: string;
  reason?: string;
  rows: number | undefined;
  settled: number;
  /** 0..1, undefined while the row count is unknown (still ingesting). */
  fraction: number | undefined;
  /** Rows settled per second since rows started moving (the first row a worker moved since the drop ran or was approved). */
  rowsPerSecond: number;
  /** Seconds until every row settles at the current rate; undefined when unknown or while the drop waits (planned, held, paused). */
  etaSeconds: number | undefined;
  /** Rows that failed (FAILED_STATES). */
  failed: number;
  /** Set once every row settled (complete, cancelled): whether anything got through. */
  outcome?: DropOutcome;
  counts: Record<string, number>;
  /** Counts of terminal states only. */
  states: Record<string, number>;
  createdAt: number;
  /** When rows started moving (the rate's clock): unset until a worker moved one. */
  startedAt?: number;
  ingestedAt?: number;
  completedAt?: number;
  parentDropId?: string;
}

export function dropProgress(view: DropView, now: number = Date.now()): DropProgress {
  const { meta } = view;
  const rows = meta.rows;
  const settled = view.terminal;
  // The clock starts at the first row a worker moved (startedAt, see transition.lua), not when the
  // drop was planned or held: rows settled before (invalid ones, an earlier run) are its base.
  const start = meta.startedAt;
  const base = meta.startedSettled ?? 0;
  const end = meta.completedAt ?? now;
  const rowsPerSecond = start === undefined ? 0 : Math.max(settled - base, 0) / Math.max((end - start) / 1000, 0.001);
  const remaining = rows === undefined ? undefined : Math.max(rows - settled, 0);
  const etaSeconds =
    remaining === undefined || WAITING_STATUSES.has(meta.status)
      ? undefined
      : remaining === 0
        ? 0
        : rowsPerSecond > 0
          ? remaining / rowsPerSecond
          : undefined;
  const failed = FAILED_STATES.reduce((n, s) => n + (view.counts[s] ?? 0), 0);
  const states: Record<string, number> = {};
  for (const s of TERMINAL_STATES) states[s] = view.counts[s] ?? 0;
  const progress: DropProgress = {
    dropId: meta.id,
    file: meta.file,
    status: meta.status,
    rows,
    settled,
    fraction: rows === undefined ? undefined : rows === 0 ? 1 : settled / rows,
    rowsPerSecond,
    etaSeconds,
    failed,
    counts: view.counts,
    states,
    createdAt: meta.createdAt,
  };
  if (rows !== undefined && settled >= rows && (meta.status === 'complete' || meta.status === 'cancelled'))
    progress.outcome = outcomeOf(view.counts, rows);
  if (start !== undefined) progress.startedAt = start;
  if (meta.reason) progress.reason = meta.reason;
  if (meta.ingestedAt) progress.ingestedAt = meta.ingestedAt;
  if (meta.completedAt) progress.completedAt = meta.completedAt;
  if (meta.parentDropId) progress.parentDropId = meta.parentDropId;
  return progress;
}

/** ok: no row failed or was cancelled; failed: rows there were, and none was done or unchanged. */
export function outcomeOf(counts: Record<string, number>, rows: number): DropOutcome {
  const through = (counts.done ?? 0) + (counts.unchanged ?? 0);
  const bad = FAILED_STATES.reduce((n, s) => n + (counts[s] ?? 0), 0) + (counts.cancelled ?? 0);
  if (bad === 0) return 'ok';
  return through === 0 && rows > 0 ? 'failed' : 'partial';
}
